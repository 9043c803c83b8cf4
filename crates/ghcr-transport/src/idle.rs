//! An idle timeout on response bodies: each frame must arrive within the
//! limit of the one before (or of the head), so a server that sends the
//! head and then trickles or stops cannot hold a reader forever.
//!
//! The wire wraps every response body in it, so every reader above (blob
//! and manifest reads, error bodies, drains, token answers) gets it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::time::{Instant, Sleep};

use crate::body::{BoxError, HttpBody};

pin_project_lite::pin_project! {
    /// A body that fails with [`crate::Error::Stalled`] when no frame comes
    /// within `idle`.
    pub(crate) struct IdleTimeoutBody {
        #[pin]
        inner: HttpBody,
        #[pin]
        sleep: Sleep,
        idle: Duration,
        url: String,
        stalled: bool,
    }
}

/// `body` from `url` (shown without its query), with an idle timeout.
pub(crate) fn idle_timeout(body: HttpBody, idle: Duration, url: &http::Uri) -> HttpBody {
    IdleTimeoutBody {
        inner: body,
        sleep: tokio::time::sleep(idle),
        idle,
        url: crate::error::redact_url(url),
        stalled: false,
    }
    .boxed_unsync()
}

impl http_body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if *this.stalled {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            this.sleep.reset(Instant::now() + *this.idle);
            return Poll::Ready(frame);
        }
        ready!(this.sleep.poll(cx));
        *this.stalled = true;
        Poll::Ready(Some(Err(Box::new(crate::Error::Stalled {
            url: std::mem::take(this.url),
            after: *this.idle,
        }))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A body that yields one byte after each gap, then ends.
    struct Trickle {
        gaps: VecDeque<Duration>,
        sleep: Option<Pin<Box<Sleep>>>,
    }

    impl http_body::Body for Trickle {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            let Some(gap) = self.gaps.front().copied() else {
                return Poll::Ready(None);
            };
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(gap)));
            ready!(sleep.as_mut().poll(cx));
            self.sleep = None;
            self.gaps.pop_front();
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    fn trickle(gaps: &[u64]) -> HttpBody {
        Trickle {
            gaps: gaps.iter().map(|s| Duration::from_secs(*s)).collect(),
            sleep: None,
        }
        .boxed_unsync()
    }

    async fn read(gaps: &[u64]) -> (Result<usize, BoxError>, Duration) {
        let url = "https://ghcr.io/v2/o/a/blobs/sha256:x?sig=secret"
            .parse()
            .unwrap();
        let mut body = idle_timeout(trickle(gaps), Duration::from_secs(30), &url);
        let started = Instant::now();
        let mut received = 0;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => received += frame.into_data().map_or(0, |d| d.len()),
                Err(error) => return (Err(error), started.elapsed()),
            }
        }
        (Ok(received), started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn each_frame_gets_the_whole_idle_limit() {
        // Slow, but never idle for 30 s: a long transfer is not cut.
        let (received, took) = read(&[29, 29, 29, 29]).await;
        assert_eq!(received.unwrap(), 4);
        assert_eq!(took, Duration::from_secs(116));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_fails_after_the_idle_limit_naming_it_and_the_url() {
        let (received, took) = read(&[1, 3600]).await;
        let error = received.unwrap_err();
        assert_eq!(took, Duration::from_secs(31));
        let text = error.to_string();
        assert!(
            text.contains("https://ghcr.io/v2/o/a/blobs/sha256:x"),
            "{text}"
        );
        assert!(text.contains("30 s"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            matches!(error.downcast_ref::<crate::Error>(), Some(crate::Error::Stalled { after, .. }) if *after == Duration::from_secs(30)),
            "{error:?}"
        );
    }
}
