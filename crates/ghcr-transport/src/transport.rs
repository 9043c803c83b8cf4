//! `Transport`: the one handle every operation sends requests through.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ghcr_auth::{CredentialProvider, TokenManager};
use ghcr_types::RateLimitInfo;
use prometheus_client::registry::Registry;
use tower::ServiceExt;

use crate::Error;
use crate::body::{Body, HttpBody};
use crate::builder::TransportBuilder;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimitState;
use crate::stack::Stack;

pub(crate) struct Shared {
    pub(crate) tokens: TokenManager,
    pub(crate) rate_limits: Arc<RateLimitState>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) plain_http_hosts: Arc<std::collections::HashSet<String>>,
    pub(crate) upload_timeout: Duration,
}

/// Sends requests through the stack (see the crate docs for its order).
///
/// Cheap to clone; clones share connections, tokens, rate-limit state and
/// metrics.
#[derive(Clone)]
pub struct Transport {
    stack: Stack,
    shared: Arc<Shared>,
}

impl Transport {
    pub(crate) fn new(stack: Stack, shared: Arc<Shared>) -> Self {
        Self { stack, shared }
    }

    /// Starts a [`TransportBuilder`].
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// Sends a request and returns whatever status came back.
    ///
    /// # Errors
    ///
    /// Failures the stack could not resolve: [`Error::Unauthorized`] after a
    /// refused fresh token, [`Error::Auth`], [`Error::RateLimited`] past the
    /// maximum wait, [`Error::Network`], [`Error::Timeout`],
    /// [`Error::Redirect`], [`Error::Config`].
    pub async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<HttpBody>, Error> {
        let uri = request.uri().clone();
        self.stack
            .clone()
            .oneshot(request)
            .await
            .map_err(|error| Error::from_box(error, &uri))
    }

    /// Sends a request and turns any status outside 2xx into an [`Error`]
    /// carrying the server's message.
    ///
    /// # Errors
    ///
    /// As [`Transport::send`], plus the classified status
    /// ([`Error::NotFound`], [`Error::Denied`], [`Error::Server`], …).
    pub async fn send_checked(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<HttpBody>, Error> {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let response = self.send(request).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(Error::from_response(&method, &uri, response).await)
        }
    }

    /// `http` for hosts plain HTTP was enabled for, else `https`.
    pub fn scheme_for(&self, host: &str) -> &'static str {
        if self.shared.plain_http_hosts.contains(host) {
            "http"
        } else {
            "https"
        }
    }

    /// The time limit for upload requests (see [`crate::RequestTimeout`]).
    pub fn upload_timeout(&self) -> Duration {
        self.shared.upload_timeout
    }

    /// The latest GitHub API budgets seen, one per resource.
    pub fn rate_limits(&self) -> Vec<RateLimitInfo> {
        self.shared.rate_limits.snapshot()
    }

    /// How many registry tokens were fetched so far.
    pub fn token_fetches(&self) -> u64 {
        self.shared.tokens.fetch_count()
    }

    /// The credential provider in use.
    pub fn credentials(&self) -> &Arc<dyn CredentialProvider> {
        self.shared.tokens.credentials()
    }

    /// Registers the transport's metrics (prefix `ghcr_`) in `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.shared.metrics.register(registry);
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("plain_http_hosts", &self.shared.plain_http_hosts)
            .field("tokens", &self.shared.tokens)
            .finish_non_exhaustive()
    }
}
