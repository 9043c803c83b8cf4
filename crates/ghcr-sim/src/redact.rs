//! Redaction, applied before anything is kept: credentials in headers,
//! tokens in token answers and form bodies, signatures in query strings.
//!
//! The replayer applies the same rules to the requests it receives, so a
//! replayed client that follows a redacted redirect (`?sig=REDACTED`) or
//! sends `Bearer ghcr-sim-redacted-token` still matches its recording.

use bytes::Bytes;
use http::HeaderMap;

use crate::cassette::Headers;

/// What a redacted query value or cookie reads.
pub const REDACTED: &str = "REDACTED";

/// The token a redacted token answer carries; a replayed client sends it back
/// as `Bearer ghcr-sim-redacted-token`.
pub const TOKEN_MARKER: &str = "ghcr-sim-redacted-token";

/// Request headers that are noise in a fixture (they change with versions and
/// connections) and are not kept.
const DROPPED_REQUEST_HEADERS: [&str; 5] = ["user-agent", "host", "connection", "te", "keep-alive"];

/// Response headers that change on every recording and are not kept.
const DROPPED_RESPONSE_HEADERS: [&str; 4] =
    ["date", "connection", "keep-alive", "transfer-encoding"];

/// Query and form parameters whose values are signatures or credentials.
const SIGNED_PARAMS: [&str; 22] = [
    "sig",
    "signature",
    "se",
    "sp",
    "st",
    "sv",
    "sr",
    "skoid",
    "sktid",
    "skt",
    "ske",
    "sks",
    "skv",
    "token",
    "access_token",
    "refresh_token",
    "password",
    "client_secret",
    "key-pair-id",
    "policy",
    "x-goog-signature",
    "x-goog-credential",
];

/// JSON keys whose values are credentials: token answers, and login or
/// identity-token bodies.
const TOKEN_KEYS: [&str; 7] = [
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "identitytoken",
    "password",
    "client_secret",
];

fn is_signed_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-amz-") || SIGNED_PARAMS.contains(&lower.as_str())
}

/// Redacts a URL: userinfo is dropped, signed query values replaced.
pub(crate) fn url(text: &str) -> String {
    let (base, query) = match text.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (text, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => base.to_owned(),
    };
    match query {
        Some(query) => format!("{base}?{}", self::query(query)),
        None => base,
    }
}

/// Redacts the values of signed parameters in a query string.
pub(crate) fn query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_signed_param(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn redacted_credentials(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.is_empty() => format!("<redacted:{scheme}>"),
        _ => "<redacted>".to_owned(),
    }
}

/// The request headers worth keeping, redacted.
pub(crate) fn request_headers(headers: &HeaderMap) -> Headers {
    let mut kept = Headers::new();
    for (name, value) in headers {
        let name = name.as_str();
        if DROPPED_REQUEST_HEADERS.contains(&name) {
            continue;
        }
        let text = String::from_utf8_lossy(value.as_bytes());
        let value = match name {
            "authorization" | "proxy-authorization" => redacted_credentials(&text),
            "cookie" => format!("<{}>", REDACTED.to_ascii_lowercase()),
            _ => text.into_owned(),
        };
        kept.entry(name.to_owned()).or_default().push(value);
    }
    kept
}

/// The response headers worth keeping, redacted.
pub(crate) fn response_headers(headers: &HeaderMap) -> Headers {
    let mut kept = Headers::new();
    for (name, value) in headers {
        let name = name.as_str();
        if DROPPED_RESPONSE_HEADERS.contains(&name) {
            continue;
        }
        let text = String::from_utf8_lossy(value.as_bytes());
        let value = match name {
            "set-cookie" => format!("<{}>", REDACTED.to_ascii_lowercase()),
            "location" | "content-location" => url(&text),
            "link" => link(&text),
            _ => text.into_owned(),
        };
        kept.entry(name.to_owned()).or_default().push(value);
    }
    kept
}

