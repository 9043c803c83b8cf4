//! Reading loosely typed scanner JSON: trimmed, non-empty strings by pointer,
//! and predicate types compared without their scheme.

use serde_json::Value;

/// The trimmed, non-empty string at `pointer` (`/a/0/b`).
pub(crate) fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The same, owned.
pub(crate) fn owned(value: &Value, pointer: &str) -> Option<String> {
    text(value, pointer).map(str::to_owned)
}

/// Whether two predicate types name the same thing, with or without an
/// `https://` (or `http://`) scheme: cosign's code writes its own without.
pub(crate) fn same_predicate(found: &str, known: &str) -> bool {
    fn bare(text: &str) -> &str {
        text.strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .unwrap_or(text)
    }
    bare(found).eq_ignore_ascii_case(bare(known))
}
