//! `TransportBuilder`: every setting with its default, validated once.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ghcr_auth::{AnonymousProvider, CredentialProvider, TokenManager};
use http::HeaderValue;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

use crate::Error;
use crate::body::{BoxError, HttpBody};
use crate::client::{ClientSettings, HttpClient, RootCertificates, parse_pem_certificates};
use crate::metrics::Metrics;
use crate::rate_limit::{RateLimitSettings, RateLimitState};
use crate::retry::Backoff;
use crate::stack::{self, StackParts};
use crate::token_client::WireTokenClient;
use crate::transport::{Shared, Transport};
use crate::wire::{Wire, WireService};

type WrapWire = Box<dyn FnOnce(WireService) -> WireService + Send>;

/// Builds a [`Transport`].
///
/// ```
/// use std::time::Duration;
/// use ghcr_transport::Transport;
///
/// let transport = Transport::builder()
///     .timeout(Duration::from_secs(10))      // Default: 30 s per attempt.
///     .max_retries(5)                         // Default: 3.
///     .allow_plain_http("127.0.0.1:5000")     // Default: https only.
///     .build()?;
/// assert_eq!(transport.scheme_for("127.0.0.1:5000"), "http");
/// assert_eq!(transport.scheme_for("ghcr.io"), "https");
/// # Ok::<(), ghcr_transport::Error>(())
/// ```
pub struct TransportBuilder {
    credentials: Arc<dyn CredentialProvider>,
    user_agent: String,
    plain_http_hosts: HashSet<String>,
    client: ClientSettings,
    extra_ca_errors: Vec<Error>,
    timeout: Duration,
    idle_timeout: Option<Duration>,
    upload_timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
    max_redirects: u32,
    throttle_threshold: f64,
    max_rate_limit_wait: Duration,
    token_lifetime: Duration,
    wire: Option<WireService>,
    wrap_wire: Vec<WrapWire>,
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("user_agent", &self.user_agent)
            .field("plain_http_hosts", &self.plain_http_hosts)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            credentials: Arc::new(AnonymousProvider),
            user_agent: format!("ghcr-rs/{}", env!("CARGO_PKG_VERSION")),
            plain_http_hosts: HashSet::new(),
            client: ClientSettings::default(),
            extra_ca_errors: Vec::new(),
            timeout: Duration::from_secs(30),
            idle_timeout: None,
            upload_timeout: Duration::from_secs(300),
            max_retries: 3,
            backoff: Backoff {
                base: Duration::from_secs(1),
                max: Duration::from_secs(30),
            },
            max_redirects: 10,
            throttle_threshold: 0.8,
            max_rate_limit_wait: Duration::from_secs(120),
            token_lifetime: Duration::from_secs(60),
            wire: None,
            wrap_wire: Vec::new(),
        }
    }
}

impl TransportBuilder {
    /// Where credentials come from, per host. Default: anonymous.
    #[must_use]
    pub fn credentials(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.credentials = provider;
        self
    }

    /// The User-Agent header. Default: `ghcr-rs/<version>` (GitHub rejects
    /// requests without one).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Allows plain HTTP to this registry host (`127.0.0.1:5000`). Default:
    /// https only. Token realms must then be on loopback too.
    #[must_use]
    pub fn allow_plain_http(mut self, host: impl Into<String>) -> Self {
        self.plain_http_hosts.insert(host.into());
        self
    }

    /// Which trust anchors verify servers. Default: the platform's.
    #[must_use]
    pub fn root_certificates(mut self, roots: RootCertificates) -> Self {
        self.client.roots = roots;
        self
    }

