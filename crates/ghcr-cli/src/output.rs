//! Where results go: text or JSON on stdout, notes and errors on stderr. A
//! reader that went away (`ghcr ls … | head`) is not an error; any other
//! failure to write stdout (a full disk) is kept, and `main` turns it into
//! a failed run instead of exiting 0 with a truncated result.

use std::io::Write as _;
use std::sync::OnceLock;

use serde::Serialize;

/// The first failure to write stdout, other than a reader going away.
static WRITE_FAILURE: OnceLock<String> = OnceLock::new();

/// Whether `result` wrote; a failure other than a broken pipe is kept.
fn written(result: std::io::Result<()>) -> bool {
    match result {
        Ok(()) => true,
        Err(error) => {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                let _ = WRITE_FAILURE.set(error.to_string());
            }
            false
        }
    }
}

/// Why stdout could not be written, when it could not (a broken pipe
/// excepted).
pub(crate) fn write_failure() -> Option<&'static str> {
    WRITE_FAILURE.get().map(String::as_str)
}

/// How results are printed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    json: bool,
}

// Methods rather than free functions, so that every print of a command goes
// through the one `Output` it holds.
#[allow(clippy::unused_self)]
impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether results are JSON.
    pub(crate) fn is_json(self) -> bool {
        self.json
    }

    /// A line of text on stdout.
    pub(crate) fn line(self, text: impl std::fmt::Display) {
        let mut stdout = std::io::stdout().lock();
        written(writeln!(stdout, "{text}").and_then(|()| stdout.flush()));
    }

    /// Bytes on stdout, as they are; `false` once nobody can read them (the
    /// reader went away, or the write failed: see [`write_failure`]).
    pub(crate) fn raw(self, bytes: &[u8]) -> bool {
        let mut stdout = std::io::stdout().lock();
        written(stdout.write_all(bytes).and_then(|()| stdout.flush()))
    }

    /// A JSON value on stdout.
    pub(crate) fn value(self, value: &impl Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.line(text),
            Err(error) => self.note(format!(
                "error: the result could not be written as JSON: {error}"
            )),
        }
    }

    /// The text result, or the JSON one under --json.
    pub(crate) fn result(
        self,
        text: impl FnOnce() -> String,
        json: impl FnOnce() -> serde_json::Value,
    ) {
        if self.json {
            self.value(&json());
        } else {
            let text = text();
            if !text.is_empty() {
                self.line(text.trim_end_matches('\n'));
            }
        }
    }

    /// A note on stderr: warnings, hints, progress lines.
    pub(crate) fn note(self, text: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// Error lines on stderr.
    pub(crate) fn error_lines(self, lines: &[String]) {
        let mut stderr = std::io::stderr().lock();
        for line in lines {
            let _ = writeln!(stderr, "{line}");
        }
    }
}

/// `1.5 MiB`, `512 B`.
pub(crate) fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// An RFC 3339 time in UTC to the second: `2026-12-02T19:00:55Z`, whatever
/// offset the API gave (or its debug form if it cannot be written).
pub(crate) fn time(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// `a, b` or `-` for none.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_well() {
        for (count, text) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (5 * 1024 * 1024, "5.0 MiB"),
            (3 * 1024 * 1024 * 1024, "3.0 GiB"),
            (u64::MAX, "16384.0 PiB"),
        ] {
            assert_eq!(bytes(count), text, "{count}");
        }
        assert_eq!(list(&[]), "-");
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(1_764_702_055_123_456_789)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(-7, 0, 0).unwrap());
        assert_eq!(super::time(at), "2025-12-02T19:00:55Z");
        assert_eq!(list(&["a".into(), "b".into()]), "a, b");
    }
}
