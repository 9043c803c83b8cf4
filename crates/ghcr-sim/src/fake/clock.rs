//! The fake's wall clock: real time plus an offset a test can move, for
//! created/updated dates, the 30-day restore window, token and signed-URL
//! expiry, and rate-limit windows.

use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

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
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<Mutex<time::Duration>>,
}

impl Clock {
    /// The fake's current time, in whole seconds as GitHub reports dates.
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc().saturating_add(*self.lock());
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        let mut offset = self.lock();
        *offset = offset.saturating_add(by);
    }

    /// Sets the current time (it keeps running from there).
    pub fn set(&self, now: OffsetDateTime) {
        *self.lock() = now - OffsetDateTime::now_utc();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, time::Duration> {
        self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
