//! Reading how long to wait: `Retry-After` (seconds or an HTTP date) and
//! ghcr.io's Go duration inside a 429 body (`retry-after: 880.092µs`).

use std::time::Duration;

use http::HeaderMap;
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// The `Retry-After` header as a delay from `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = PrimitiveDateTime::parse(value, format).ok()?.assume_utc();
    Some((at - now).try_into().unwrap_or(Duration::ZERO))
}

/// The `x-ratelimit-reset` header (epoch seconds) as a time.
pub(crate) fn reset_at(headers: &HeaderMap) -> Option<OffsetDateTime> {
    let seconds = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// Whether `x-ratelimit-remaining` says the budget is spent.
pub(crate) fn is_exhausted(headers: &HeaderMap) -> bool {
    headers
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
}

/// Docker Hub's pull budget when `ratelimit-remaining` says it is spent
/// (`0;w=21600`: none left in a window of 21,600 s): that window, since
/// Docker Hub names no reset time.
pub(crate) fn docker_hub_exhausted(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("ratelimit-remaining")?.to_str().ok()?;
    let mut parts = value.split(';').map(str::trim);
    if parts.next()?.parse::<u64>().ok()? != 0 {
        return None;
    }
    let window = parts
        .find_map(|part| part.strip_prefix("w="))
        .and_then(|seconds| seconds.parse::<u64>().ok())
        .unwrap_or(DOCKER_HUB_WINDOW);
    Some(Duration::from_secs(window))
}

/// Docker Hub's documented pull window, six hours.
const DOCKER_HUB_WINDOW: u64 = 21_600;

/// GitHub's rate-limit resources (`GET /rate_limit`); any other name a
/// server sends is counted as `other`, so that neither the budgets kept nor
/// the metric labels grow with what a server makes up.
const KNOWN_RESOURCES: [&str; 14] = [
    "core",
    "search",
    "graphql",
    "integration_manifest",
    "source_import",
    "code_scanning_upload",
    "code_scanning_autofix",
    "actions_runner_registration",
    "scim",
    "dependency_snapshots",
    "dependency_sbom",
    "audit_log",
    "audit_log_streaming",
    "code_search",
];

/// `resource` if GitHub names it so, else `other`.
pub(crate) fn bounded_resource(resource: &str) -> &'static str {
    KNOWN_RESOURCES
        .into_iter()
        .find(|known| *known == resource)
        .unwrap_or("other")
}

/// The Go duration after `retry-after:` in a body, as ghcr.io sends it.
pub(crate) fn body_retry_after(body: &str) -> Option<Duration> {
    let lowered = body.to_ascii_lowercase();
    let start = lowered.find("retry-after:")? + "retry-after:".len();
    let rest = body[start..].trim_start();
    let end = rest
        .find(|c: char| c == ',' || c == '"' || c.is_whitespace())
        .unwrap_or(rest.len());
    parse_go_duration(&rest[..end])
}

/// Parses Go's `time.Duration` text: `1h2m3.5s`, `880.092µs`, `10ms`.
pub(crate) fn parse_go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return None;
        }
        let value: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_bounded() {
        for (sent, kept) in [
            ("core", "core"),
            ("search", "search"),
            ("graphql", "graphql"),
            ("Core", "other"),
            ("made-up-1", "other"),
            ("", "other"),
        ] {
            assert_eq!(bounded_resource(sent), kept, "{sent}");
        }
    }

    #[test]
    fn go_durations() {
        let table = [
            ("880.092µs", Some(Duration::from_nanos(880_092))),
            ("880.092μs", Some(Duration::from_nanos(880_092))),
            ("10.305464ms", Some(Duration::from_nanos(10_305_464))),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("1h2m3s", Some(Duration::from_secs(3723))),
            ("0", Some(Duration::ZERO)),
            ("", None),
            ("5", None),
            ("ms", None),
            ("3x", None),
            ("1..2s", None),
        ];
        for (text, expected) in table {
            let parsed = parse_go_duration(text);
            match (parsed, expected) {
                (Some(got), Some(want)) => assert!(
                    got.abs_diff(want) < Duration::from_nanos(2),
                    "{text}: {got:?}"
                ),
                (got, want) => assert_eq!(got, want, "{text}"),
            }
        }
    }

    #[test]
    fn ghcr_bodies() {
        let pull = r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"toomanyrequests: retry-after: 880.092µs, allowed: 44000/minute"}]}"#;
        assert_eq!(body_retry_after(pull).unwrap().as_micros(), 880);
        let upload = "TOOMANYREQUESTS: retry-after: 10.305464ms, allowed: 2000/minute";
        assert_eq!(body_retry_after(upload).unwrap().as_millis(), 10);
        assert_eq!(body_retry_after("slow down"), None);
    }

    #[test]
    fn retry_after_header_forms() {
        let now = OffsetDateTime::from_unix_timestamp(1_445_412_400).unwrap(); // Wed, 21 Oct 2015 07:26:40 GMT
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(80)));
        headers.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(http::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, now), None);
    }
}
