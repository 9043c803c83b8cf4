//! Fault injection: routes, what to do to a matching request, and when.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};

/// Which requests a fault or a log count applies to: a method (or any) and
/// a path pattern where `*` matches any run of characters, `/` included
/// (`/v2/*/blobs/uploads/*` matches nested repository names too).
///
/// ```
/// use http::Method;
/// use ghcr_sim::fake::Route;
///
/// let route = Route::new(Method::PATCH, "/v2/*/blobs/uploads/*");
/// assert!(route.matches(&Method::PATCH, "/v2/octo/team/app/blobs/uploads/7"));
/// assert!(!route.matches(&Method::PUT, "/v2/octo/app/blobs/uploads/7"));
/// assert!(Route::any_method("/token").matches(&Method::GET, "/token"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    method: Option<Method>,
    pattern: String,
}

impl Route {
    /// Requests with `method` whose path matches `pattern`.
    pub fn new(method: Method, pattern: &str) -> Self {
        Self {
            method: Some(method),
            pattern: pattern.to_owned(),
        }
    }

    /// Requests with any method whose path matches `pattern`.
    pub fn any_method(pattern: &str) -> Self {
        Self {
            method: None,
            pattern: pattern.to_owned(),
        }
    }

    /// Whether a request matches.
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && glob(&self.pattern, path)
    }
}

/// `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// What a fault does to a matching request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this status and body instead of handling the request.
    Respond {
        /// The status.
        status: StatusCode,
        /// The body (sent as `application/json`).
        body: Bytes,
    },
    /// Handle the request, then answer this status instead (a gateway that
    /// lost the answer: the change is made, the client sees a failure).
    LoseAnswer {
        /// The status sent instead of the real answer.
        status: StatusCode,
    },
    /// Wait this long before handling the request (a `tokio::time::sleep`,
    /// so it passes instantly under a paused test clock).
    Delay(Duration),
    /// Send only the first bytes of the answer's body, then break the
    /// connection.
    DropAfter(u64),
    /// Flip a byte in the middle of the answer's body (a blob that no longer
    /// matches its digest).
    Corrupt,
    /// Answer 429 as ghcr.io does, with the wait as a Go duration inside the
    /// error message (`retry-after: 880.092µs, allowed: 44000/minute`).
    TooManyRequests {
        /// The wait to announce.
        retry_after: Duration,
    },
    /// Hold each request at this barrier until as many as it counts wait
    /// there, then handle them all (see [`Fault::gather`]).
    Gather(Arc<tokio::sync::Barrier>),
}

/// A fault: a route, an action, and which matching requests it hits.
///
/// ```
/// use std::time::Duration;
/// use http::{Method, StatusCode};
/// use ghcr_sim::fake::{Fault, Route};
///
/// // The second manifest PUT fails with a 500; every blob GET is slow.
/// let fail = Fault::fail(Route::new(Method::PUT, "/v2/*/manifests/*"), StatusCode::INTERNAL_SERVER_ERROR).nth(2);
/// let slow = Fault::delay(Route::new(Method::GET, "/v2/*/blobs/*"), Duration::from_secs(5));
/// // Three 429s in a row on upload starts.
/// let storm = Fault::too_many_requests(Route::new(Method::POST, "/v2/*/blobs/uploads/"), 3);
/// # let _ = (fail, slow, storm);
/// ```
#[derive(Clone, Debug)]
pub struct Fault {
    route: Route,
    action: FaultAction,
    skip: u32,
    times: Option<u32>,
    sample: Option<Sample>,
}

/// A seeded share of the matching requests: whether the n-th is hit
/// depends only on the seed and n, so a run can be told again.
#[derive(Clone, Copy, Debug)]
struct Sample {
    percent: u8,
    seed: u64,
}

impl Sample {
    fn hits(self, n: u32) -> bool {
        // splitmix64 of (seed, n): well spread for consecutive n.
        let mut x = self
            .seed
            .wrapping_add(u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        x % 100 < u64::from(self.percent)
    }
}

impl Fault {
    /// `action` on every request matching `route`.
    pub fn new(route: Route, action: FaultAction) -> Self {
        Self {
            route,
            action,
            skip: 0,
            times: None,
            sample: None,
        }
    }

