//! The recorder: a `tower::Layer` over the wire that keeps every
//! interaction, redacted, and writes them as a cassette when finished.

mod tee;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use http_body::Body as _;
use http_body_util::BodyExt;
use tower::{Layer, Service};

use crate::body::{BoxError, HttpBody};
use crate::cassette::{
    Cassette, CassetteMeta, DEFAULT_BODY_THRESHOLD, Interaction, RecordedError, RecordedRequest,
    RecordedResponse,
};
use crate::error::Result;
use crate::redact;
use tee::{Capture, SharedCapture, TeeBody, lock};

/// Records the wire it wraps into a cassette folder.
///
/// Put it where it sees the wire: after auth, before the network
/// (`ghcr_transport::Transport::builder().wire_layer(recorder.clone())`).
/// Bodies stream through untouched (uploads are not buffered before
/// sending); copies are kept, and an interaction is complete when its
/// response body has been read or dropped. Credentials, token answers and
/// signed query strings are redacted before anything is kept, so nothing
/// secret ever reaches the disk. Clones share one recording.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use tower::{Layer, ServiceExt};
///
/// let dir = tempfile::tempdir()?;
/// let recorder = ghcr_sim::RecordLayer::new(dir.path().join("hello"));
/// // Any wire: here a script standing in for the network.
/// let network = tower::service_fn(|_request: http::Request<ghcr_sim::HttpBody>| async {
///     Ok::<_, ghcr_sim::BoxError>(http::Response::new(ghcr_sim::full(r#"{"token":"s3cret"}"#)))
/// });
/// let wire = recorder.layer(network);
/// let request = http::Request::get("http://127.0.0.1:1/token").body(ghcr_sim::empty())?;
/// let response = wire.oneshot(request).await?;
/// drop(response); // The interaction is complete once its body is read or dropped.
/// recorder.finish()?;
///
/// let cassette = ghcr_sim::Cassette::load(&dir.path().join("hello"))?;
/// let body = cassette.interactions()[0].response_body().unwrap();
/// assert_eq!(body, &format!(r#"{{"token":"{}"}}"#, ghcr_sim::TOKEN_MARKER)[..]);
/// # Ok::<(), ghcr_sim::BoxError>(())
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct RecordLayer {
    shared: Arc<Recording>,
}

#[derive(Debug)]
struct Recording {
    dir: PathBuf,
    meta: Mutex<CassetteMeta>,
    body_threshold: usize,
    next: AtomicU64,
    done: Mutex<Vec<(u64, Interaction)>>,
}

impl Recording {
    fn push(&self, sequence: u64, interaction: Interaction) {
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((sequence, interaction));
    }
}

