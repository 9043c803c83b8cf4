//! Exponential backoff with full jitter: attempt n waits a random time in
//! `[0, min(max, base * 2^n)]` (AWS's "full jitter", which spreads
//! synchronised clients best).

use std::time::Duration;

/// The delays between attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The ceiling of the delay after failed attempt `attempt` (0-based).
    pub(crate) fn ceiling(self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A delay after failed attempt `attempt`, scaled by `unit` in `[0, 1)`.
    pub(crate) fn delay(self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        // Float rounding can push a huge ceiling past Duration::MAX.
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * unit.clamp(0.0, 1.0))
            .map_or(ceiling, |delay| delay.min(ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(5),
        };
        let ceilings: Vec<u64> = (0..5).map(|n| backoff.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 5, 5]);
        assert_eq!(backoff.delay(2, 0.5), Duration::from_secs(2));
        assert_eq!(backoff.delay(2, 0.0), Duration::ZERO);
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn huge_settings_do_not_panic() {
        let backoff = Backoff {
            base: Duration::MAX,
            max: Duration::MAX,
        };
        assert_eq!(backoff.delay(3, 1.0), Duration::MAX);
        assert!(backoff.delay(3, 0.5) <= Duration::MAX);
    }
}