    /// Answer `status` with a registry error body.
    pub fn fail(route: Route, status: StatusCode) -> Self {
        let body = format!(
            r#"{{"errors":[{{"code":"UNKNOWN","message":"injected failure: {}"}}]}}"#,
            status.canonical_reason().unwrap_or("error")
        );
        Self::new(
            route,
            FaultAction::Respond {
                status,
                body: Bytes::from(body),
            },
        )
    }

    /// Handle the request, then answer `status` instead of the real answer.
    pub fn lose_answer(route: Route, status: StatusCode) -> Self {
        Self::new(route, FaultAction::LoseAnswer { status })
    }

    /// Wait `delay` before answering.
    pub fn delay(route: Route, delay: Duration) -> Self {
        Self::new(route, FaultAction::Delay(delay))
    }

    /// Break the connection after `bytes` bytes of the answer's body.
    pub fn drop_after(route: Route, bytes: u64) -> Self {
        Self::new(route, FaultAction::DropAfter(bytes))
    }

    /// Corrupt the answer's body.
    pub fn corrupt(route: Route) -> Self {
        Self::new(route, FaultAction::Corrupt)
    }

    /// A 429 storm: the next `count` matching requests get ghcr.io's 429
    /// (with a 10 ms wait).
    pub fn too_many_requests(route: Route, count: u32) -> Self {
        Self::new(
            route,
            FaultAction::TooManyRequests {
                retry_after: Duration::from_micros(10_305),
            },
        )
        .times(count)
    }

    /// Hold the first `count` matching requests until all `count` have
    /// arrived, then handle them: a client that never has `count` of them
    /// under way at once waits forever, so a test proves concurrency by
    /// finishing (under a paused clock, a `tokio::time::timeout` around it
    /// ends a stuck run at once). Later requests pass untouched.
    ///
    /// ```
    /// use http::Method;
    /// use ghcr_sim::fake::{Fault, Route};
    ///
    /// // Four version listings must be under way at once.
    /// let four = Fault::gather(Route::new(Method::GET, "*/versions"), 4);
    /// # let _ = four;
    /// ```
    pub fn gather(route: Route, count: u32) -> Self {
        let barrier = tokio::sync::Barrier::new(usize::try_from(count).unwrap_or(usize::MAX));
        Self::new(route, FaultAction::Gather(Arc::new(barrier))).times(count)
    }

    /// Hit only the `n`-th matching request (1-based, counted from when the
    /// fault is armed), once.
    #[must_use]
    pub fn nth(mut self, n: u32) -> Self {
        self.skip = n.saturating_sub(1);
        self.times = Some(1);
        self
    }

    /// Let the first `count` matching requests through. Default: 0.
    #[must_use]
    pub fn skip(mut self, count: u32) -> Self {
        self.skip = count;
        self
    }

    /// Hit at most `count` requests. Default: every matching request.
    #[must_use]
    pub fn times(mut self, count: u32) -> Self {
        self.times = Some(count);
        self
    }

    /// Hit about `percent` % of the matching requests (capped at 100),
    /// chosen by `seed`: the same seed hits the same request numbers
    /// (transient faults for load tests). Default: every one.
    #[must_use]
    pub fn percent(mut self, percent: u8, seed: u64) -> Self {
        self.sample = Some(Sample {
            percent: percent.min(100),
            seed,
        });
        self
    }
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    seen: u32,
    fired: u32,
}

/// The fake's active faults; add more while it runs. Clones share them.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    armed: Arc<Mutex<Vec<Armed>>>,
}

