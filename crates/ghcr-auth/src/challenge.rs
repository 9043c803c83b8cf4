//! `WWW-Authenticate` challenges (RFC 7235), parsed without panicking on any input.
//!
//! ```text
//! challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param = token BWS "=" BWS ( token / quoted-string )
//! ```
//! Several challenges may share one header, separated by commas, and a
//! response may carry several headers.

use crate::{Error, Result};

/// The most `WWW-Authenticate` text parsed from one response, all headers
/// together. Real challenges are a few hundred bytes (ghcr.io's about 150);
/// the limit keeps a hostile server from making us parse megabytes.
pub(crate) const MAX_CHALLENGE_LEN: usize = 16 * 1024;

/// The authentication scheme of a challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthScheme {
    /// Token authentication: fetch a token from `realm`.
    Bearer,
    /// Username and password on every request.
    Basic,
    /// Any other scheme, lowercased.
    Other(String),
}

/// One challenge with its parameters.
///
/// ```
/// use ghcr_auth::{AuthScheme, Challenge};
///
/// let header = r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:octo/app:pull""#;
/// let challenges = Challenge::parse_all([header])?;
/// assert_eq!(challenges[0].scheme, AuthScheme::Bearer);
/// assert_eq!(challenges[0].realm(), Some("https://ghcr.io/token"));
/// assert_eq!(challenges[0].scopes(), ["repository:octo/app:pull"]);
/// # Ok::<(), ghcr_auth::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme.
    pub scheme: AuthScheme,
    /// Parameters, names lowercased, values unquoted, in order.
    pub params: Vec<(String, String)>,
    /// A token68 value instead of parameters, when the challenge has one.
    pub token68: Option<String>,
}

impl Challenge {
    /// Parses every challenge of every header value.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedChallenge`] saying where and what was expected;
    /// [`Error::ChallengeTooLong`] past 16 KiB of header text.
    pub fn parse_all<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        let mut length = 0usize;
        for value in values {
            length = length.saturating_add(value.len());
            if length > MAX_CHALLENGE_LEN {
                return Err(Error::ChallengeTooLong {
                    length,
                    limit: MAX_CHALLENGE_LEN,
                });
            }
            all.extend(Parser::new(value).challenges()?);
        }
        Ok(all)
    }

    /// A parameter's value (names are matched case-insensitively).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The token endpoint of a Bearer challenge.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    /// The service to name in the token request.
    pub fn service(&self) -> Option<&str> {
        self.param("service")
    }

    /// The scopes the registry asked for (space-separated in the header).
    pub fn scopes(&self) -> Vec<&str> {
        self.param("scope")
            .map(|s| s.split_ascii_whitespace().collect())
            .unwrap_or_default()
    }

    /// The `error` parameter (`insufficient_scope`, `invalid_token`).
    pub fn error(&self) -> Option<&str> {
        self.param("error")
    }
}

struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Self {
            input,
            bytes: input.as_bytes(),
            pos: 0,
        }
    }

    fn fail<T>(&self, reason: &'static str) -> Result<T> {
        Err(Error::MalformedChallenge {
            position: self.pos,
            reason,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Skips whitespace and empty list elements (`, ,`).
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }

    fn challenges(mut self) -> Result<Vec<Challenge>> {
        let mut challenges = Vec::new();
        self.skip_separators();
        while self.peek().is_some() {
            challenges.push(self.challenge()?);
            self.skip_separators();
        }
        if challenges.is_empty() {
            return self.fail("no challenge in the header");
        }
        Ok(challenges)
    }

    fn challenge(&mut self) -> Result<Challenge> {
        let scheme = self.token();
        if scheme.is_empty() {
            return self.fail("expected an authentication scheme");
        }
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "bearer" => AuthScheme::Bearer,
            "basic" => AuthScheme::Basic,
            other => AuthScheme::Other(other.to_owned()),
        };
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
            token68: None,
        };
        if !matches!(self.peek(), Some(b' ' | b'\t')) {
            // A bare scheme, followed by the end or by a comma and the next challenge.
            return match self.peek() {
                None | Some(b',') => Ok(challenge),
                Some(_) => self.fail("expected a space after the scheme"),
            };
        }
        self.skip_whitespace();
        if self.at_token68() {
            let start = self.pos;
            while self.peek().is_some_and(is_token68_char) {
                self.pos += 1;
            }
            while self.peek() == Some(b'=') {
                self.pos += 1;
            }
            challenge.token68 = Some(self.input[start..self.pos].to_owned());
            return Ok(challenge);
        }
        loop {
            self.skip_whitespace();
            let checkpoint = self.pos;
            let name = self.token();
            if name.is_empty() {
                break;
            }
            self.skip_whitespace();
            if self.peek() != Some(b'=') {
                // Not a parameter: the next challenge's scheme starts here.
                self.pos = checkpoint;
                break;
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = if self.peek() == Some(b'"') {
                self.quoted_string()?
            } else {
                let value = self.token();
                if value.is_empty() {
                    return self.fail("expected a token or quoted string after `=`");
                }
                value.to_owned()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            self.skip_whitespace();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.skip_separators();
                }
                Some(_) => return self.fail("expected `,` between parameters"),
            }
        }
        if challenge.params.is_empty() {
            return self.fail("expected parameters or a token68 after the scheme");
        }
        Ok(challenge)
    }

    /// A token68 (`abc123==`) is followed only by `=` padding and then the
    /// end or a comma; a parameter name is followed by `=` and a value.
    fn at_token68(&self) -> bool {
        let mut end = self.pos;
        while self.bytes.get(end).copied().is_some_and(is_token68_char) {
            end += 1;
        }
        if end == self.pos {
            return false;
        }
        while self.bytes.get(end) == Some(&b'=') {
            end += 1;
        }
        while matches!(self.bytes.get(end), Some(b' ' | b'\t')) {
            end += 1;
        }
        matches!(self.bytes.get(end), None | Some(b','))
    }

    fn quoted_string(&mut self) -> Result<String> {
        self.pos += 1; // opening quote
        let mut value = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => return self.fail("unterminated quoted string"),
                Some(b'"') => {
                    value.push_str(&self.input[start..self.pos]);
                    self.pos += 1;
                    return Ok(value);
                }
                Some(b'\\') => {
                    value.push_str(&self.input[start..self.pos]);
                    self.pos += 1;
                    let Some(escaped) = self.input[self.pos..].chars().next() else {
                        return self.fail("a backslash ends the header");
                    };
                    value.push(escaped);
                    self.pos += escaped.len_utf8();
                    start = self.pos;
                }
                Some(_) => {
                    let next = self.input[self.pos..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                    self.pos += next;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(header: &str) -> Vec<Challenge> {
        Challenge::parse_all([header]).unwrap_or_else(|err| panic!("{header}: {err}"))
    }

    #[test]
    fn ghcr_and_distribution_challenges() {
        let c = parse(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].service(), Some("ghcr.io"));
        let c = parse(
            r#"Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope""#,
        );
        assert_eq!(
            c[0].scopes(),
            ["repository:a:pull,push", "repository:b:pull"]
        );
        assert_eq!(c[0].error(), Some("insufficient_scope"));
    }

    #[test]
    fn case_whitespace_tokens_and_escapes() {
        let c = parse(
            r#"bEaReR   REALM = "https://x/t" , service=registry.local ,scope="a \"quoted\" \\ value, with comma""#,
        );
        assert_eq!(c[0].scheme, AuthScheme::Bearer);
        assert_eq!(c[0].realm(), Some("https://x/t"));
        assert_eq!(c[0].service(), Some("registry.local"));
        assert_eq!(
            c[0].param("scope"),
            Some(r#"a "quoted" \ value, with comma"#)
        );
    }

    #[test]
    fn several_challenges_in_one_header_and_across_headers() {
        let c = parse(r#"Basic realm="basic-realm", Bearer realm="https://t", service="s""#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, AuthScheme::Basic);
        assert_eq!(c[0].realm(), Some("basic-realm"));
        assert_eq!(c[1].scheme, AuthScheme::Bearer);
        assert_eq!(c[1].service(), Some("s"));
        let c = Challenge::parse_all([r#"Basic realm="a""#, r#"Bearer realm="b""#]).unwrap();
        assert_eq!(c.len(), 2);
        let c = parse("Negotiate abc123==, Basic realm=x");
        assert_eq!(c[0].token68.as_deref(), Some("abc123=="));
        assert_eq!(c[0].scheme, AuthScheme::Other("negotiate".into()));
        assert_eq!(c[1].realm(), Some("x"));
        let c = parse("Bearer");
        assert!(c[0].params.is_empty());
    }

    #[test]
    fn giant_headers_are_refused_with_the_limit() {
        let huge = format!(
            r#"Bearer realm="https://ghcr.io/token",service="{}""#,
            "x".repeat(1 << 20)
        );
        let err = Challenge::parse_all([huge.as_str()]).unwrap_err();
        assert!(
            matches!(err, Error::ChallengeTooLong { length, limit: MAX_CHALLENGE_LEN } if length == huge.len()),
            "{err}"
        );
        assert!(err.to_string().contains("16384 bytes"), "{err}");
        let many = vec![r#"Bearer realm="x""#; 1 << 16];
        let err = Challenge::parse_all(many).unwrap_err();
        assert!(matches!(err, Error::ChallengeTooLong { .. }), "{err}");
        let at_limit = format!(r#"Bearer realm="{}""#, "x".repeat(MAX_CHALLENGE_LEN - 15));
        assert_eq!(at_limit.len(), MAX_CHALLENGE_LEN);
        assert_eq!(parse(&at_limit).len(), 1);
    }

    #[test]
    fn malformed_headers_are_errors() {
        for bad in [
            "",
            "   ",
            r#"Bearer realm="unterminated"#,
            r#"Bearer realm="x" service="y""#,
            r#"Bearer realm="x\"#,
            "=realm",
            "Bearer\"x\"",
        ] {
            assert!(Challenge::parse_all([bad]).is_err(), "{bad:?} parsed");
        }
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,120}") {
            let _ = Challenge::parse_all([input.as_str()]);
        }

        /// Noise made of the characters the grammar cares about reaches
        /// far deeper into the parser than arbitrary text does.
        #[test]
        fn header_shaped_noise_never_panics(input in "[A-Za-z0-9 ,=\"\\\\/:._~+\t-]{0,80}") {
            let _ = Challenge::parse_all([input.as_str(), input.as_str()]);
        }

        #[test]
        fn generated_challenges_parse_back(
            challenges in proptest::collection::vec(
                (
                    "[A-Za-z][A-Za-z0-9-]{0,7}",
                    proptest::collection::vec(("[a-z][a-z_]{0,6}", "[ -~]{0,16}"), 1..4),
                ),
                1..4,
            ),
        ) {
            let header = challenges
                .iter()
                .map(|(scheme, params)| {
                    let params: Vec<String> = params
                        .iter()
                        .map(|(name, value)| {
                            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
                            format!("{name}=\"{escaped}\"")
                        })
                        .collect();
                    format!("{scheme} {}", params.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let parsed = Challenge::parse_all([header.as_str()]).unwrap();
            prop_assert_eq!(parsed.len(), challenges.len(), "{}", header);
            for (got, (scheme, params)) in parsed.iter().zip(&challenges) {
                let expected_scheme = match scheme.to_ascii_lowercase().as_str() {
                    "bearer" => AuthScheme::Bearer,
                    "basic" => AuthScheme::Basic,
                    other => AuthScheme::Other(other.to_owned()),
                };
                prop_assert_eq!(&got.scheme, &expected_scheme);
                prop_assert_eq!(&got.params, params);
            }
        }

        #[test]
        fn quoted_values_round_trip(value in "[ -~]{0,40}") {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            let header = format!("Bearer realm=\"{escaped}\",service=x");
            let parsed = Challenge::parse_all([header.as_str()]).unwrap();
            prop_assert_eq!(parsed[0].realm(), Some(value.as_str()));
        }
    }
}
