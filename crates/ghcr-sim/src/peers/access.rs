//! The registry's access log (Apache combined format, one line a request:
//! `127.0.0.1 - - [date] "HEAD /v2/ HTTP/1.1" 200 …`) counted by method.

use std::collections::BTreeMap;

/// Requests per method in `log`; lines that are not access-log lines
/// (the registry's own errors) are skipped.
pub(super) fn count_methods(log: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in log.lines() {
        let Some((_, request)) = line.split_once("] \"") else {
            continue;
        };
        let Some((method, rest)) = request.split_once(' ') else {
            continue;
        };
        let is_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
        if is_method && rest.contains(" HTTP/") {
            *counts.entry(method.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::count_methods;

    #[test]
    fn access_lines_are_counted_by_method_and_other_lines_skipped() {
        let log = "127.0.0.1 - - [03/Dec/2026:15:50:11 +0000] \"HEAD /v2/ HTTP/1.1\" 200 2 \"\" \"curl/7.88.1\"\n\
                   time=\"2026-12-03T15:50:11Z\" level=error msg=\"response completed with error\"\n\
                   127.0.0.1 - - [03/Dec/2026:15:50:11 +0000] \"POST /v2/a/b/blobs/uploads/ HTTP/1.1\" 202 0 \"\" \"curl\"\n\
                   127.0.0.1 - - [03/Dec/2026:15:50:12 +0000] \"HEAD /v2/a/b/blobs/sha256:00 HTTP/1.1\" 404 157 \"\" \"x\"\n";
        let counts = count_methods(log);
        assert_eq!(counts.get("HEAD"), Some(&2));
        assert_eq!(counts.get("POST"), Some(&1));
        assert_eq!(counts.len(), 2, "{counts:?}");
    }
}
