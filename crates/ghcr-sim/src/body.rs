//! The wire's types, defined here from `http-body-util` exactly as
//! `ghcr-transport` defines them, so that the recorder and the replayer plug
//! into its innermost slot without this crate depending on it.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};

/// The error type of wire bodies and services.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type on the wire, both ways (the transport's `HttpBody`).
pub type HttpBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A wire body holding `bytes`.
///
/// ```
/// use http_body::Body as _;
///
/// let body = ghcr_sim::full("{}");
/// assert_eq!(body.size_hint().exact(), Some(2));
/// ```
pub fn full(bytes: impl Into<Bytes>) -> HttpBody {
    let bytes = bytes.into();
    if bytes.is_empty() {
        return empty();
    }
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty wire body.
pub fn empty() -> HttpBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A body that yields prepared frames, then ends: used to replay a body
/// that broke mid-way and to cut a fake's answer short.
pub(crate) struct Frames(std::collections::VecDeque<Result<http_body::Frame<Bytes>, BoxError>>);

impl Frames {
    /// `bytes` (when not empty), then `error`.
    pub(crate) fn broken(bytes: Bytes, error: BoxError) -> Self {
        let mut frames = std::collections::VecDeque::new();
        if !bytes.is_empty() {
            frames.push_back(Ok(http_body::Frame::data(bytes)));
        }
        frames.push_back(Err(error));
        Self(frames)
    }
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        std::task::Poll::Ready(self.0.pop_front())
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}
