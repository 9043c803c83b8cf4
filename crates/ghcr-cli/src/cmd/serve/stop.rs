//! Stopping cleanly: SIGTERM or Ctrl-C sets a flag; from then on the
//! transport's wire refuses to send any DELETE, so a deletion already on
//! its way completes and no new one starts. The cleanup run then ends
//! (its report lists what was not attempted) and the service exits.
//!
//! Why a wire layer: `PackagesClient::execute_cleanup` has no cancellation
//! hook, and dropping its future could cut a DELETE whose outcome would
//! then be unknown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ghcr::transport::{BoxError, HttpBody, WireService};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::Notify;

/// The stop flag, shared by the signal task, the scheduler and the wire.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stop {
    stopping: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

/// What a DELETE gets once the service is stopping.
#[derive(Debug)]
struct Stopping;

impl std::fmt::Display for Stopping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not sent: the service is stopping")
    }
}

impl std::error::Error for Stopping {}

/// The wire, behind the stop flag.
#[derive(Clone)]
pub(crate) struct Gated {
    inner: WireService,
    stop: Stop,
}

impl tower::Service<http::Request<HttpBody>> for Gated {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<HttpBody>) -> Self::Future {
        if request.method() == http::Method::DELETE && self.stop.is_set() {
            return Box::pin(std::future::ready(Err(BoxError::from(Stopping))));
        }
        Box::pin(self.inner.call(request))
    }
}

impl Stop {
    /// Sets the flag and wakes whoever waits.
    pub(crate) fn trigger(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Waits until the flag is set.
    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_set() {
            return;
        }
        notified.await;
    }

    /// A wire layer refusing DELETEs once the flag is set.
    pub(crate) fn gate(&self) -> impl tower::Layer<WireService, Service = Gated> + Send + 'static {
        let stop = self.clone();
        tower::layer::layer_fn(move |inner: WireService| Gated {
            inner,
            stop: stop.clone(),
        })
    }

    /// Sets the flag on SIGTERM or Ctrl-C.
    pub(crate) fn on_signals(&self) {
        let stop = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let terminate = signal(SignalKind::terminate());
                let term = async {
                    match terminate {
                        Ok(mut signal) => {
                            signal.recv().await;
                        }
                        Err(_) => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    () = term => {}
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
            tracing::info!("stopping: no new deletion starts, the one under way completes");
            stop.trigger();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use tower::Layer as _;
    use tower::ServiceExt as _;

    fn request(method: http::Method) -> http::Request<HttpBody> {
        let body: HttpBody = http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        http::Request::builder()
            .method(method)
            .uri("http://127.0.0.1:1/x")
            .body(body)
            .unwrap()
    }

    #[tokio::test]
    async fn deletes_are_refused_only_once_stopping() {
        let wire = WireService::new(tower::service_fn(|_: http::Request<HttpBody>| async {
            let body: HttpBody = http_body_util::Empty::new()
                .map_err(|never| match never {})
                .boxed_unsync();
            Ok::<_, BoxError>(http::Response::new(body))
        }));
        let stop = Stop::default();
        let gated = stop.gate().layer(wire);
        assert!(
            gated
                .clone()
                .oneshot(request(http::Method::DELETE))
                .await
                .is_ok()
        );
        stop.trigger();
        stop.wait().await;
        let refused = gated.clone().oneshot(request(http::Method::DELETE)).await;
        assert!(refused.unwrap_err().to_string().contains("stopping"));
        assert!(gated.oneshot(request(http::Method::GET)).await.is_ok());
    }
}
