//! Rate-limit decisions, pure: is this answer a rate limit and how long to
//! wait; how long to pause before a request when the budget runs low.

use std::time::Duration;

use ghcr_types::RateLimitInfo;
use http::{HeaderMap, StatusCode};
use time::OffsetDateTime;

use super::headers;

/// What an answer means for the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Not a rate limit.
    Pass,
    /// Wait, then send again.
    Wait {
        delay: Duration,
        reset_at: Option<OffsetDateTime>,
        reason: &'static str,
    },
}

/// The minimum wait on a secondary limit without a hint (GitHub: "at least one minute").
const SECONDARY_WAIT: Duration = Duration::from_secs(60);

/// The first wait on a registry 429 without a hint.
const REGISTRY_WAIT: Duration = Duration::from_secs(1);

/// Classifies an answer. `api` is true for the GitHub REST API, whose
/// budgets are documented; `attempt` counts previous waits for this request.
pub(crate) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    api: bool,
    attempt: u32,
    now: OffsetDateTime,
) -> Verdict {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
        return Verdict::Pass;
    }
    let secondary = body.to_ascii_lowercase().contains("secondary rate limit");
    if let Some(delay) = headers::retry_after(headers, now) {
        return Verdict::Wait {
            delay,
            reset_at: None,
            reason: "Retry-After",
        };
    }
    let backoff = |base: Duration| base.saturating_mul(2u32.saturating_pow(attempt.min(10)));
    if api {
        if headers::is_exhausted(headers) {
            let reset_at = headers::reset_at(headers);
            let delay = reset_at
                .map_or(SECONDARY_WAIT, |reset| {
                    (reset - now).try_into().unwrap_or(Duration::ZERO)
                })
                .max(Duration::from_secs(1));
            return Verdict::Wait {
                delay,
                reset_at,
                reason: "primary rate limit exhausted",
            };
        }
        if secondary || status == StatusCode::TOO_MANY_REQUESTS {
            return Verdict::Wait {
                delay: backoff(SECONDARY_WAIT),
                reset_at: None,
                reason: "secondary rate limit",
            };
        }
        return Verdict::Pass;
    }
    if let Some(window) = headers::docker_hub_exhausted(headers) {
        return Verdict::Wait {
            delay: window,
            reset_at: None,
            reason: "Docker Hub's pull rate limit is spent for its window (ratelimit-remaining: 0); sign in (`ghcr login docker.io`) for a larger budget, or wait",
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS || secondary {
        let delay = headers::body_retry_after(body).unwrap_or_else(|| backoff(REGISTRY_WAIT));
        return Verdict::Wait {
            delay,
            reset_at: None,
            reason: "registry rate limit",
        };
    }
    Verdict::Pass
}

/// A pause before the next API request once `threshold` of the budget is
/// used: the time to reset spread evenly over the requests left.
pub(crate) fn throttle_delay(
    info: &RateLimitInfo,
    threshold: f64,
    now: OffsetDateTime,
) -> Option<Duration> {
    if info.used_fraction() < threshold {
        return None;
    }
    let until_reset: Duration = (info.reset - now).try_into().ok()?;
    if until_reset.is_zero() {
        return None;
    }
    if info.remaining == 0 {
        return Some(until_reset);
    }
    Some(until_reset / u32::try_from(info.remaining).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    fn wait(verdict: Verdict) -> Duration {
        match verdict {
            Verdict::Wait { delay, .. } => delay,
            Verdict::Pass => panic!("expected a wait"),
        }
    }

    #[test]
    fn api_answers() {
        let forbidden = StatusCode::FORBIDDEN;
        let primary = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000300"),
        ]);
        assert_eq!(
            wait(classify(forbidden, &primary, "", true, 0, now())),
            Duration::from_secs(300)
        );
        let hinted = headers(&[("retry-after", "30")]);
        assert_eq!(
            wait(classify(
                forbidden,
                &hinted,
                "You have exceeded a secondary rate limit",
                true,
                0,
                now()
            )),
            Duration::from_secs(30)
        );
        let none = HeaderMap::new();
        assert_eq!(
            wait(classify(
                forbidden,
                &none,
                "You have exceeded a secondary rate limit",
                true,
                0,
                now()
            )),
            Duration::from_secs(60)
        );
        assert_eq!(
            wait(classify(
                forbidden,
                &none,
                "You have exceeded a secondary rate limit",
                true,
                2,
                now()
            )),
            Duration::from_secs(240)
        );
        assert_eq!(
            classify(forbidden, &none, "Must have admin rights", true, 0, now()),
            Verdict::Pass
        );
        assert_eq!(
            classify(StatusCode::NOT_FOUND, &primary, "", true, 0, now()),
            Verdict::Pass
        );
    }

    #[test]
    fn docker_hub_answers() {
        let spent = headers(&[
            ("ratelimit-limit", "100;w=21600"),
            ("ratelimit-remaining", "0;w=21600"),
        ]);
        let too_many = StatusCode::TOO_MANY_REQUESTS;
        let verdict = classify(too_many, &spent, "toomanyrequests", false, 0, now());
        assert_eq!(wait(verdict), Duration::from_secs(21_600));
        let Verdict::Wait { reason, .. } = verdict else {
            unreachable!()
        };
        assert!(reason.contains("ghcr login docker.io"), "{reason}");
        // Budget left: an ordinary registry 429 (a short backoff).
        let left = headers(&[("ratelimit-remaining", "76;w=21600")]);
        assert_eq!(
            wait(classify(too_many, &left, "", false, 0, now())),
            Duration::from_secs(1)
        );
        let bare = headers(&[("ratelimit-remaining", "0")]);
        assert_eq!(
            wait(classify(too_many, &bare, "", false, 0, now())),
            Duration::from_secs(21_600)
        );
        let garbage = headers(&[("ratelimit-remaining", "none;w=x")]);
        assert_eq!(
            wait(classify(too_many, &garbage, "", false, 0, now())),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn registry_answers() {
        let none = HeaderMap::new();
        let body = "toomanyrequests: retry-after: 880.092µs, allowed: 44000/minute";
        assert_eq!(
            wait(classify(
                StatusCode::TOO_MANY_REQUESTS,
                &none,
                body,
                false,
                0,
                now()
            ))
            .as_micros(),
            880
        );
        assert_eq!(
            wait(classify(
                StatusCode::TOO_MANY_REQUESTS,
                &none,
                "",
                false,
                3,
                now()
            )),
            Duration::from_secs(8)
        );
        assert_eq!(
            wait(classify(
                StatusCode::FORBIDDEN,
                &none,
                "You have exceeded a secondary rate limit",
                false,
                0,
                now()
            )),
            Duration::from_secs(1)
        );
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &none, "DENIED", false, 0, now()),
            Verdict::Pass
        );
    }

    #[test]
    fn throttling_spreads_the_rest_of_the_budget() {
        let info = |remaining, used| RateLimitInfo {
            limit: 5000,
            remaining,
            used,
            reset: now() + time::Duration::seconds(1000),
            resource: "core".into(),
        };
        assert_eq!(throttle_delay(&info(2000, 3000), 0.8, now()), None);
        assert_eq!(
            throttle_delay(&info(1000, 4000), 0.8, now()),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            throttle_delay(&info(100, 4900), 0.8, now()),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            throttle_delay(&info(0, 5000), 0.8, now()),
            Some(Duration::from_secs(1000))
        );
        let past = RateLimitInfo {
            reset: now() - time::Duration::seconds(5),
            ..info(0, 5000)
        };
        assert_eq!(throttle_delay(&past, 0.8, now()), None);
    }
}
