//! A scripted wire (in process, safe on a paused clock) and a scripted
//! server (real sockets on 127.0.0.1).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[path = "../../../../xtask/test-support/trace.rs"]
#[expect(
    dead_code,
    reason = "its `init`: the transport's tests install one subscriber of their own"
)]
pub(crate) mod trace;

use bytes::Bytes;
use ghcr_transport::{BoxError, HttpBody};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What the script saw of a request.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: http::Method,
    pub(crate) uri: http::Uri,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl Seen {
    pub(crate) fn authorization(&self) -> Option<String> {
        self.headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

type Handler = dyn Fn(&Seen, usize) -> http::Response<Bytes> + Send + Sync;

/// Answers requests with a closure given the request and its index, and
/// keeps every request.
#[derive(Clone)]
pub(crate) struct Script {
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Script {
    pub(crate) fn new(
        handler: impl Fn(&Seen, usize) -> http::Response<Bytes> + Send + Sync + 'static,
    ) -> Self {
        install_subscriber();
        Self {
            handler: Arc::new(handler),
            log: Arc::default(),
        }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn count(&self, predicate: impl Fn(&Seen) -> bool) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|s| predicate(s))
            .count()
    }

    async fn answer(&self, request: http::Request<HttpBody>) -> http::Response<Bytes> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        let seen = Seen {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
        };
        let index = {
            let mut log = self.log.lock().unwrap();
            log.push(seen.clone());
            log.len() - 1
        };
        (self.handler)(&seen, index)
    }
}

fn boxed(bytes: Bytes) -> HttpBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

impl tower::Service<http::Request<HttpBody>> for Script {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<HttpBody>) -> Self::Future {
        let script = self.clone();
        Box::pin(async move { Ok(script.answer(request).await.map(boxed)) })
    }
}

impl Script {
    /// This script behind a wire that waits `delay(uri)` before each
    /// answer, so that concurrent callers pile up (on a paused clock).
    pub(crate) fn delayed(
        self,
        delay: fn(&http::Uri) -> std::time::Duration,
    ) -> impl tower::Service<
        http::Request<HttpBody>,
        Response = http::Response<HttpBody>,
        Error = BoxError,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static {
        tower::service_fn(move |request: http::Request<HttpBody>| {
            let wait = delay(request.uri());
            let answer = tower::Service::call(&mut self.clone(), request);
            async move {
                // No timer at all for zero: even an elapsed one yields, and
                // these tests depend on what runs without yielding.
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                answer.await
            }
        })
    }
}

/// A response with a status, headers and body.
pub(crate) fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Bytes::from(body.to_owned())).unwrap()
}

/// The challenge a ghcr-like registry sends.
pub(crate) fn challenge(realm: &str) -> String {
    format!(r#"Bearer realm="{realm}",service="registry.test",scope="repository:user/image:pull""#)
}

/// The 401 a ghcr-like registry answers without a token, pointing at `realm`.
pub(crate) fn challenge_reply(realm: &str) -> http::Response<Bytes> {
    reply(401, &[("www-authenticate", &challenge(realm))], "")
}

/// Serves `script` over plain HTTP on 127.0.0.1, until the test ends.
pub(crate) async fn serve(script: Script) -> SocketAddr {
    install_subscriber();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let script = script.clone();
                        async move {
                            let request = request.map(|b| b.map_err(BoxError::from).boxed_unsync());
                            Ok::<_, Infallible>(script.answer(request).await.map(Full::new))
                        }
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A GET with the given auth scope.
pub(crate) fn get(
    url: &str,
    scope: ghcr_transport::AuthScope,
) -> http::Request<ghcr_transport::Body> {
    let mut request = http::Request::get(url)
        .body(ghcr_transport::Body::empty())
        .unwrap();
    request.extensions_mut().insert(scope);
    request
}

/// The scope for pulling `repo`.
pub(crate) fn pull(repo: &str) -> ghcr_transport::AuthScope {
    ghcr_transport::AuthScope::Registry(ghcr_auth::ScopeSet::single(ghcr_auth::Scope::pull(repo)))
}

thread_local! {
    /// Where this thread's log lines go, while a test captures them.
    static SINK: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's capture, if any.
struct ThreadSink;

impl std::io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|sink| {
            if let Some(buffer) = sink.borrow().as_ref() {
                buffer.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log lines of the current thread (a `#[tokio::test]` runs its tasks
/// on its own thread) until dropped.
///
/// One global subscriber at TRACE level serves every test: a per-test
/// `set_default` races with other tests over tracing's global callsite
/// interest cache and sometimes captures nothing.
pub(crate) struct LogCapture(Arc<Mutex<Vec<u8>>>);

/// The one subscriber: every event to the current thread's capture, and
/// to the trace file when `GHCR_TEST_TRACE_DIR` asks for one.
fn install_subscriber() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let capture = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| ThreadSink);
        tracing_subscriber::registry()
            .with(capture)
            .with(trace::file_layer())
            .init();
    });
}

impl LogCapture {
    pub(crate) fn start() -> Self {
        install_subscriber();
        let buffer = Arc::new(Mutex::new(Vec::new()));
        SINK.with(|sink| *sink.borrow_mut() = Some(buffer.clone()));
        Self(buffer)
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        SINK.with(|sink| *sink.borrow_mut() = None);
    }
}
