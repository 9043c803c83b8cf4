//! One token request: the docker token protocol (GET with Basic credentials,
//! or the OAuth form POST for identity tokens) and its answer.

use std::time::Duration;

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::SecretString;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{MAX_LIFETIME, TokenClient, TokenRealm};
use crate::{Credentials, Error, Result, ScopeSet};

/// Query values keep only unreserved characters as they are.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The client id docker's OAuth flow asks for.
const CLIENT_ID: &str = "ghcr-rs";

/// Secrets stay out of `Debug` (`SecretString` prints as redacted).
#[derive(Debug)]
pub(super) struct Fetched {
    pub(super) token: SecretString,
    pub(super) lifetime: Option<Duration>,
}

/// The token spec's minimum lifetime: "a token should never be returned
/// with less than 60 seconds to live", and docker's client raises shorter
/// ones to it.
const MIN_LIFETIME: Duration = Duration::from_secs(60);

/// The lifetime fields are read leniently: a token whose `expires_in` is
/// `300.0` or `"300"`, or whose `issued_at` is not RFC 3339, is still a token.
#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    issued_at: Option<serde_json::Value>,
}

impl TokenResponse {
    /// Whole seconds, when `expires_in` is a non-negative number (or a
    /// string holding one).
    fn expires_in(&self) -> Option<u64> {
        let seconds = match self.expires_in.as_ref()? {
            serde_json::Value::Number(number) => number.as_f64()?,
            serde_json::Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        // `as` saturates: a lifetime past u64::MAX seconds is capped later.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        (seconds.is_finite() && seconds >= 0.0).then_some(seconds as u64)
    }

    fn issued_at(&self) -> Option<OffsetDateTime> {
        let text = self.issued_at.as_ref()?.as_str()?;
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
    }
}

#[derive(Deserialize)]
struct RegistryErrors {
    errors: Vec<RegistryError>,
}

#[derive(Deserialize)]
struct RegistryError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

pub(super) async fn fetch(
    client: &dyn TokenClient,
    registry: &str,
    realm: &TokenRealm,
    scopes: &ScopeSet,
    credentials: Option<&Credentials>,
) -> Result<Fetched> {
    let request = build(realm, scopes, credentials)?;
    let response = client
        .send(request)
        .await
        .map_err(|source| Error::TokenRequest {
            realm: realm.display().to_owned(),
            source,
        })?;
    read(response, registry, realm, scopes)
}

fn build(
    realm: &TokenRealm,
    scopes: &ScopeSet,
    credentials: Option<&Credentials>,
) -> Result<http::Request<Bytes>> {
    let bad_realm = || Error::UnsafeRealm {
        realm: realm.display().to_owned(),
        reason: "it is not a URL",
    };
    let mut params = Vec::new();
    if let Some(service) = realm.service() {
        params.push(format!("service={}", encode(service)));
    }
    if let Some(refresh) = credentials.and_then(Credentials::refresh_token) {
        // OAuth2 refresh-token grant, as docker uses for identity tokens.
        params.push(format!("client_id={CLIENT_ID}"));
        params.push("grant_type=refresh_token".to_owned());
        params.push(format!("refresh_token={}", encode(refresh)));
        let scope = scopes.to_string();
        if !scope.is_empty() {
            params.push(format!("scope={}", encode(&scope)));
        }
        return http::Request::post(realm.realm())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Bytes::from(params.join("&")))
            .map_err(|_| bad_realm());
    }
    for scope in scopes.iter() {
        params.push(format!("scope={}", encode(&scope.to_string())));
    }
    let separator = if realm.realm().contains('?') {
        '&'
    } else {
        '?'
    };
    let url = if params.is_empty() {
        realm.realm().to_owned()
    } else {
        format!("{}{separator}{}", realm.realm(), params.join("&"))
    };
    let mut builder = http::Request::get(url);
    if let Some(header) = credentials.and_then(Credentials::basic_authorization) {
        builder = builder.header(http::header::AUTHORIZATION, header);
    }
    builder.body(Bytes::new()).map_err(|_| bad_realm())
}

fn read(
    response: http::Response<Bytes>,
    registry: &str,
    realm: &TokenRealm,
    scopes: &ScopeSet,
) -> Result<Fetched> {
    let status = response.status();
    let body = response.into_body();
    if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
        return Err(Error::AuthFailed {
            registry: registry.to_owned(),
            scope: scopes.to_string(),
            message: error_message(&body).unwrap_or_else(|| format!("HTTP {status}")),
        });
    }
    if !status.is_success() {
        return Err(Error::TokenEndpoint {
            realm: realm.display().to_owned(),
            status: status.as_u16(),
            message: error_message(&body).unwrap_or_else(|| "no error message".to_owned()),
        });
    }
    let parsed: TokenResponse =
        serde_json::from_slice(&body).map_err(|_| Error::TokenEndpoint {
            realm: realm.display().to_owned(),
            status: status.as_u16(),
            message: "the answer is not a token JSON object".to_owned(),
        })?;
    let lifetime = lifetime(
        parsed.expires_in(),
        parsed.issued_at(),
        OffsetDateTime::now_utc(),
    );
    let token = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| Error::TokenEndpoint {
            realm: realm.display().to_owned(),
            status: status.as_u16(),
            message: "the answer has neither `token` nor `access_token`".to_owned(),
        })?;
    Ok(Fetched {
        token: SecretString::from(token),
        lifetime,
    })
}

