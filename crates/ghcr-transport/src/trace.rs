//! One span per request with stable field names, recording the path only
//! (queries carry signatures) and never a header.

use std::time::Instant;

use tower::{Layer, Service, ServiceExt};
use tracing::Instrument;

use crate::body::{Body, BoxError, HttpBody};
use crate::request::Attempts;
use crate::stack::{Inner, ResponseFuture};

/// Applies [`TraceService`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner }
    }
}

/// Wraps each request in a `ghcr.request` span.
#[derive(Clone, Debug)]
pub(crate) struct TraceService<S> {
    inner: S,
}

impl<S: Inner> Service<http::Request<Body>> for TraceService<S> {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let span = tracing::debug_span!(
            "ghcr.request",
            method = %request.method(),
            host = %crate::error::host_and_port(request.uri()),
            path = request.uri().path(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let inner = self.inner.clone();
        Box::pin(
            async move {
                let started = Instant::now();
                let outcome = inner.oneshot(request).await;
                let span = tracing::Span::current();
                span.record(
                    "duration_ms",
                    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                );
                match &outcome {
                    Ok(response) => {
                        span.record("status", response.status().as_u16());
                        if let Some(attempts) = response.extensions().get::<Attempts>() {
                            span.record("attempts", attempts.0);
                        }
                        tracing::debug!(status = response.status().as_u16(), "response");
                    }
                    Err(error) => tracing::debug!(error = %error, "request failed"),
                }
                outcome
            }
            .instrument(span),
        )
    }
}
