//! Which parts of a request must equal the recording, and the nearest
//! recorded request when none does.

/// What a replayed request must share with a recorded one. Default: method,
/// path, query and body (not the host, so a cassette recorded against one
/// port replays against any).
///
/// ```
/// use ghcr_sim::Matcher;
///
/// let strict = Matcher::default().with_host();
/// let loose = Matcher::default().ignore_query().ignore_body();
/// assert_ne!(strict, loose);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matcher {
    host: bool,
    query: bool,
    body: bool,
}

impl Default for Matcher {
    fn default() -> Self {
        Self {
            host: false,
            query: true,
            body: true,
        }
    }
}

impl Matcher {
    /// Also match the host and port.
    #[must_use]
    pub fn with_host(mut self) -> Self {
        self.host = true;
        self
    }

    /// Don't match the query string.
    #[must_use]
    pub fn ignore_query(mut self) -> Self {
        self.query = false;
        self
    }

    /// Don't match the body.
    #[must_use]
    pub fn ignore_body(mut self) -> Self {
        self.body = false;
        self
    }

    /// Whether bodies are compared.
    pub(crate) fn matches_body(self) -> bool {
        self.body
    }

    /// The key requests are queued under: everything matched except the body.
    pub(crate) fn key(self, method: &str, parts: &UrlParts) -> String {
        let mut key = format!("{method} ");
        if self.host {
            key.push_str(&parts.host);
        }
        key.push_str(&parts.path);
        if self.query
            && let Some(query) = &parts.query
        {
            key.push('?');
            key.push_str(query);
        }
        key
    }
}

/// A URL split the way the matcher reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UrlParts {
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
}

impl UrlParts {
    /// Splits a (redacted) URL; a URL without scheme is all path.
    pub(crate) fn parse(url: &str) -> Self {
        let (rest, query) = match url.split_once('?') {
            Some((rest, query)) => (rest, Some(query.to_owned())),
            None => (url, None),
        };
        let (host, path) = match rest.split_once("://") {
            Some((_, after)) => {
                let slash = after.find('/').unwrap_or(after.len());
                (after[..slash].to_owned(), after[slash..].to_owned())
            }
            None => (String::new(), rest.to_owned()),
        };
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path
        };
        Self { host, path, query }
    }
}

/// Edit distance between two short strings (cut at 300 characters).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(300).collect();
    let b: Vec<char> = b.chars().take(300).collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let parts = UrlParts::parse("http://127.0.0.1:5/v2/o/a/tags/list?n=2&last=b");
        for (matcher, expected) in [
            (Matcher::default(), "GET /v2/o/a/tags/list?n=2&last=b"),
            (
                Matcher::default().with_host(),
                "GET 127.0.0.1:5/v2/o/a/tags/list?n=2&last=b",
            ),
            (Matcher::default().ignore_query(), "GET /v2/o/a/tags/list"),
        ] {
            assert_eq!(matcher.key("GET", &parts), expected);
        }
        assert_eq!(UrlParts::parse("http://h").path, "/");
        assert_eq!(UrlParts::parse("/v2/?x").query.as_deref(), Some("x"));
    }

    #[test]
    fn distances() {
        for (a, b, expected) in [
            ("", "", 0),
            ("abc", "abc", 0),
            ("abc", "abd", 1),
            ("GET /v2/", "HEAD /v2/", 3),
            ("abc", "", 3),
        ] {
            assert_eq!(distance(a, b), expected, "{a} {b}");
        }
    }
}