/// Redacts every `<url>` of a Link header.
fn link(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        out.push_str(&rest[..=open]);
        out.push_str(&url(&rest[open + 1..open + close]));
        out.push('>');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Redacts a body: token values in a JSON object, credentials in a form.
/// Bodies that hold none are returned as they are (the same `Bytes`).
pub(crate) fn body(bytes: &Bytes, content_type: Option<&str>) -> Bytes {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    // A form sent without a Content-Type is still a form.
    let untyped_form = essence.is_none()
        && bytes.len() <= 64 * 1024
        && bytes.contains(&b'=')
        && !matches!(bytes.first(), Some(b'{' | b'['));
    if untyped_form || essence.as_deref() == Some("application/x-www-form-urlencoded") {
        return match std::str::from_utf8(bytes) {
            Ok(text) => {
                let redacted = form(text);
                if redacted == text {
                    bytes.clone()
                } else {
                    Bytes::from(redacted)
                }
            }
            Err(_) => bytes.clone(),
        };
    }
    json_tokens(bytes).unwrap_or_else(|| bytes.clone())
}

fn form(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_signed_param(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A token answer with its token values replaced by the marker, keeping
/// every other byte; `None` when there is nothing to replace.
fn json_tokens(bytes: &[u8]) -> Option<Bytes> {
    // Token answers are small objects; don't parse large bodies (blobs).
    if bytes.len() > 64 * 1024 || bytes.first() != Some(&b'{') {
        return None;
    }
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).ok()?;
    let mut text = std::str::from_utf8(bytes).ok()?.to_owned();
    let mut changed = false;
    for key in TOKEN_KEYS {
        if let Some(serde_json::Value::String(secret)) = object.get(key)
            && secret != TOKEN_MARKER
        {
            // Rewrite in place to keep the order and spacing of everything else.
            let encoded = serde_json::to_string(secret).ok()?;
            text = text.replace(&encoded, &format!("\"{TOKEN_MARKER}\""));
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let rewritten_is_clean = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
        &text,
    )
    .is_ok_and(|again| {
        TOKEN_KEYS.iter().all(|key| {
            again
                .get(*key)
                .is_none_or(|value| !value.is_string() || value == TOKEN_MARKER)
        })
    });
    if rewritten_is_clean {
        return Some(Bytes::from(text));
    }
    // The secret was written with escapes the in-place rewrite missed:
    // re-serialise instead (key order may change, the secret must not stay).
    for key in TOKEN_KEYS {
        if let Some(value) = object.get_mut(key)
            && value.is_string()
        {
            *value = serde_json::Value::String(TOKEN_MARKER.to_owned());
        }
    }
    serde_json::to_vec(&object).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever arrives, redaction answers, and redacting again changes
        /// nothing (the replayer redacts what the recorder already did).
        #[test]
        fn redaction_never_panics_and_is_idempotent(
            text in "(https?://([a-z]+(:[a-z]+)?@)?[a-z.]+(:[0-9]+)?)?(/[a-z%<>]*){0,3}(\\?([a-z_-]+(=[^&]*)?&?){0,4})?",
            bytes in prop::collection::vec(any::<u8>(), 0..64),
            pairs in prop::collection::vec(("(token|sig|n|password|access_token)", "[a-z0-9%=]{0,8}"), 0..4),
            content_type in prop::option::of("(application/(json|x-www-form-urlencoded)|text/plain)(; charset=utf-8)?"),
        ) {
            let once = url(&text);
            prop_assert_eq!(url(&once), once.clone());
            let linked = format!("<{text}>; rel=\"next\", <{once}>");
            prop_assert_eq!(link(&link(&linked)), link(&linked));
            let form = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            for raw in [Bytes::from(bytes), Bytes::from(form)] {
                let redacted = body(&raw, content_type.as_deref());
                prop_assert_eq!(body(&redacted, content_type.as_deref()), redacted);
            }
        }
    }

    #[test]
    fn urls() {
        for (input, expected) in [
            (
                "http://127.0.0.1:9/blobs/sha256:ab?expires=100&sig=c2VjcmV0",
                "http://127.0.0.1:9/blobs/sha256:ab?expires=100&sig=REDACTED",
            ),
            (
                "https://s3.example/b?X-Amz-Credential=AKIA&X-Amz-Signature=ff&X-Amz-Expires=300",
                "https://s3.example/b?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=REDACTED",
            ),
            (
                "https://acct.blob.core.windows.net/c/b?sv=2021&se=2030&sp=r&sig=zz&rscd=x",
                "https://acct.blob.core.windows.net/c/b?sv=REDACTED&se=REDACTED&sp=REDACTED&sig=REDACTED&rscd=x",
            ),
            (
                "https://user:pass@ghcr.io/v2/?last=a",
                "https://ghcr.io/v2/?last=a",
            ),
            (
                "/v2/o/a/tags/list?n=2&last=b",
                "/v2/o/a/tags/list?n=2&last=b",
            ),
            (
                "http://h/token?service=h&scope=repository:o/a:pull",
                "http://h/token?service=h&scope=repository:o/a:pull",
            ),
        ] {
            assert_eq!(url(input), expected, "{input}");
            assert_eq!(url(&url(input)), expected, "redaction is idempotent");
        }
    }

    #[test]
    fn credentials_in_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer s3cret".parse().unwrap());
        headers.insert("proxy-authorization", "Basic dTpw".parse().unwrap()); // u:p, an example credential
        headers.insert("cookie", "session=s3cret".parse().unwrap());
        headers.insert("user-agent", "ghcr-rs/1".parse().unwrap());
        headers.insert("accept", "application/json".parse().unwrap());
        let kept = request_headers(&headers);
        assert_eq!(kept["authorization"], ["<redacted:Bearer>"]);
        assert_eq!(kept["proxy-authorization"], ["<redacted:Basic>"]);
        assert_eq!(kept["cookie"], ["<redacted>"]);
        assert!(!kept.contains_key("user-agent"));
        assert_eq!(kept["accept"], ["application/json"]);
        let mut response = HeaderMap::new();
        response.insert(
            "location",
            "http://s/blobs/x?expires=1&sig=abc".parse().unwrap(),
        );
        response.insert("set-cookie", "a=s3cret".parse().unwrap());
        response.insert(
            "link",
            "<http://a/p?page=2&token=s3cret>; rel=\"next\", <http://a/p?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        let kept = response_headers(&response);
        assert_eq!(
            kept["location"],
            ["http://s/blobs/x?expires=1&sig=REDACTED"]
        );
        assert_eq!(kept["set-cookie"], ["<redacted>"]);
        assert_eq!(
            kept["link"],
            ["<http://a/p?page=2&token=REDACTED>; rel=\"next\", <http://a/p?page=9>; rel=\"last\""]
        );
        let all = format!("{kept:?}");
        assert!(!all.contains("s3cret"), "{all}");
    }

    #[test]
    fn token_answers_and_forms() {
        let answer = Bytes::from_static(
            br#"{"token":"s3cret","access_token":"s3cret","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}"#,
        );
        let redacted = body(&answer, Some("application/json"));
        assert_eq!(
            redacted,
            format!(
                r#"{{"token":"{TOKEN_MARKER}","access_token":"{TOKEN_MARKER}","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}}"#
            )
        );
        let form_body = Bytes::from_static(
            b"grant_type=refresh_token&refresh_token=s3cret&client_id=ghcr-rs&scope=repository%3Ao%2Fa%3Apull",
        );
        let redacted = body(&form_body, Some("application/x-www-form-urlencoded"));
        assert_eq!(
            redacted,
            "grant_type=refresh_token&refresh_token=REDACTED&client_id=ghcr-rs&scope=repository%3Ao%2Fa%3Apull"
        );
        // Without a Content-Type, a form is still redacted.
        let untyped = Bytes::from_static(b"grant_type=password&username=octo&password=s3cret");
        assert_eq!(
            body(&untyped, None),
            "grant_type=password&username=octo&password=REDACTED"
        );
        let secret = Bytes::from_static(b"client_id=c&client_secret=s3cret");
        assert_eq!(
            body(
                &secret,
                Some("application/x-www-form-urlencoded; charset=utf-8")
            ),
            "client_id=c&client_secret=REDACTED"
        );
        // A JSON login body: the password goes, the user name stays.
        let login = Bytes::from_static(br#"{"username":"octo","password":"s3cret"}"#);
        assert_eq!(
            body(&login, Some("application/json")),
            format!(r#"{{"username":"octo","password":"{TOKEN_MARKER}"}}"#)
        );
        // Escaped secrets are caught too.
        let escaped = Bytes::from_static(br#"{"token":"s3\/cret"}"#);
        let redacted = body(&escaped, None);
        assert!(
            !String::from_utf8_lossy(&redacted).contains("cret"),
            "{redacted:?}"
        );
        // Other bodies are left alone, without a copy.
        let manifest = Bytes::from_static(br#"{"schemaVersion":2}"#);
        assert_eq!(body(&manifest, None).as_ptr(), manifest.as_ptr());
        let blob = Bytes::from(vec![0u8; 10]);
        assert_eq!(body(&blob, None), blob);
    }
}