impl RecordLayer {
    /// A recorder that will write to the folder `dir` (`cassette.json` and
    /// `bodies/`), replacing it on [`RecordLayer::finish`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_settings(dir.into(), CassetteMeta::default(), DEFAULT_BODY_THRESHOLD)
    }

    fn with_settings(dir: PathBuf, meta: CassetteMeta, body_threshold: usize) -> Self {
        Self {
            shared: Arc::new(Recording {
                dir,
                meta: Mutex::new(meta),
                body_threshold,
                next: AtomicU64::new(0),
                done: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Bodies larger than this go to side files named by their sha256.
    /// Default: 16 KiB. Set it before handing the layer out: clones made
    /// earlier keep the old recording.
    #[must_use]
    pub fn body_threshold(self, bytes: usize) -> Self {
        let meta = self.meta();
        Self::with_settings(self.shared.dir.clone(), meta, bytes)
    }

    /// Sets what the cassette says about the recording. Default: nothing.
    pub fn set_meta(&self, meta: CassetteMeta) {
        *self
            .shared
            .meta
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = meta;
    }

    fn meta(&self) -> CassetteMeta {
        self.shared
            .meta
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The folder the cassette goes to.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// How many interactions are complete so far.
    pub fn len(&self) -> usize {
        self.shared
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no interaction is complete yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The complete interactions so far, in the order their requests started.
    pub fn cassette(&self) -> Cassette {
        let mut done = self
            .shared
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        done.sort_by_key(|(sequence, _)| *sequence);
        let mut cassette = Cassette::new(self.meta());
        cassette.body_threshold = self.shared.body_threshold;
        cassette.interactions = done.into_iter().map(|(_, i)| i).collect();
        cassette
    }

    /// Writes the complete interactions to the folder, replacing what was
    /// there, and returns the folder. Interactions whose response body is
    /// still held are not included.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Io`] when the folder cannot be written.
    pub fn finish(&self) -> Result<PathBuf> {
        self.cassette().save(&self.shared.dir)?;
        Ok(self.shared.dir.clone())
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The recording service [`RecordLayer`] puts around a wire.
#[derive(Clone, Debug)]
pub struct Record<S> {
    inner: S,
    shared: Arc<Recording>,
}

/// The response future of [`Record`].
pub type RecordFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<HttpBody>, BoxError>> + Send>>;

impl<S> Service<http::Request<HttpBody>> for Record<S>
where
    S: Service<http::Request<HttpBody>, Response = http::Response<HttpBody>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = RecordFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<HttpBody>) -> RecordFuture {
        let sequence = self.shared.next.fetch_add(1, Ordering::SeqCst);
        let (parts, body) = request.into_parts();
        let pending = Pending {
            method: parts.method.to_string(),
            url: redact::url(&parts.uri.to_string()),
            headers: redact::request_headers(&parts.headers),
            content_type: content_type(&parts.headers),
            capture: SharedCapture::default(),
        };
        let body = TeeBody::new(body, pending.capture.clone()).boxed_unsync();
        // Boxed to a named type up front: rustc cannot prove the inner future
        // `Send` for every lifetime inside the async block otherwise.
        let sent: RecordFuture = Box::pin(self.inner.call(http::Request::from_parts(parts, body)));
        let shared = self.shared.clone();
        Box::pin(async move {
            match sent.await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let status = parts.status.as_u16();
                    let headers = redact::response_headers(&parts.headers);
                    let response_type = content_type(&parts.headers);
                    let finish = move |seen: &Capture| {
                        let mut headers = headers;
                        let body =
                            redacted_body(&seen.bytes(), response_type.as_deref(), &mut headers);
                        let response = RecordedResponse {
                            status,
                            headers,
                            body,
                            body_complete: seen.complete,
                            body_error: seen.error.clone(),
                        };
                        shared.push(sequence, pending.finish(Ok(response)));
                    };
                    let small = body
                        .size_hint()
                        .upper()
                        .is_some_and(|upper| upper <= EAGER_BODY_LIMIT);
                    let body = if small {
                        // Small answers are read now, so they are recorded whole
                        // even when the caller drops them unread.
                        let seen = read_all(body).await;
                        finish(&seen);
                        match &seen.error {
                            None => crate::body::full(seen.bytes()),
                            Some(error) => crate::body::Frames::broken(
                                seen.bytes(),
                                Box::new(error.to_io_error()),
                            )
                            .boxed_unsync(),
                        }
                    } else {
                        let capture = SharedCapture::default();
                        let seen = capture.clone();
                        TeeBody::new(body, capture)
                            .on_drop(move || finish(&lock(&seen)))
                            .boxed_unsync()
                    };
                    Ok(http::Response::from_parts(parts, body))
                }
                Err(error) => {
                    let recorded = RecordedError::from_error(error.as_ref());
                    shared.push(sequence, pending.finish(Err(recorded)));
                    Err(error)
                }
            }
        })
    }
}

/// Response bodies announcing at most this many bytes are read at once.
const EAGER_BODY_LIMIT: u64 = 1024 * 1024;

/// Reads a whole body, keeping what arrived before a failure.
async fn read_all(mut body: HttpBody) -> Capture {
    let mut seen = Capture::default();
    loop {
        match body.frame().await {
            None => {
                seen.complete = true;
                return seen;
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    seen.push(data);
                }
            }
            Some(Err(error)) => {
                seen.error = Some(RecordedError::from_error(error.as_ref()));
                return seen;
            }
        }
    }
}

/// A request waiting for its response.
struct Pending {
    method: String,
    url: String,
    headers: crate::cassette::Headers,
    content_type: Option<String>,
    capture: SharedCapture,
}

impl Pending {
    fn finish(self, outcome: Result<RecordedResponse, RecordedError>) -> Interaction {
        let seen = lock(&self.capture);
        let mut headers = self.headers;
        let request = RecordedRequest {
            body: redacted_body(&seen.bytes(), self.content_type.as_deref(), &mut headers),
            body_complete: seen.complete,
            method: self.method,
            url: self.url,
            headers,
        };
        drop(seen);
        Interaction { request, outcome }
    }
}

/// Redacts a body; when that changed its length, the recorded
/// `content-length` follows, so a replayed answer is self-consistent.
fn redacted_body(
    bytes: &bytes::Bytes,
    content_type: Option<&str>,
    headers: &mut crate::cassette::Headers,
) -> bytes::Bytes {
    let redacted = redact::body(bytes, content_type);
    if redacted.len() != bytes.len()
        && let Some(length) = headers.get_mut("content-length")
    {
        *length = vec![redacted.len().to_string()];
    }
    redacted
}

fn content_type(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