/// `expires_in`, raised to the spec's 60 s minimum and capped at
/// [`MAX_LIFETIME`], counted from `issued_at` when that is plausible (so a
/// token that spent time in transit is not trusted for longer than it
/// lives). An `issued_at` in our future, or older than the whole lifetime,
/// says the clocks disagree; the plain lifetime is trusted then.
fn lifetime(
    expires_in: Option<u64>,
    issued_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<Duration> {
    let expires_in = Duration::from_secs(expires_in?).clamp(MIN_LIFETIME, MAX_LIFETIME);
    let Some(issued_at) = issued_at else {
        return Some(expires_in);
    };
    let elapsed = now - issued_at;
    if elapsed.is_negative() || elapsed.unsigned_abs() >= expires_in {
        return Some(expires_in);
    }
    Some(expires_in.saturating_sub(elapsed.unsigned_abs()))
}

/// The registry's message from `{"errors":[…]}`, or a short plain-text body.
fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(parsed) = serde_json::from_slice::<RegistryErrors>(body) {
        let first = parsed.errors.into_iter().next()?;
        return Some(match (first.code.is_empty(), first.message.is_empty()) {
            (false, false) => format!("{}: {}", first.code, first.message),
            (true, false) => first.message,
            (false, true) => first.code,
            (true, true) => return None,
        });
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty() && !text.starts_with('{') && !text.starts_with('<'))
        .then(|| text.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;

    #[test]
    fn get_request_carries_service_scopes_and_basic_auth() {
        let realm = TokenRealm::new("https://ghcr.io/token", Some("ghcr.io".into()));
        let scopes = ScopeSet::mount("octo/base", "octo/app");
        let creds = Credentials::basic("octo", "pat");
        let request = build(&realm, &scopes, Some(&creds)).unwrap();
        assert_eq!(request.method(), http::Method::GET);
        assert_eq!(
            request.uri().to_string(),
            "https://ghcr.io/token?service=ghcr.io&scope=repository%3Aocto%2Fapp%3Apull%2Cpush&scope=repository%3Aocto%2Fbase%3Apull"
        );
        assert!(request.headers()[http::header::AUTHORIZATION].is_sensitive());
        let anonymous = build(
            &TokenRealm::new("https://x/t?a=b", None),
            &ScopeSet::single(Scope::pull("a")),
            None,
        )
        .unwrap();
        assert_eq!(
            anonymous.uri().to_string(),
            "https://x/t?a=b&scope=repository%3Aa%3Apull"
        );
        assert!(
            anonymous
                .headers()
                .get(http::header::AUTHORIZATION)
                .is_none()
        );
    }

    #[test]
    fn identity_tokens_use_the_oauth_form() {
        let realm = TokenRealm::new("https://auth.example/token", Some("svc".into()));
        let creds = Credentials::IdentityToken {
            username: None,
            token: SecretString::from("refresh/+".to_owned()),
        };
        let request = build(&realm, &ScopeSet::single(Scope::pull("a")), Some(&creds)).unwrap();
        assert_eq!(request.method(), http::Method::POST);
        let body = String::from_utf8(request.body().to_vec()).unwrap();
        assert!(body.contains("grant_type=refresh_token"), "{body}");
        assert!(body.contains("refresh_token=refresh%2F%2B"), "{body}");
        assert!(body.contains("scope=repository%3Aa%3Apull"), "{body}");
    }

    fn answer(status: u16, body: &str) -> Result<Fetched> {
        let response = http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap();
        read(
            response,
            "ghcr.io",
            &TokenRealm::new("https://ghcr.io/token?x=secret", None),
            &ScopeSet::single(Scope::pull("o/a")),
        )
    }

    #[test]
    fn answers_table() {
        assert!(answer(200, r#"{"token":"t"}"#).unwrap().lifetime.is_none());
        assert_eq!(
            answer(200, r#"{"access_token":"t","expires_in":300}"#)
                .unwrap()
                .lifetime,
            Some(Duration::from_secs(300))
        );
        assert!(answer(200, r#"{"token":"","access_token":"t"}"#).is_ok());
        let err = answer(200, r#"{"expires_in":3}"#).unwrap_err().to_string();
        assert!(err.contains("neither"), "{err}");
        let err = answer(200, "<html>").unwrap_err().to_string();
        assert!(err.contains("not a token JSON"), "{err}");
        let err = answer(403, r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#)
            .unwrap_err();
        assert!(matches!(err, Error::AuthFailed { .. }));
        let text = err.to_string();
        assert!(
            text.contains("DENIED: requested access to the resource is denied"),
            "{text}"
        );
        assert!(text.contains("repository:o/a:pull"), "{text}");
        let err = answer(500, "upstream broke").unwrap_err().to_string();
        assert!(
            err.contains("500") && err.contains("upstream broke") && !err.contains("secret"),
            "{err}"
        );
    }

    #[test]
    fn lifetime_counts_from_issued_at() {
        let now = OffsetDateTime::from_unix_timestamp(1_000).unwrap();
        let at = |s| Some(OffsetDateTime::from_unix_timestamp(s).unwrap());
        let secs = |s| Some(Duration::from_secs(s));
        for (expires_in, issued_at, expected) in [
            (None, at(990), None),
            (Some(300), None, secs(300)),
            // Time in transit counts against the lifetime.
            (Some(300), at(900), secs(200)),
            // Older than its whole lifetime, or from the future: the clocks
            // disagree, so trust the plain lifetime.
            (Some(300), at(500), secs(300)),
            (Some(300), at(1_100), secs(300)),
            // The spec's minimum, then the transit time.
            (Some(0), None, secs(60)),
            (Some(10), at(995), secs(55)),
            (Some(u64::MAX), None, Some(MAX_LIFETIME)),
        ] {
            assert_eq!(
                lifetime(expires_in, issued_at, now),
                expected,
                "{expires_in:?} {issued_at:?}"
            );
        }
    }
}
