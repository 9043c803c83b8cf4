//! Spans of time as the CLI's flags take them: `45s`, `90m`, `36h`, `7d`,
//! `2w`, so that what a report prints can be pasted back into a flag.

use std::time::Duration;

/// Units, largest first, with the count a span must reach to use one:
/// weeks from two on (`7d` reads better than `1w`), the others from one.
const UNITS: [(u64, &str, u64); 5] = [
    (604_800, "w", 2),
    (86_400, "d", 1),
    (3600, "h", 1),
    (60, "m", 1),
    (1, "s", 1),
];

/// `span` in the largest unit that holds it exactly: `36h`, `7d`, `2w`,
/// `90m`; fractions of a second are dropped, and nothing is `0s`.
///
/// ```
/// use std::time::Duration;
/// use ghcr_types::format_span;
///
/// assert_eq!(format_span(Duration::from_secs(36 * 3600)), "36h");
/// assert_eq!(format_span(Duration::from_secs(14 * 86_400)), "2w");
/// ```
#[must_use]
pub fn format_span(span: Duration) -> String {
    let seconds = span.as_secs();
    UNITS
        .iter()
        .find(|(size, _, least)| seconds.is_multiple_of(*size) && seconds / size >= *least)
        .map_or_else(
            || "0s".to_owned(),
            |(size, unit, _)| format!("{}{unit}", seconds / size),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_use_the_largest_exact_unit() {
        for (seconds, text) in [
            (0, "0s"),
            (45, "45s"),
            (90, "90s"),
            (5400, "90m"),
            (3600, "1h"),
            (36 * 3600, "36h"),
            (86_400, "1d"),
            (7 * 86_400, "7d"),
            (14 * 86_400, "2w"),
            (15 * 86_400, "15d"),
            (93_784, "93784s"),
        ] {
            assert_eq!(format_span(Duration::from_secs(seconds)), text, "{seconds}");
        }
        assert_eq!(format_span(Duration::from_millis(1500)), "1s");
    }
}
