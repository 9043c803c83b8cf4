//! The fake's clock: the wall time when it started, moved on by tokio's
//! clock, plus an offset a test can move. It dates created/updated times,
//! the 30-day restore window, token and signed-URL expiry, and rate-limit
//! windows.
//!
//! Following tokio's clock (not the wall clock) lets a test under
//! `#[tokio::test(start_paused = true)]` drive all of these with
//! `tokio::time::advance`, or let a paced client's sleeps move them; in a
//! running runtime it is the wall clock.

use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use tokio::time::Instant;

/// A settable clock shared by everything the fake dates.
///
/// ```
/// use std::time::Duration;
/// use ghcr_sim::fake::Clock;
///
/// let clock = Clock::default();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(31 * 24 * 3600));
/// assert!(clock.now() - before >= time::Duration::days(31));
/// clock.set(time::macros::datetime!(2024-01-01 00:00 UTC));
/// assert_eq!(clock.now().year(), 2024);
/// ```
///
/// Under a paused tokio clock it moves only with tokio's:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// use std::time::Duration;
/// use ghcr_sim::fake::Clock;
///
/// let clock = Clock::default();
/// let start = clock.now();
/// tokio::time::advance(Duration::from_secs(90)).await;
/// assert_eq!(clock.now() - start, time::Duration::seconds(90));
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Mutex<Base>>,
}

/// Where the clock started, and how far a test moved it.
#[derive(Debug)]
struct Base {
    wall: OffsetDateTime,
    at: Instant,
    offset: time::Duration,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Base {
                wall: OffsetDateTime::now_utc(),
                at: Instant::now(),
                offset: time::Duration::ZERO,
            })),
        }
    }
}

impl Base {
    /// The start's wall time moved on by tokio's clock, without the offset.
    fn running(&self) -> OffsetDateTime {
        let elapsed = time::Duration::try_from(self.at.elapsed()).unwrap_or(time::Duration::MAX);
        self.wall.saturating_add(elapsed)
    }
}

impl Clock {
    /// The fake's current time, in whole seconds as GitHub reports dates.
    pub fn now(&self) -> OffsetDateTime {
        let base = self.lock();
        let now = base.running().saturating_add(base.offset);
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        let mut base = self.lock();
        base.offset = base.offset.saturating_add(by);
    }

    /// Sets the current time (it keeps running from there).
    pub fn set(&self, now: OffsetDateTime) {
        let mut base = self.lock();
        base.offset = now - base.running();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Base> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
