//! Token requests go through the wire service too, so that they are
//! recorded and replayed with everything else.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use ghcr_auth::{BoxFuture, TokenClient};
use http::HeaderValue;
use http::header::{CONTENT_LENGTH, USER_AGENT};
use tower::ServiceExt;

use crate::body::{BoxError, full, read_limited};
use crate::error::redact_url;
use crate::idle::idle_timeout;
use crate::wire::WireService;

/// Token answers are small; anything larger is not a token.
const TOKEN_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub(crate) struct WireTokenClient {
    pub(crate) wire: WireService,
    pub(crate) user_agent: HeaderValue,
    /// The idle timeout of the answer's body. The token manager puts a
    /// total deadline on the whole fetch.
    pub(crate) idle: Duration,
}

impl fmt::Debug for WireTokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireTokenClient")
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl TokenClient for WireTokenClient {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        let idle = self.idle;
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        let uri = parts.uri.clone();
        // Boxed to a named type up front: rustc cannot prove the oneshot
        // future general enough over lifetimes inside the async block.
        let sent: crate::stack::ResponseFuture = Box::pin(
            self.wire
                .clone()
                .oneshot(http::Request::from_parts(parts, full(body))),
        );
        Box::pin(async move {
            let response = sent.await?;
            let too_large = || -> BoxError {
                Box::new(crate::Error::Protocol {
                    url: redact_url(&uri),
                    reason: format!(
                        "the token answer is larger than {} KiB, which no token is; refused",
                        TOKEN_BODY_LIMIT / 1024
                    ),
                })
            };
            let announced = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
            if announced.is_some_and(|length| length > TOKEN_BODY_LIMIT as u64) {
                return Err(too_large());
            }
            let (parts, body) = response.into_parts();
            let body = idle_timeout(body, idle, &uri);
            let bytes = read_limited(body, TOKEN_BODY_LIMIT + 1).await?;
            if bytes.len() > TOKEN_BODY_LIMIT {
                return Err(too_large());
            }
            Ok(http::Response::from_parts(parts, bytes))
        })
    }
}
