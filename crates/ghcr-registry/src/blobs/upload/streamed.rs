//! One request carrying the rest of a blob as a stream: a PATCH without
//! Content-Range (then a separate commit), or a PUT `?digest=` that commits.
//!
//! A task reads and hashes the source while the previous pieces are on the
//! wire; a bounded channel of 1 MiB pieces keeps memory flat.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use ghcr_transport::{Body, BoxError, HttpBody, Retry};
use ghcr_types::Digest;
use http::header::CONTENT_TYPE;
use http::{Method, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::session::UploadSession;
use super::{Step, Tracker};
use crate::blobs::source::{Feed, READ_SIZE};
use crate::client::{Budget, RegistryClient, with_query};
use crate::error::{Error, Result};
use crate::request::{drain, failure};

/// Pieces queued ahead of the socket (each also holds the client's budget).
const QUEUE: usize = 2;

/// Which request carries the stream.
#[derive(Clone, Copy)]
pub(super) enum Carrier<'a> {
    /// PATCH, appending at the registry's end of the upload.
    Patch,
    /// PUT `?digest=`, appending and committing.
    Put(&'a Digest),
}

/// Sends everything from the feed's position; gives the feed back with the
/// request's outcome (the outer error means the feed was lost).
pub(super) async fn send(
    client: &RegistryClient,
    session: &mut UploadSession,
    feed: Feed,
    size: Option<u64>,
    carrier: Carrier<'_>,
    tracker: &Tracker,
) -> Result<(Feed, Result<Step>)> {
    let remaining = size.map(|size| size.saturating_sub(feed.position()));
    let (sender, receiver) = mpsc::channel(QUEUE);
    let reading = tokio::spawn(produce(
        feed,
        sender,
        tracker.clone(),
        client.budget.clone(),
    ));
    let body = ChannelBody {
        receiver,
        remaining,
    };
    let outcome = request(client, session, body.boxed_unsync(), remaining, carrier).await;
    let (feed, produced) = reading.await.map_err(|join| Error::Interrupted {
        what: "the upload's reader".into(),
        source: Box::new(join),
    })?;
    // A failure to read the source explains a failed request better than
    // the request's own error does.
    Ok(match (produced, outcome) {
        (Err(error), _) => (feed, Err(error)),
        (Ok(()), Ok(step)) if !feed.is_done() => (
            feed,
            Err(Error::protocol(
                &session.location,
                format!("the registry answered {step:?} before the whole body was sent"),
            )),
        ),
        (Ok(()), outcome) => (feed, outcome),
    })
}

async fn request(
    client: &RegistryClient,
    session: &mut UploadSession,
    body: HttpBody,
    remaining: Option<u64>,
    carrier: Carrier<'_>,
) -> Result<Step> {
    let (method, url) = match carrier {
        Carrier::Patch => (Method::PATCH, session.location.clone()),
        Carrier::Put(digest) => (
            Method::PUT,
            with_query(&session.location, &[("digest", digest.as_str())])?,
        ),
    };
    let response = client
        .call(method.clone(), &url, session.scope(), "uploads")
        .origin(session.origin())
        .header(CONTENT_TYPE, "application/octet-stream")
        .retry(Retry::Never)
        .upload_timeout()
        .send(Body::stream(body, remaining))
        .await?;
    let status = response.status();
    if !status.is_success() {
        return Err(failure(response, &method, &url).await);
    }
    match carrier {
        Carrier::Patch => {
            session.advance(client, &response)?;
            drain(response).await;
            Ok(Step::Sent)
        }
        Carrier::Put(_) if status == StatusCode::CREATED || status.is_success() => {
            drain(response).await;
            Ok(Step::Committed)
        }
        Carrier::Put(_) => Err(Error::protocol(&url, format!("unexpected {status}"))),
    }
}

async fn produce(
    mut feed: Feed,
    sender: mpsc::Sender<Piece>,
    tracker: Tracker,
    budget: Arc<Budget>,
) -> (Feed, Result<()>) {
    loop {
        let permit = budget.take(READ_SIZE).await;
        match feed.next(READ_SIZE).await {
            Ok(Some(piece)) => {
                if sender.send(Ok((piece, permit))).await.is_err() {
                    // The request ended: its outcome says why.
                    return (feed, Ok(()));
                }
                tracker.advanced(feed.position());
            }
            Ok(None) => return (feed, Ok(())),
            Err(error) => {
                let _ = sender
                    .send(Err(format!("reading the source failed: {error}").into()))
                    .await;
                return (feed, Err(error));
            }
        }
    }
}

/// A piece of the body and its share of the client's memory budget, or
/// the reason reading stopped.
type Piece = Result<(Bytes, Option<OwnedSemaphorePermit>), BoxError>;

/// A request body fed from a channel; a piece's budget is given back when
/// hyper takes it.
struct ChannelBody {
    receiver: mpsc::Receiver<Piece>,
    remaining: Option<u64>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.receiver.poll_recv(cx) {
            Poll::Ready(Some(Ok((bytes, _permit)))) => {
                if let Some(remaining) = &mut self.remaining {
                    *remaining = remaining.saturating_sub(bytes.len() as u64);
                }
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.remaining
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}
