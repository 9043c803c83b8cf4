//! A body that copies what flows through it without holding it up.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use crate::body::{BoxError, HttpBody};
use crate::cassette::RecordedError;

/// What a tee saw: the chunks (shared, not copied), whether the stream
/// reached its end, and how it broke if it did.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    chunks: Vec<Bytes>,
    pub(crate) complete: bool,
    pub(crate) error: Option<RecordedError>,
}

impl Capture {
    /// Keeps a chunk.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        self.chunks.push(chunk);
    }

    /// The bytes seen, joined.
    pub(crate) fn bytes(&self) -> Bytes {
        match self.chunks.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => {
                let mut joined = BytesMut::with_capacity(many.iter().map(Bytes::len).sum());
                for chunk in many {
                    joined.extend_from_slice(chunk);
                }
                joined.freeze()
            }
        }
    }
}

pub(crate) type SharedCapture = Arc<Mutex<Capture>>;

pub(crate) fn lock(capture: &SharedCapture) -> std::sync::MutexGuard<'_, Capture> {
    capture.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Passes frames through, keeping a copy of each data frame; runs `on_drop`
/// when the body goes away (read to the end or abandoned).
pub(crate) struct TeeBody {
    inner: HttpBody,
    capture: SharedCapture,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl TeeBody {
    pub(crate) fn new(inner: HttpBody, capture: SharedCapture) -> Self {
        if inner.is_end_stream() {
            lock(&capture).complete = true;
        }
        Self {
            inner,
            capture,
            on_drop: None,
        }
    }

    pub(crate) fn on_drop(mut self, callback: impl FnOnce() + Send + 'static) -> Self {
        self.on_drop = Some(Box::new(callback));
        self
    }
}

impl Body for TeeBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let mut capture = lock(&this.capture);
                if let Some(data) = frame.data_ref() {
                    capture.push(data.clone());
                }
                if this.inner.is_end_stream() {
                    capture.complete = true;
                }
            }
            Poll::Ready(Some(Err(error))) => {
                lock(&this.capture).error = Some(RecordedError::from_error(error.as_ref()));
            }
            Poll::Ready(None) => lock(&this.capture).complete = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for TeeBody {
    fn drop(&mut self) {
        if let Some(callback) = self.on_drop.take() {
            callback();
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn copies_frames_and_reports_the_end_once() {
        let capture = SharedCapture::default();
        let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = dropped.clone();
        let tee = TeeBody::new(crate::body::full("hello"), capture.clone()).on_drop(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let read = tee.collect().await.unwrap().to_bytes();
        assert_eq!(read, "hello");
        let seen = lock(&capture);
        assert_eq!(seen.bytes(), "hello");
        assert!(seen.complete);
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_abandoned_body_is_partial_and_a_broken_one_keeps_its_error() {
        let capture = SharedCapture::default();
        let broken = crate::body::Frames::broken(
            Bytes::from_static(b"ab"),
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        );
        let mut tee = TeeBody::new(broken.boxed_unsync(), capture.clone());
        let first = tee.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "ab");
        {
            let seen = lock(&capture);
            assert_eq!(seen.bytes(), "ab");
            assert!(!seen.complete, "the body has not ended");
        }
        assert!(tee.frame().await.unwrap().is_err());
        drop(tee);
        let seen = lock(&capture);
        assert!(!seen.complete);
        assert_eq!(seen.error.as_ref().unwrap().kind, "connection_reset");
    }
}