impl Faults {
    /// Arms a fault.
    pub fn add(&self, fault: Fault) {
        self.lock().push(Armed {
            fault,
            seen: 0,
            fired: 0,
        });
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many times the faults fired in total.
    pub fn fired(&self) -> u32 {
        self.lock().iter().map(|armed| armed.fired).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Armed>> {
        self.armed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The actions that fire for this request, counting it.
    pub(crate) fn on_request(&self, method: &Method, path: &str) -> Vec<FaultAction> {
        let mut firing = Vec::new();
        for armed in self.lock().iter_mut() {
            if !armed.fault.route.matches(method, path) {
                continue;
            }
            armed.seen += 1;
            let due = armed.seen > armed.fault.skip
                && armed.fault.times.is_none_or(|times| armed.fired < times)
                && armed
                    .fault
                    .sample
                    .is_none_or(|sample| sample.hits(armed.seen));
            if due {
                armed.fired += 1;
                firing.push(armed.fault.action.clone());
            }
        }
        firing
    }
}

/// Formats a duration as Go's `time.Duration.String()` does: `880.092µs`,
/// `10.305ms`, `1.5s`, `2m3s`.
pub(crate) fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    let trim = |whole: u128, fraction: u128, digits: usize, unit: &str| {
        let fraction = format!("{fraction:0digits$}");
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{whole}{unit}")
        } else {
            format!("{whole}.{fraction}{unit}")
        }
    };
    if nanos == 0 {
        "0s".to_owned()
    } else if nanos < 1_000 {
        format!("{nanos}ns")
    } else if nanos < 1_000_000 {
        trim(nanos / 1_000, nanos % 1_000, 3, "µs")
    } else if nanos < 1_000_000_000 {
        trim(nanos / 1_000_000, nanos % 1_000_000, 6, "ms")
    } else {
        let seconds = nanos / 1_000_000_000;
        let fraction = nanos % 1_000_000_000;
        let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let mut text = String::new();
        if hours > 0 {
            let _ = write!(text, "{hours}h");
        }
        if hours > 0 || minutes > 0 {
            let _ = write!(text, "{minutes}m");
        }
        text.push_str(&trim(seconds, fraction, 9, "s"));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (pattern, text, expected) in [
            ("/token", "/token", true),
            ("/token", "/token2", false),
            ("/v2/*/manifests/*", "/v2/o/a/manifests/v1", true),
            (
                "/v2/*/manifests/*",
                "/v2/o/team/a/manifests/sha256:ab",
                true,
            ),
            ("/v2/*/manifests/*", "/v2/o/a/blobs/x", false),
            ("*", "", true),
            ("/v2/*", "/v2/", true),
            ("/v2/*/tags/list", "/v2/o/a/tags/list", true),
            ("/v2/*/tags/list", "/v2/o/a/tags/list/x", false),
        ] {
            assert_eq!(glob(pattern, text), expected, "{pattern} {text}");
        }
    }

    #[test]
    fn nth_skip_and_times() {
        let faults = Faults::default();
        let route = || Route::new(Method::GET, "/x");
        faults.add(Fault::corrupt(route()).nth(2));
        faults.add(
            Fault::delay(route(), Duration::from_secs(1))
                .skip(1)
                .times(2),
        );
        let fired: Vec<usize> = (0..5)
            .map(|_| faults.on_request(&Method::GET, "/x").len())
            .collect();
        assert_eq!(fired, [0, 2, 1, 0, 0]);
        assert!(faults.on_request(&Method::POST, "/x").is_empty());
        assert_eq!(faults.fired(), 3);
    }

    #[test]
    fn a_seeded_percentage_hits_the_same_requests_again() {
        let hits = |percent, seed| {
            let faults = Faults::default();
            let route = Route::new(Method::GET, "/x");
            faults.add(Fault::corrupt(route).percent(percent, seed));
            (0..1000)
                .filter(|_| !faults.on_request(&Method::GET, "/x").is_empty())
                .collect::<Vec<_>>()
        };
        let ten = hits(10, 7);
        assert!((70..=130).contains(&ten.len()), "{} of 1000", ten.len());
        assert_eq!(hits(10, 7), ten, "the seed decides");
        assert_ne!(hits(10, 8), ten);
        assert!(hits(0, 7).is_empty());
        assert_eq!(hits(200, 7).len(), 1000);
    }

    #[test]
    fn go_durations() {
        for (duration, expected) in [
            (Duration::from_nanos(880_092), "880.092µs"),
            (Duration::from_nanos(10_305_464), "10.305464ms"),
            (Duration::from_nanos(333_939_671), "333.939671ms"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_secs(123), "2m3s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_nanos(12), "12ns"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(go_duration(duration), expected);
        }
    }
}
