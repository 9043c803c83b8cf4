//! Ages and intervals as people write them: `45s`, `90m`, `12h`, `30d`, `2w`.

use std::time::Duration;

/// Parses `<number><unit>` with unit s, m, h, d or w.
///
/// # Errors
///
/// A message saying what is accepted.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => 0,
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|_| seconds_per > 0)
        .and_then(|n| n.checked_mul(seconds_per))
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is not a duration such as 45s, 90m, 12h, 30d or 2w"))
}

/// The form [`parse`] takes back: `36h`, `7d`, `2w`.
pub(crate) fn show(duration: Duration) -> String {
    ghcr::types::format_span(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        for (text, seconds) in [
            ("45s", Some(45)),
            ("90m", Some(5400)),
            (" 12h ", Some(43_200)),
            ("30d", Some(2_592_000)),
            ("2w", Some(1_209_600)),
            ("0s", None),
            ("12", None),
            ("h", None),
            ("1.5h", None),
            ("-3d", None),
            ("3y", None),
            ("99999999999999999999d", None),
            ("18446744073709551615w", None),
        ] {
            assert_eq!(parse(text).ok().map(|d| d.as_secs()), seconds, "{text}");
        }
        assert!(parse("3y").unwrap_err().contains("30d"));
    }

    #[test]
    fn durations_show() {
        // What is shown parses back to the same span.
        for seconds in [
            1,
            90,
            3600,
            5400,
            36 * 3600,
            86_400,
            7 * 86_400,
            14 * 86_400,
            93_784,
        ] {
            let shown = show(Duration::from_secs(seconds));
            assert_eq!(parse(&shown), Ok(Duration::from_secs(seconds)), "{shown}");
        }
    }
}
