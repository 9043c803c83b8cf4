//! The one place the layer order is written down.
//!
//! Outermost first, as a request travels:
//!
//! 1. trace: one span per request (method, host, path, status, attempts).
//! 2. metrics: counts, durations, bytes, errors.
//! 3. rate limit: paces the GitHub API, waits out 429s and secondary limits.
//! 4. retry: 5xx, dropped connections and timeouts, with backoff.
//! 5. redirect: follows 3xx; a hop to another origin loses its credentials.
//! 6. auth: attaches the token for the request's scope; answers a 401 once.
//! 7. timeout: limits each attempt until the response head.
//! 8. wire: body conversion, User-Agent, plain-HTTP policy, then the
//!    innermost service (hyper, or a recorder or replayer); every response
//!    body comes back wrapped in the idle timeout (`idle.rs`), so each
//!    reader above, up to the registry's blob reads, gets it.
//!
//! Retry sits outside redirect so that a failure at a storage host starts
//! again from the registry (and gets a fresh signed URL); auth sits inside
//! redirect so that it sees every hop and can refuse to credential one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ghcr_auth::TokenManager;
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::auth::AuthLayer;
use crate::body::{Body, BoxError, HttpBody};
use crate::metrics::{Metrics, MetricsLayer};
use crate::rate_limit::{RateLimitLayer, RateLimitSettings, RateLimitState};
use crate::redirect::RedirectLayer;
use crate::retry::{Backoff, RetryLayer};
use crate::timeout::TimeoutLayer;
use crate::trace::TraceLayer;
use crate::wire::Wire;

/// The future every service of the stack returns.
pub(crate) type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<HttpBody>, BoxError>> + Send>>;

/// What every layer's inner service is.
pub(crate) trait Inner:
    tower::Service<
        http::Request<Body>,
        Response = http::Response<HttpBody>,
        Error = BoxError,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> Inner for S where
    S: tower::Service<
            http::Request<Body>,
            Response = http::Response<HttpBody>,
            Error = BoxError,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// The boxed stack the transport holds.
pub(crate) type Stack =
    BoxCloneSyncService<http::Request<Body>, http::Response<HttpBody>, BoxError>;

/// Everything the layers need.
pub(crate) struct StackParts {
    pub(crate) wire: Wire,
    pub(crate) tokens: TokenManager,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) rate_limits: Arc<RateLimitState>,
    pub(crate) rate_limit: RateLimitSettings,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Backoff,
    pub(crate) max_redirects: u32,
    pub(crate) timeout: std::time::Duration,
}

pub(crate) fn build(parts: StackParts) -> Stack {
    let service = ServiceBuilder::new()
        .layer(TraceLayer)
        .layer(MetricsLayer::new(parts.metrics.clone()))
        .layer(RateLimitLayer::new(
            parts.rate_limits,
            parts.rate_limit,
            parts.metrics.clone(),
        ))
        .layer(RetryLayer::new(
            parts.max_retries,
            parts.backoff,
            parts.metrics.clone(),
        ))
        .layer(RedirectLayer::new(parts.max_redirects))
        .layer(AuthLayer::new(parts.tokens, parts.metrics))
        .layer(TimeoutLayer::new(parts.timeout))
        .service(parts.wire);
    BoxCloneSyncService::new(service)
}
