//! Request bodies that know whether they can be sent twice, and the boxed
//! body type of the wire.

use std::fmt;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};

/// The error type of bodies and of the services inside the stack.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type on the wire, both ways: what the innermost service (the
/// hyper client, a recorder, a replayer) takes and returns.
pub type HttpBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A request body.
///
/// Empty and in-memory bodies can be sent again, so requests carrying them
/// can be retried, redirected with 307/308 and re-sent after a 401. A
/// streamed body is sent once; the caller resumes it if it fails (the
/// registry crate does, from the upload's `Range`).
///
/// ```
/// use ghcr_transport::Body;
///
/// let body = Body::from("{}");
/// assert_eq!(body.len(), Some(2));
/// assert!(body.try_clone().is_some());
/// ```
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Full(Bytes),
    Stream { body: HttpBody, length: Option<u64> },
}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Self { kind: Kind::Empty }
    }

    /// A streamed body of `length` bytes when known (sent as Content-Length).
    pub fn stream(body: HttpBody, length: Option<u64>) -> Self {
        Self {
            kind: Kind::Stream { body, length },
        }
    }

    /// A copy for sending again, unless the body is a stream.
    pub fn try_clone(&self) -> Option<Self> {
        match &self.kind {
            Kind::Empty => Some(Self::empty()),
            Kind::Full(bytes) => Some(Self {
                kind: Kind::Full(bytes.clone()),
            }),
            Kind::Stream { .. } => None,
        }
    }

    /// The length in bytes, when known.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(bytes) => Some(bytes.len() as u64),
            Kind::Stream { length, .. } => *length,
        }
    }

    /// Whether the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The bytes of an in-memory body.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(bytes) => Some(bytes),
            Kind::Empty | Kind::Stream { .. } => None,
        }
    }

    /// The body as it goes on the wire.
    pub fn into_http_body(self) -> HttpBody {
        match self.kind {
            Kind::Empty => Empty::new().map_err(|never| match never {}).boxed_unsync(),
            Kind::Full(bytes) => Full::new(bytes)
                .map_err(|never| match never {})
                .boxed_unsync(),
            Kind::Stream { body, .. } => body,
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            Self::empty()
        } else {
            Self {
                kind: Kind::Full(bytes),
            }
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("Body::Empty"),
            Kind::Full(bytes) => write!(f, "Body::Full({} bytes)", bytes.len()),
            Kind::Stream { length, .. } => write!(f, "Body::Stream({length:?} bytes)"),
        }
    }
}

/// A copy of `request` for sending again: `None` when its body is a stream.
pub(crate) fn try_clone_request(request: &http::Request<Body>) -> Option<http::Request<Body>> {
    let body = request.body().try_clone()?;
    let mut copy = http::Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

/// Reads at most `limit` bytes of a body, for error messages and small
/// answers; the rest is dropped.
pub(crate) async fn read_limited(mut body: HttpBody, limit: usize) -> Result<Bytes, BoxError> {
    let mut collected = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            let room = limit.saturating_sub(collected.len());
            collected.extend_from_slice(&data[..data.len().min(room)]);
            if collected.len() >= limit {
                break;
            }
        }
    }
    Ok(collected.freeze())
}

/// A wire body holding `bytes`.
pub(crate) fn full(bytes: Bytes) -> HttpBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_only_replayable_bodies() {
        assert!(Body::empty().try_clone().is_some());
        let full = Body::from(vec![1, 2, 3]);
        assert_eq!(
            full.try_clone().unwrap().as_bytes().unwrap().as_ref(),
            [1, 2, 3]
        );
        let stream = Body::stream(full.into_http_body(), Some(3));
        assert!(stream.try_clone().is_none());
        assert_eq!(stream.len(), Some(3));
        assert!(Body::from(Bytes::new()).is_empty());
    }

    #[tokio::test]
    async fn read_limited_stops_at_the_limit() {
        let body = full(Bytes::from(vec![7u8; 100]));
        assert_eq!(read_limited(body, 10).await.unwrap().len(), 10);
    }
}
