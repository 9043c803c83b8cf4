//! Rate-limit state as GitHub reports it in `x-ratelimit-*` headers and `/rate_limit`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// One rate-limit budget at one moment.
///
/// ```
/// use ghcr_types::RateLimitInfo;
///
/// let headers = [
///     ("x-ratelimit-limit", "5000"),
///     ("x-ratelimit-remaining", "4000"),
///     ("x-ratelimit-used", "1000"),
///     ("x-ratelimit-reset", "1700000000"),
///     ("x-ratelimit-resource", "core"),
/// ];
/// let info = RateLimitInfo::from_headers(|name| {
///     headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
/// })?
/// .expect("the headers are present");
/// assert_eq!(info.remaining, 4000);
/// assert!((info.used_fraction() - 0.2).abs() < 1e-9);
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitInfo {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// Requests used in this window.
    pub used: u64,
    /// When the window resets.
    #[serde(with = "time::serde::timestamp")]
    pub reset: OffsetDateTime,
    /// The budget (`core`, `search`, `graphql`, …).
    #[serde(default = "default_resource")]
    pub resource: String,
}

fn default_resource() -> String {
    "core".to_owned()
}

impl RateLimitInfo {
    /// Reads the `x-ratelimit-*` headers through `header`, which looks a
    /// header up by lowercase name. `Ok(None)` when the response carries no
    /// rate-limit headers at all.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRateLimit`] when some are present but one is missing
    /// or not a number.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Result<Option<Self>> {
        if header("x-ratelimit-limit").is_none() && header("x-ratelimit-remaining").is_none() {
            return Ok(None);
        }
        let number = |name: &str| -> Result<u64> {
            let value = header(name).ok_or_else(|| Error::InvalidRateLimit {
                header: name.to_owned(),
                reason: "missing while other rate-limit headers are present".into(),
            })?;
            value.trim().parse().map_err(|_| Error::InvalidRateLimit {
                header: name.to_owned(),
                reason: format!("`{value}` is not a whole number"),
            })
        };
        let limit = number("x-ratelimit-limit")?;
        let remaining = number("x-ratelimit-remaining")?;
        let used = match header("x-ratelimit-used") {
            Some(_) => number("x-ratelimit-used")?,
            None => limit.saturating_sub(remaining),
        };
        let reset_seconds = number("x-ratelimit-reset")?;
        let reset = i64::try_from(reset_seconds)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| Error::InvalidRateLimit {
                header: "x-ratelimit-reset".into(),
                reason: format!("{reset_seconds} is not a representable time"),
            })?;
        Ok(Some(Self {
            limit,
            remaining,
            used,
            reset,
            resource: header("x-ratelimit-resource").map_or_else(default_resource, str::to_owned),
        }))
    }

    /// The share of the budget used, from 0 to 1.
    pub fn used_fraction(&self) -> f64 {
        if self.limit == 0 {
            1.0
        } else {
            (self.limit - self.remaining.min(self.limit)) as f64 / self.limit as f64
        }
    }

    /// Whether no request is left until the reset.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<RateLimitInfo>> {
        RateLimitInfo::from_headers(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn absent_headers_are_none() {
        assert_eq!(parse(&[]).unwrap(), None);
    }

    #[test]
    fn partial_or_bad_headers_are_errors() {
        let err = parse(&[("x-ratelimit-limit", "60")]).unwrap_err();
        assert!(err.to_string().contains("x-ratelimit-remaining"));
        let err = parse(&[
            ("x-ratelimit-limit", "60"),
            ("x-ratelimit-remaining", "x"),
            ("x-ratelimit-reset", "1"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("not a whole number"));
    }

    #[test]
    fn used_defaults_from_limit_and_remaining() {
        let info = parse(&[
            ("x-ratelimit-limit", "60"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000000"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(info.used, 60);
        assert_eq!(info.resource, "core");
        assert!(info.is_exhausted());
        assert!((info.used_fraction() - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn json_matches_github_shape() {
        let info: RateLimitInfo = serde_json::from_str(
            r#"{"limit":5000,"remaining":4999,"reset":1372700873,"used":1,"resource":"core"}"#,
        )
        .unwrap();
        assert_eq!(info.reset.unix_timestamp(), 1_372_700_873);
        assert_eq!(serde_json::to_value(&info).unwrap()["reset"], 1_372_700_873);
    }
}
