//! The crate's one error type, with the architecture's taxonomy:
//! authentication, authorization, not found, rate limited, server,
//! network, protocol and configuration.

mod body;

pub use body::{ErrorBody, RegistryErrorEntry};

use std::time::Duration;

use http::{Method, StatusCode, Uri};
use time::OffsetDateTime;

use crate::body::{BoxError, HttpBody, read_limited};

/// How much of an error body is read for the message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// What can go wrong sending a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry refused a freshly fetched token.
    #[error(
        "{registry} refused a fresh token for `{scope}`; check that this account may access it (a PAT needs read:packages to pull, write:packages to push, delete:packages to delete)"
    )]
    #[non_exhaustive]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The scopes the token held.
        scope: String,
    },

    /// Credentials or a token could not be obtained.
    #[error(transparent)]
    Auth(#[from] ghcr_auth::Error),

    /// The server refused the request (401 or 403).
    #[error(
        "{method} {url} was refused ({status}): {body}; check the credentials and their permissions"
    )]
    #[non_exhaustive]
    Denied {
        /// The method.
        method: Method,
        /// The URL without its query.
        url: String,
        /// 401 or 403.
        status: u16,
        /// What the server said.
        body: Box<ErrorBody>,
    },

    /// Nothing at that URL (404).
    #[error(
        "{method} {url} found nothing (404): {body}; on ghcr.io a private package you may not read also answers 404"
    )]
    #[non_exhaustive]
    NotFound {
        /// The method.
        method: Method,
        /// The URL without its query.
        url: String,
        /// What the server said.
        body: Box<ErrorBody>,
    },

    /// A rate limit that lasts longer than the configured maximum wait.
    #[error("rate limited by {host}{}; {message}", reset_at.map(|t| format!(" until {t}")).unwrap_or_default())]
    #[non_exhaustive]
    RateLimited {
        /// The host that limited us.
        host: String,
        /// When the budget resets, when known.
        reset_at: Option<OffsetDateTime>,
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// What to do about it.
        message: String,
    },

    /// A server error that outlasted the retries.
    #[error(
        "{method} {url} failed with {status} after {attempts} attempt(s): {body}; the server is struggling, try again later"
    )]
    #[non_exhaustive]
    Server {
        /// The method.
        method: Method,
        /// The URL without its query.
        url: String,
        /// The last status.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// What the server said.
        body: Box<ErrorBody>,
    },

    /// Any other unexpected status: the server understood and refused
    /// (400 bad request, 405 unsupported, 416 range, …).
    #[error("{method} {url} answered {status}: {body}")]
    #[non_exhaustive]
    Status {
        /// The method.
        method: Method,
        /// The URL without its query.
        url: String,
        /// The status.
        status: u16,
        /// What the server said.
        body: Box<ErrorBody>,
    },

    /// The request failed before an answer arrived.
    #[error("request to {url} failed before an answer arrived")]
    #[non_exhaustive]
    Network {
        /// The URL without its query.
        url: String,
        /// The connection's error.
        #[source]
        source: BoxError,
    },

    /// No answer within the time limit.
    #[error(
        "{url} did not answer within {} s; raise GHCR_TIMEOUT_SECS (or GHCR_UPLOAD_TIMEOUT_SECS for uploads) on a slow network",
        after.as_secs_f64()
    )]
    #[non_exhaustive]
    Timeout {
        /// The URL without its query.
        url: String,
        /// The limit.
        after: Duration,
    },

    /// The body stopped arriving: nothing for longer than the idle timeout.
    #[error(
        "{url} sent no body data for {} s (the transport's idle timeout); the server or network stalled, try again, or raise GHCR_TIMEOUT_SECS on a slow network",
        after.as_secs_f64()
    )]
    #[non_exhaustive]
    Stalled {
        /// The URL without its query.
        url: String,
        /// The idle timeout.
        after: Duration,
    },

    /// A redirect that must not be followed.
    #[error("refused to follow the redirect from {url}: {reason}")]
    #[non_exhaustive]
    Redirect {
        /// Where the redirect came from, without query.
        url: String,
        /// Why.
        reason: &'static str,
    },

    /// The transport is configured in a way that cannot work.
    #[error("transport configuration: {reason}")]
    #[non_exhaustive]
    Config {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// The server answered something that does not follow the protocol.
    #[error("protocol error from {url}: {reason}")]
    #[non_exhaustive]
    Protocol {
        /// The URL without its query.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

impl Error {
    /// Turns an unsuccessful response into an error, reading (a bounded
    /// amount of) its body for the server's message.
    pub async fn from_response(
        method: &Method,
        url: &Uri,
        response: http::Response<HttpBody>,
    ) -> Self {
        let status = response.status();
        let attempts = response
            .extensions()
            .get::<crate::Attempts>()
            .map_or(1, |a| a.0);
        let bytes = read_limited(response.into_body(), ERROR_BODY_LIMIT)
            .await
            .unwrap_or_default();
        Self::from_parts(method, url, status, &bytes, attempts)
    }

    /// Classifies a status and body.
    pub fn from_parts(
        method: &Method,
        url: &Uri,
        status: StatusCode,
        body: &[u8],
        attempts: u32,
    ) -> Self {
        let body = Box::new(ErrorBody::parse(body));
        let method = method.clone();
        let host = host_and_port(url);
        let url = redact_url(url);
        match status.as_u16() {
            401 | 403 => Self::Denied {
                method,
                url,
                status: status.as_u16(),
                body,
            },
            404 => Self::NotFound { method, url, body },
            429 => Self::RateLimited {
                host,
                reset_at: None,
                retry_after: None,
                message: body.to_string(),
            },
            500..=599 => Self::Server {
                method,
                url,
                status: status.as_u16(),
                attempts,
                body,
            },
            _ => Self::Status {
                method,
                url,
                status: status.as_u16(),
                body,
            },
        }
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        let code = match self {
            Self::Denied { status, .. }
            | Self::Server { status, .. }
            | Self::Status { status, .. } => *status,
            Self::NotFound { .. } => 404,
            Self::RateLimited { .. } => 429,
            Self::Unauthorized { .. } => 401,
            _ => return None,
        };
        StatusCode::from_u16(code).ok()
    }

    /// The parsed error body, when the server sent one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Self::Denied { body, .. }
            | Self::NotFound { body, .. }
            | Self::Server { body, .. }
            | Self::Status { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The first OCI error code (`MANIFEST_UNKNOWN`, `DIGEST_INVALID`), when any.
    pub fn registry_code(&self) -> Option<&str> {
        self.body().and_then(ErrorBody::first_code)
    }

    /// Turns an error from inside the stack into this type.
    pub(crate) fn from_box(error: BoxError, url: &Uri) -> Self {
        match error.downcast::<Self>() {
            Ok(error) => *error,
            Err(error) => match error.downcast::<crate::timeout::Elapsed>() {
                Ok(elapsed) => Self::Timeout {
                    url: redact_url(url),
                    after: elapsed.0,
                },
                Err(error) => Self::Network {
                    url: redact_url(url),
                    source: error,
                },
            },
        }
    }
}

/// `scheme://host[:port]/path`, without the query (blob redirects carry
/// signatures there), the fragment, or any `user:password@`.
pub fn redact_url(url: &Uri) -> String {
    match url.scheme_str() {
        Some(scheme) if url.host().is_some() => {
            format!("{scheme}://{}{}", host_and_port(url), url.path())
        }
        _ => url.path().to_owned(),
    }
}

/// `host[:port]` of a URL, never its `user:password@`: what credentials are
/// looked up by and what logs and errors may show.
pub(crate) fn host_and_port(url: &Uri) -> String {
    let host = url.host().unwrap_or_default();
    match url.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> Error {
        let url: Uri = "https://ghcr.io/v2/o/a/blobs/sha256:x?sig=secret"
            .parse()
            .unwrap();
        Error::from_parts(
            &Method::GET,
            &url,
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            3,
        )
    }

    #[test]
    fn statuses_map_to_the_taxonomy() {
        assert!(matches!(
            classify(401, ""),
            Error::Denied { status: 401, .. }
        ));
        assert!(matches!(
            classify(403, ""),
            Error::Denied { status: 403, .. }
        ));
        assert!(matches!(classify(404, ""), Error::NotFound { .. }));
        assert!(matches!(
            classify(429, ""),
            Error::RateLimited { host, .. } if host == "ghcr.io"
        ));
        assert!(matches!(
            classify(503, ""),
            Error::Server { attempts: 3, .. }
        ));
        assert!(matches!(
            classify(405, ""),
            Error::Status { status: 405, .. }
        ));
    }

    #[test]
    fn messages_carry_the_server_words_but_no_query() {
        let err = classify(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
        let text = err.to_string();
        assert!(
            text.contains("MANIFEST_UNKNOWN: manifest unknown"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(err.registry_code(), Some("MANIFEST_UNKNOWN"));
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        let github = classify(
            403,
            r#"{"message":"Must have admin rights","documentation_url":"https://docs.github.com/rest"}"#,
        );
        assert!(
            github
                .to_string()
                .contains("Must have admin rights (see https://docs.github.com/rest)")
        );
    }

    #[test]
    fn redacted_urls_keep_no_query_fragment_or_user_info() {
        for (url, shown) in [
            (
                "https://ghcr.io/v2/o/a/blobs/sha256:x?sig=secret",
                "https://ghcr.io/v2/o/a/blobs/sha256:x",
            ),
            (
                "https://octo:pat@registry.example:5000/v2/?x=1",
                "https://registry.example:5000/v2/",
            ),
            ("http://[::1]:8080/token", "http://[::1]:8080/token"),
            ("/v2/o/a/tags/list?n=10", "/v2/o/a/tags/list"),
        ] {
            assert_eq!(redact_url(&url.parse().unwrap()), shown, "{url}");
        }
    }

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 96,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
