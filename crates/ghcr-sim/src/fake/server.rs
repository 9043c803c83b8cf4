//! Listeners, connections and the path of one request through the fake:
//! faults first, then the route, then faults on the answer, then the log.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use percent_encoding::percent_decode_str;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::clock::Clock;
use super::faults::{FaultAction, Faults, go_duration};
use super::log::{AuthSeen, Listener, LoggedRequest, RequestLog};
use super::routes;
use super::state::{Config, RegistryError, State};
use crate::body::{BoxError, HttpBody, full};

/// Everything the handlers share. Its `Debug` shows the settings and
/// hosts, not the state (tokens issued, accounts' tokens) or signing key.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) state: Mutex<State>,
    pub(crate) clock: Clock,
    pub(crate) log: RequestLog,
    pub(crate) connections: super::connections::Connections,
    pub(crate) faults: Faults,
    pub(crate) registry_host: String,
    pub(crate) storage_host: String,
    /// Signs storage URLs; random per fake.
    pub(crate) signing_key: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("registry_host", &self.registry_host)
            .field("storage_host", &self.storage_host)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request with its body read.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Request {
    /// A header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a query parameter, decoded (`+` is a space).
    pub(crate) fn params(&self, name: &str) -> Vec<String> {
        self.query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(key) == name).then(|| decode(value))
            })
            .collect()
    }

    /// The first value of a query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        self.params(name).into_iter().next()
    }
}

/// Percent-decodes a query component, `+` as a space.
pub(crate) fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Binds a listener.
pub(crate) async fn bind(addr: &str) -> crate::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::Error::Bind {
            addr: addr.to_owned(),
            source,
        })
}

/// Serves `listener` until the returned task is aborted; aborting it also
/// ends every open connection.
pub(crate) fn spawn(
    listener: TcpListener,
    shared: Arc<Shared>,
    which: Listener,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let shared = shared.clone();
                    shared.connections.opened();
                    connections.spawn(async move {
                        let served = shared.clone();
                        let service = hyper::service::service_fn(move |request| {
                            handle(served.clone(), which, request)
                        });
                        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                        shared.connections.closed();
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
}

async fn handle(
    shared: Arc<Shared>,
    which: Listener,
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<HttpBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let read = read_body(body, &parts.headers, shared.config.max_request_body).await;
    let (body, refused) = match read {
        Ok(body) => (body, None),
        Err(refusal) => (Bytes::new(), Some(refusal)),
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    if let Some(refusal) = refused {
        log(&shared, which, &request, refusal.status());
        return Ok(refusal.map(full));
    }
    let actions = shared.faults.on_request(&request.method, &request.path);
    for action in &actions {
        match action {
            FaultAction::Delay(delay) => tokio::time::sleep(*delay).await,
            FaultAction::Gather(barrier) => {
                barrier.wait().await;
            }
            _ => {}
        }
    }
    let early = actions.iter().find_map(|action| match action {
        FaultAction::Respond { status, body } => Some(
            http::Response::builder()
                .status(*status)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .unwrap_or_default(),
        ),
        FaultAction::TooManyRequests { retry_after } => {
            Some(too_many_requests(&request, *retry_after))
        }
        _ => None,
    });
    let mut answer = match early {
        Some(answer) => answer,
        None => routes::route(&shared, which, &request),
    };
    if let Some(status) = actions.iter().find_map(|action| match action {
        FaultAction::LoseAnswer { status } => Some(*status),
        _ => None,
    }) {
        let body = format!(
            r#"{{"message":"injected: the answer was lost after the request was handled ({status})"}}"#
        );
        answer = http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(body))
            .unwrap_or_default();
    }
    if which == Listener::Registry && request.path.starts_with("/v2") {
        answer.headers_mut().insert(
            "docker-distribution-api-version",
            http::HeaderValue::from_static("registry/2.0"),
        );
    }
    if shared.config.profile == super::Profile::Ghcr && which == Listener::Registry {
        let id = shared.state().next_request_id();
        if let Ok(value) = id.parse() {
            answer.headers_mut().insert("x-github-request-id", value);
        }
    }
    log(&shared, which, &request, answer.status());
    Ok(finish(answer, &actions))
}

fn log(shared: &Shared, which: Listener, request: &Request, status: StatusCode) {
    shared.log.push(LoggedRequest {
        listener: which,
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        status,
        authorization: AuthSeen::of(&request.headers),
        body_len: request.body.len() as u64,
    });
}

/// Reads a request body of at most `limit` bytes. A larger one (announced
/// or sent) is answered 413 without being kept; a body that breaks off is
/// answered 400 and the request is not handled, so a truncated chunk never
/// reaches an upload.
async fn read_body(
    body: hyper::body::Incoming,
    headers: &HeaderMap,
    limit: u64,
) -> Result<Bytes, http::Response<Bytes>> {
    let too_large = || {
        routes::registry_error(&RegistryError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            format!(
                "the request body exceeds the fake's limit of {limit} bytes; raise it with FakeGhcrBuilder::max_request_body (ghcr-fake --max-request-body)"
            ),
        ))
    };
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    match http_body_util::Limited::new(body, cap).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(_) => Err(routes::registry_error(&RegistryError::new(
            StatusCode::BAD_REQUEST,
            "BLOB_UPLOAD_INVALID",
            "the request body broke off before its end; send it again",
        ))),
    }
}

/// ghcr.io's 429: the wait is a Go duration inside the message.
fn too_many_requests(request: &Request, retry_after: std::time::Duration) -> http::Response<Bytes> {
    let allowed = if request.method == Method::POST && request.path.contains("/blobs/uploads") {
        "2000/minute"
    } else {
        "44000/minute"
    };
    let body = serde_json::json!({"errors": [{
        "code": "TOOMANYREQUESTS",
        "message": format!("retry-after: {}, allowed: {allowed}", go_duration(retry_after)),
    }]});
    http::Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap_or_default()
}

/// Applies body faults and turns the answer into a wire response.
fn finish(answer: http::Response<Bytes>, actions: &[FaultAction]) -> http::Response<HttpBody> {
    let (parts, mut bytes) = answer.into_parts();
    for action in actions {
        if matches!(action, FaultAction::Corrupt) && !bytes.is_empty() {
            let mut copy = bytes.to_vec();
            let middle = copy.len() / 2;
            if let Some(byte) = copy.get_mut(middle) {
                *byte ^= 0xff;
            }
            bytes = Bytes::from(copy);
        }
    }
    let cut = actions.iter().find_map(|action| match action {
        FaultAction::DropAfter(keep) => Some(usize::try_from(*keep).unwrap_or(usize::MAX)),
        _ => None,
    });
    let body = match cut {
        Some(keep) if keep < bytes.len() => {
            let error: BoxError = Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "fault injected: connection dropped",
            ));
            Cut {
                data: Some(bytes.slice(..keep)),
                paused: false,
                error: Some(error),
            }
            .boxed_unsync()
        }
        _ => full(bytes),
    };
    http::Response::from_parts(parts, body)
}

/// A body cut short: its first bytes, one pause so they reach the client,
/// then an error that makes hyper drop the connection.
struct Cut {
    data: Option<Bytes>,
    paused: bool,
    error: Option<BoxError>,
}

impl http_body::Body for Cut {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        if let Some(data) = self.data.take().filter(|d| !d.is_empty()) {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(data))));
        }
        if !self.paused {
            self.paused = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(self.error.take().map(Err))
    }
}
