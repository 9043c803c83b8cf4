//! Pacing of writes (DELETE, restore POST) within GitHub's secondary limit:
//! at most the budget's points per minute per endpoint, a write costing 5.
//!
//! The transport already follows `x-ratelimit-*` and waits out a refusal;
//! it cannot know that a run of deletes is about to exceed the points
//! budget, so the callers that send many writes pace themselves here.

use std::time::Duration;

use tokio::time::Instant;

/// Spaces requests evenly so that no minute carries more than the budget.
#[derive(Debug)]
pub(crate) struct Pacer {
    spacing: Duration,
    next: Option<Instant>,
}

impl Pacer {
    /// Requests costing `cost` points within `points_per_minute`.
    ///
    /// The spacing is rounded up to whole milliseconds: 60 s / 180 writes is
    /// 333.33… ms, and 180 gaps of 333.333333 ms fit 181 writes in a minute.
    pub(crate) fn new(points_per_minute: u32, cost: u32) -> Self {
        let millis =
            (60_000 * u64::from(cost.max(1))).div_ceil(u64::from(points_per_minute.max(1)));
        Self {
            spacing: Duration::from_millis(millis),
            next: None,
        }
    }

    /// The time between two requests.
    #[cfg(test)]
    pub(crate) fn spacing(&self) -> Duration {
        self.spacing
    }

    /// Waits until the next request may go, and books the one after it.
    pub(crate) async fn wait(&mut self) {
        if let Some(at) = self.next {
            tokio::time::sleep_until(at).await;
        }
        self.next = Some(Instant::now() + self.spacing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_follows_the_budget() {
        for (points, cost, millis) in [
            (900, 5, 334),
            (300, 5, 1000),
            (60, 1, 1000),
            (5, 5, 60_000),
            (7, 1, 8572),
            (6_000_000, 5, 1),
        ] {
            let spacing = Pacer::new(points, cost).spacing();
            assert_eq!(spacing.as_millis(), millis, "{points} {cost}");
            // However the clock ticks, a minute never holds more than the budget.
            let writes_per_minute = points / cost;
            assert!(
                spacing * writes_per_minute >= Duration::from_secs(60),
                "{points} {cost}: {spacing:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_are_spread_and_a_minute_stays_within_budget() {
        let mut pacer = Pacer::new(900, 5);
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..400 {
            pacer.wait().await;
            sent.push(Instant::now() - start);
        }
        assert_eq!(sent[0], Duration::ZERO);
        // No 60 s window holds more than 900 points (180 writes).
        for (index, at) in sent.iter().enumerate() {
            let in_window = sent[index..]
                .iter()
                .take_while(|later| later.saturating_sub(*at) < Duration::from_secs(60))
                .count();
            assert!(in_window <= 180, "{in_window} writes from {at:?}");
        }
        // And the pacer does not wait longer than it must.
        assert_eq!(sent[399], Duration::from_millis(399 * 334));
    }

    #[tokio::test(start_paused = true)]
    async fn time_spent_elsewhere_counts() {
        let mut pacer = Pacer::new(60, 1);
        pacer.wait().await;
        tokio::time::advance(Duration::from_secs(5)).await;
        let before = Instant::now();
        pacer.wait().await;
        assert_eq!(Instant::now(), before);
    }
}
