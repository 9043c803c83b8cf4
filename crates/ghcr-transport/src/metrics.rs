//! Request metrics in a `prometheus-client` registry the caller owns:
//! counts by method, endpoint and status, durations, bytes both ways,
//! retries, token fetches, rate-limit state and errors by kind.
//!
//! Request bytes are counted at the wire, as the innermost service reads
//! them (retries, redirect hops and streams of unknown length included);
//! response bytes as the caller reads the body it gets.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tower::{Layer, Service, ServiceExt};

use crate::body::{Body, BoxError, HttpBody};
use crate::request::Endpoint;
use crate::stack::{Inner, ResponseFuture};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    method: String,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    resource: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: String,
}

type HistogramFamily = Family<DurationLabels, Histogram, fn() -> Histogram>;

/// The transport's metrics; cheap to clone (the families share state).
#[derive(Debug)]
pub(crate) struct Metrics {
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily,
    bytes_sent: Counter,
    bytes_received: Counter,
    retries: Counter,
    token_fetches: Counter,
    /// The token manager's fetch count the counter last caught up with.
    token_fetches_seen: AtomicU64,
    rate_limit_waits: Counter,
    rate_limit_remaining: Family<ResourceLabels, Gauge>,
    errors: Family<ErrorLabels, Counter>,
}

fn duration_histogram() -> Histogram {
    // 5 ms to about 80 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Metrics {
    pub(crate) fn new() -> Self {
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
            bytes_sent: Counter::default(),
            bytes_received: Counter::default(),
            retries: Counter::default(),
            token_fetches: Counter::default(),
            token_fetches_seen: AtomicU64::new(0),
            rate_limit_waits: Counter::default(),
            rate_limit_remaining: Family::default(),
            errors: Family::default(),
        }
    }

    /// Registers every metric under the `ghcr` prefix.
    pub(crate) fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("ghcr");
        registry.register(
            "requests",
            "HTTP requests by method, endpoint and status",
            self.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Request duration until the response head",
            self.duration.clone(),
        );
        registry.register(
            "bytes_sent",
            "Request body bytes sent on the wire, every attempt and hop included",
            self.bytes_sent.clone(),
        );
        registry.register(
            "bytes_received",
            "Response body bytes received",
            self.bytes_received.clone(),
        );
        registry.register(
            "retries",
            "Requests sent again after a transient failure",
            self.retries.clone(),
        );
        registry.register(
            "token_fetches",
            "Registry tokens fetched",
            self.token_fetches.clone(),
        );
        registry.register(
            "rate_limit_waits",
            "Waits imposed by rate limits",
            self.rate_limit_waits.clone(),
        );
        registry.register(
            "rate_limit_remaining",
            "Requests left in the GitHub API budget, by resource",
            self.rate_limit_remaining.clone(),
        );
        registry.register("errors", "Failed requests by kind", self.errors.clone());
    }

    /// `body`, counting its bytes as sent as the wire reads them.
    pub(crate) fn count_sent(&self, body: HttpBody) -> HttpBody {
        CountingBody {
            inner: body,
            counter: self.bytes_sent.clone(),
        }
        .boxed_unsync()
    }

    pub(crate) fn retry(&self) {
        self.retries.inc();
    }

    /// Brings the token-fetch counter up to the token manager's `total`.
    /// Callers report the total they saw, in any order and as often as they
    /// like; each fetch is counted once.
    pub(crate) fn token_fetches_total(&self, total: u64) {
        let before = self.token_fetches_seen.fetch_max(total, Ordering::SeqCst);
        if total > before {
            self.token_fetches.inc_by(total - before);
        }
    }

    pub(crate) fn rate_limit_wait(&self) {
        self.rate_limit_waits.inc();
    }

    pub(crate) fn rate_limit_remaining(&self, resource: &str, remaining: u64) {
        self.rate_limit_remaining
            .get_or_create(&ResourceLabels {
                resource: resource.to_owned(),
            })
            .set(i64::try_from(remaining).unwrap_or(i64::MAX));
    }
}

/// Applies [`MetricsService`].
#[derive(Clone, Debug)]
pub(crate) struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    pub(crate) fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// Counts and times each request.
#[derive(Clone, Debug)]
pub(crate) struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S: Inner> Service<http::Request<Body>> for MetricsService<S> {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let metrics = self.metrics.clone();
        let method = request.method().to_string();
        let endpoint = request
            .extensions()
            .get::<Endpoint>()
            .map_or("other", |e| e.0)
            .to_owned();
        let inner = self.inner.clone();
        Box::pin(async move {
            let started = Instant::now();
            let outcome = inner.oneshot(request).await;
            metrics
                .duration
                .get_or_create(&DurationLabels {
                    method: method.clone(),
                    endpoint: endpoint.clone(),
                })
                .observe(started.elapsed().as_secs_f64());
            match outcome {
                Ok(response) => {
                    metrics
                        .requests
                        .get_or_create(&RequestLabels {
                            method,
                            endpoint,
                            status: response.status().as_u16().to_string(),
                        })
                        .inc();
                    let counter = metrics.bytes_received.clone();
                    Ok(response.map(|body| {
                        CountingBody {
                            inner: body,
                            counter,
                        }
                        .boxed_unsync()
                    }))
                }
                Err(error) => {
                    metrics
                        .requests
                        .get_or_create(&RequestLabels {
                            method,
                            endpoint,
                            status: "error".to_owned(),
                        })
                        .inc();
                    metrics
                        .errors
                        .get_or_create(&ErrorLabels {
                            kind: error_kind(&error).to_owned(),
                        })
                        .inc();
                    Err(error)
                }
            }
        })
    }
}

fn error_kind(error: &BoxError) -> &'static str {
    match error.downcast_ref::<crate::Error>() {
        Some(crate::Error::Unauthorized { .. } | crate::Error::Auth(_)) => "auth",
        Some(crate::Error::RateLimited { .. }) => "rate_limited",
        Some(crate::Error::Redirect { .. }) => "redirect",
        Some(crate::Error::Config { .. }) => "config",
        Some(_) => "other",
        None if error.downcast_ref::<crate::timeout::Elapsed>().is_some() => "timeout",
        None => "network",
    }
}

pin_project_lite::pin_project! {
    /// A response body that counts the bytes it yields.
    struct CountingBody {
        #[pin]
        inner: HttpBody,
        counter: Counter,
    }
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.counter.inc_by(data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
