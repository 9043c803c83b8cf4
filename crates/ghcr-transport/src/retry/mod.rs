//! Retries of server errors, dropped connections and timeouts, with
//! exponential backoff and full jitter (design: 3 retries, 1 s, 2 s, 4 s).
//!
//! Only requests whose body can be sent again are retried, and only
//! idempotent methods unless the caller says otherwise ([`crate::Retry`]).

mod backoff;
mod policy;

pub(crate) use backoff::Backoff;

use std::sync::Arc;

use tower::{Layer, Service, ServiceExt};

use crate::body::{Body, BoxError, HttpBody, try_clone_request};
use crate::metrics::Metrics;
use crate::request::{Attempts, Retry};
use crate::stack::{Inner, ResponseFuture};

/// Applies [`RetryService`].
#[derive(Clone, Debug)]
pub(crate) struct RetryLayer {
    max_retries: u32,
    backoff: Backoff,
    metrics: Arc<Metrics>,
}

impl RetryLayer {
    pub(crate) fn new(max_retries: u32, backoff: Backoff, metrics: Arc<Metrics>) -> Self {
        Self {
            max_retries,
            backoff,
            metrics,
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            layer: self.clone(),
        }
    }
}

/// Sends a request again while the outcome is retryable and attempts remain.
#[derive(Clone, Debug)]
pub(crate) struct RetryService<S> {
    inner: S,
    layer: RetryLayer,
}

impl<S: Inner> Service<http::Request<Body>> for RetryService<S> {
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
        let inner = self.inner.clone();
        let layer = self.layer.clone();
        Box::pin(async move {
            let retry = request
                .extensions()
                .get::<Retry>()
                .copied()
                .unwrap_or_default();
            let repeatable = policy::may_repeat(request.method(), retry);
            let mut request = request;
            let mut attempt = 0;
            loop {
                let copy = if repeatable && attempt < layer.max_retries {
                    try_clone_request(&request)
                } else {
                    None
                };
                let outcome = inner.clone().oneshot(request).await;
                let retryable = match &outcome {
                    Ok(response) => policy::is_retryable_status(response.status()),
                    Err(error) => policy::is_retryable_error(error),
                };
                match copy {
                    Some(next) if retryable => {
                        let delay = layer.backoff.delay(attempt, fastrand::f64());
                        tracing::warn!(
                            attempt = attempt + 1,
                            wait_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                            outcome = %describe(&outcome),
                            "retrying request"
                        );
                        layer.metrics.retry();
                        if let Ok(response) = outcome {
                            // Read the failed answer so the connection can be reused.
                            drop(crate::body::read_limited(response.into_body(), 64 * 1024).await);
                        }
                        tokio::time::sleep(delay).await;
                        request = next;
                        attempt += 1;
                    }
                    _ => {
                        return outcome.map(|mut response| {
                            response.extensions_mut().insert(Attempts(attempt + 1));
                            response
                        });
                    }
                }
            }
        })
    }
}

fn describe(outcome: &Result<http::Response<HttpBody>, BoxError>) -> String {
    match outcome {
        Ok(response) => response.status().to_string(),
        Err(error) => error.to_string(),
    }
}