    /// Trusts the CA certificates in this PEM text as well (GitHub
    /// Enterprise Server, self-signed test registries).
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        match parse_pem_certificates(pem) {
            Ok(certificates) => self.client.extra_roots.extend(certificates),
            Err(error) => self.extra_ca_errors.push(error),
        }
        self
    }

    /// Idle connections kept per host. Default: 10.
    #[must_use]
    pub fn pool_max_idle_per_host(mut self, count: usize) -> Self {
        self.client.pool_max_idle_per_host = count;
        self
    }

    /// How long an idle connection is kept. Default: 90 s.
    #[must_use]
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.client.pool_idle_timeout = timeout;
        self
    }

    /// Time limit of each attempt until the response head, and of a whole
    /// token fetch (head and body). Default: 30 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Longest wait for the next piece of a response body (each frame must
    /// arrive within it); a body that stalls longer fails with
    /// [`Error::Stalled`]. It applies to every body: blobs, manifests,
    /// error bodies, token answers. Default: the [`timeout`](Self::timeout)
    /// (30 s).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Time limit for uploads, which callers apply per request with
    /// [`crate::RequestTimeout`]. Default: 300 s.
    #[must_use]
    pub fn upload_timeout(mut self, timeout: Duration) -> Self {
        self.upload_timeout = timeout;
        self
    }

    /// Retries after the first attempt. Default: 3.
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Backoff ceilings: `base`, doubling per retry, capped at `max`.
    /// Default: 1 s doubling to 30 s (the design's 1 s, 2 s, 4 s).
    #[must_use]
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff = Backoff { base, max };
        self
    }

    /// Redirects followed per request. Default: 10.
    #[must_use]
    pub fn max_redirects(mut self, redirects: u32) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// Share of a GitHub API budget used after which requests are spread
    /// until the reset. Default: 0.8.
    #[must_use]
    pub fn throttle_threshold(mut self, share: f64) -> Self {
        self.throttle_threshold = share;
        self
    }

    /// Longest rate-limit wait; longer ones fail with
    /// [`Error::RateLimited`]. Default: 120 s.
    #[must_use]
    pub fn max_rate_limit_wait(mut self, wait: Duration) -> Self {
        self.max_rate_limit_wait = wait;
        self
    }

    /// Lifetime of registry tokens that come without one. Default: 60 s.
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Replaces the innermost service (the hyper client) with any service
    /// on the wire types: a replayer, or a scripted test double.
    #[must_use]
    pub fn wire<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<HttpBody>, Response = http::Response<HttpBody>, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.wire = Some(BoxCloneSyncService::new(service));
        self
    }

    /// Wraps the innermost service in `layer` (a recorder sees the wire:
    /// after auth, before the network).
    #[must_use]
    pub fn wire_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<WireService> + Send + 'static,
        L::Service: Service<http::Request<HttpBody>, Response = http::Response<HttpBody>, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<HttpBody>>>::Future: Send + 'static,
    {
        self.wrap_wire.push(Box::new(move |wire| {
            BoxCloneSyncService::new(layer.layer(wire))
        }));
        self
    }

    /// Validates the settings and builds the transport.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a setting out of range, an unusable CA
    /// certificate or a User-Agent that is not a header value.
    pub fn build(mut self) -> Result<Transport, Error> {
        if let Some(error) = self.extra_ca_errors.pop() {
            return Err(error);
        }
        let config = |reason: String| Error::Config { reason };
        if !(self.throttle_threshold > 0.0 && self.throttle_threshold <= 1.0) {
            return Err(config(format!(
                "the throttle threshold must be in (0, 1], not {}",
                self.throttle_threshold
            )));
        }
        for (name, value) in [
            ("timeout", self.timeout),
            ("idle timeout", self.idle_timeout.unwrap_or(self.timeout)),
            ("upload timeout", self.upload_timeout),
            ("token lifetime", self.token_lifetime),
        ] {
            if value.is_zero() {
                return Err(config(format!("the {name} must be longer than zero")));
            }
        }
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| config(format!("`{}` is not a valid User-Agent", self.user_agent)))?;
        let mut wire = match self.wire.take() {
            Some(wire) => wire,
            None => BoxCloneSyncService::new(HttpClient::new(&self.client)?),
        };
        for wrap in self.wrap_wire {
            wire = wrap(wire);
        }
        let idle = self.idle_timeout.unwrap_or(self.timeout);
        let token_client = WireTokenClient {
            wire: wire.clone(),
            user_agent: user_agent.clone(),
            idle,
        };
        let mut tokens = TokenManager::builder(Arc::new(token_client), self.credentials.clone())
            .default_lifetime(self.token_lifetime)
            .fetch_timeout(self.timeout);
        for host in &self.plain_http_hosts {
            tokens = tokens.allow_plain_http(host.clone());
        }
        let tokens = tokens.build();
        let plain_http_hosts = Arc::new(self.plain_http_hosts);
        let metrics = Arc::new(Metrics::new());
        let rate_limits = Arc::new(RateLimitState::default());
        let stack = stack::build(StackParts {
            wire: Wire::new(
                wire,
                user_agent,
                plain_http_hosts.clone(),
                metrics.clone(),
                idle,
            ),
            tokens: tokens.clone(),
            metrics: metrics.clone(),
            rate_limits: rate_limits.clone(),
            rate_limit: RateLimitSettings {
                threshold: self.throttle_threshold,
                max_wait: self.max_rate_limit_wait,
            },
            max_retries: self.max_retries,
            backoff: self.backoff,
            max_redirects: self.max_redirects,
            timeout: self.timeout,
        });
        Ok(Transport::new(
            stack,
            Arc::new(Shared {
                tokens,
                rate_limits,
                metrics,
                plain_http_hosts,
                upload_timeout: self.upload_timeout,
            }),
        ))
    }
}
