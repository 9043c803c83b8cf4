//! Token requests go through the wire service too, so that they are
//! recorded and replayed with everything else.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use ghcr_auth::{BoxFuture, TokenClient};
use http::HeaderValue;
use http::header::USER_AGENT;
use tower::ServiceExt;

use crate::body::{BoxError, full, read_limited};
use crate::wire::WireService;

/// Token answers are small; anything larger is not a token.
const TOKEN_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub(crate) struct WireTokenClient {
    pub(crate) wire: WireService,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for WireTokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireTokenClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TokenClient for WireTokenClient {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        let timeout = self.timeout;
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        // Boxed to a named type up front: rustc cannot prove the oneshot
        // future general enough over lifetimes inside the async block.
        let sent: crate::stack::ResponseFuture = Box::pin(
            self.wire
                .clone()
                .oneshot(http::Request::from_parts(parts, full(body))),
        );
        Box::pin(async move {
            let response = tokio::time::timeout(timeout, sent)
                .await
                .map_err(|_| Box::new(crate::timeout::Elapsed(timeout)) as BoxError)??;
            let (parts, body) = response.into_parts();
            let bytes = read_limited(body, TOKEN_BODY_LIMIT).await?;
            Ok(http::Response::from_parts(parts, bytes))
        })
    }
}
