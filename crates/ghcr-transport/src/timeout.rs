//! A time limit on each attempt, until the response head arrives.

use std::fmt;
use std::time::Duration;

use tower::{Layer, Service, ServiceExt};

use crate::body::{Body, BoxError};
use crate::request::RequestTimeout;
use crate::stack::{Inner, ResponseFuture};

/// The error an attempt ends with when its time is up.
#[derive(Debug)]
pub(crate) struct Elapsed(pub(crate) Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no answer within {:?}", self.0)
    }
}

impl std::error::Error for Elapsed {}

/// Applies [`Timeout`]: `default` unless the request carries a [`RequestTimeout`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeoutLayer {
    default: Duration,
}

impl TimeoutLayer {
    pub(crate) fn new(default: Duration) -> Self {
        Self { default }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            default: self.default,
        }
    }
}

/// Fails an attempt that outlives its limit.
#[derive(Clone, Debug)]
pub(crate) struct Timeout<S> {
    inner: S,
    default: Duration,
}

impl<S: Inner> Service<http::Request<Body>> for Timeout<S> {
    type Response = http::Response<crate::HttpBody>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let limit = request
            .extensions()
            .get::<RequestTimeout>()
            .map_or(self.default, |t| t.0);
        let inner = self.inner.clone();
        Box::pin(async move {
            match tokio::time::timeout(limit, inner.oneshot(request)).await {
                Ok(result) => result,
                Err(_) => Err(Box::new(Elapsed(limit)) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slow_attempts_fail_and_overrides_apply() {
        let never = tower::service_fn(|_req: http::Request<Body>| async {
            pending::<Result<http::Response<crate::HttpBody>, BoxError>>().await
        });
        let service = TimeoutLayer::new(Duration::from_secs(30)).layer(never);
        let started = tokio::time::Instant::now();
        let err = service
            .clone()
            .oneshot(http::Request::new(Body::empty()))
            .await
            .unwrap_err();
        assert_eq!(
            err.downcast_ref::<Elapsed>().unwrap().0,
            Duration::from_secs(30)
        );
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        let mut upload = http::Request::new(Body::empty());
        upload
            .extensions_mut()
            .insert(RequestTimeout(Duration::from_secs(300)));
        let err = service.oneshot(upload).await.unwrap_err();
        assert_eq!(
            err.downcast_ref::<Elapsed>().unwrap().0,
            Duration::from_secs(300)
        );
    }
}
