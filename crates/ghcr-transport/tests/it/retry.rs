//! Retries with backoff, on a paused clock.

use std::time::Duration;

use ghcr_transport::{Body, Error, Retry, Transport};
use tokio::time::Instant;

use crate::support::{Script, reply};

fn flaky(failures: usize) -> Script {
    Script::new(move |_, index| {
        if index < failures {
            reply(503, &[], "busy")
        } else {
            reply(200, &[], "ok")
        }
    })
}

fn transport(script: &Script) -> Transport {
    Transport::builder().wire(script.clone()).build().unwrap()
}

/// A wire that never answers.
fn silent_wire() -> impl tower::Service<
    http::Request<ghcr_transport::HttpBody>,
    Response = http::Response<ghcr_transport::HttpBody>,
    Error = ghcr_transport::BoxError,
    Future: Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(|_req: http::Request<ghcr_transport::HttpBody>| async {
        std::future::pending::<
            Result<http::Response<ghcr_transport::HttpBody>, ghcr_transport::BoxError>,
        >()
        .await
    })
}

fn get() -> http::Request<Body> {
    http::Request::get("https://registry.test/v2/")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn two_failures_then_success() {
    let script = flaky(2);
    let started = Instant::now();
    let response = transport(&script).send_checked(get()).await.unwrap();
    assert_eq!(
        response.extensions().get::<ghcr_transport::Attempts>(),
        Some(&ghcr_transport::Attempts(3))
    );
    assert_eq!(script.seen().len(), 3);
    // Full jitter: each wait is at most its ceiling (1 s, then 2 s).
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_the_configured_retries() {
    let script = flaky(usize::MAX);
    let err = transport(&script).send_checked(get()).await.unwrap_err();
    match err {
        Error::Server {
            status, attempts, ..
        } => {
            assert_eq!(status, 503);
            assert_eq!(attempts, 4);
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(script.seen().len(), 4, "one attempt and three retries");
    let two = Transport::builder()
        .wire(script.clone())
        .max_retries(1)
        .build()
        .unwrap();
    two.send(get()).await.unwrap();
    assert_eq!(script.seen().len(), 6);
}

#[tokio::test(start_paused = true)]
async fn non_idempotent_requests_are_not_retried_unless_marked() {
    let script = flaky(usize::MAX);
    let transport = transport(&script);
    let post = || {
        http::Request::post("https://registry.test/v2/o/a/blobs/uploads/")
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(transport.send(post()).await.unwrap().status(), 503);
    assert_eq!(script.seen().len(), 1);
    let mut marked = post();
    marked.extensions_mut().insert(Retry::Always);
    transport.send(marked).await.unwrap();
    assert_eq!(script.seen().len(), 5);
}

#[tokio::test(start_paused = true)]
async fn streamed_bodies_are_sent_once() {
    let script = flaky(usize::MAX);
    let body = Body::stream(Body::from("chunk").into_http_body(), Some(5));
    let request = http::Request::put("https://registry.test/v2/o/a/x")
        .body(body)
        .unwrap();
    assert_eq!(
        transport(&script).send(request).await.unwrap().status(),
        503
    );
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    let script = Script::new(|_, _| {
        reply(
            404,
            &[],
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}"#,
        )
    });
    let err = transport(&script).send_checked(get()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.registry_code(), Some("NAME_UNKNOWN"));
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropped_connections_are_retried() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let wire = tower::service_fn(move |_req: http::Request<ghcr_transport::HttpBody>| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n == 0 {
                Err(
                    Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
                        as ghcr_transport::BoxError,
                )
            } else {
                Ok(http::Response::new(Body::from("ok").into_http_body()))
            }
        }
    });
    let transport = Transport::builder().wire(wire).build().unwrap();
    assert_eq!(transport.send(get()).await.unwrap().status(), 200);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_retried_then_reported() {
    let wire = silent_wire();
    let transport = Transport::builder()
        .wire(wire)
        .timeout(Duration::from_secs(5))
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = transport.send(get()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_secs(5)),
        "{err:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "four attempts of 5 s: {:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn default_limits_are_30_seconds_and_300_for_uploads() {
    let wire = silent_wire();
    let transport = Transport::builder()
        .wire(wire)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(transport.upload_timeout(), Duration::from_secs(300));
    let started = Instant::now();
    let err = transport.send(get()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_secs(30)),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    let mut upload = http::Request::put("https://registry.test/v2/o/a/blobs/uploads/x")
        .body(Body::stream(Body::from("layer").into_http_body(), Some(5)))
        .unwrap();
    upload
        .extensions_mut()
        .insert(ghcr_transport::RequestTimeout(transport.upload_timeout()));
    let started = Instant::now();
    let err = transport.send(upload).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_secs(300)),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(300));
}
