//! Small registries that misbehave on purpose: blobs with wrong or missing
//! bytes, manifests whose announced digest lies, and a server that counts
//! what reaches it. `serve` and `full` are shared with the other servers
//! of the support code.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use ghcr_types::Digest;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};

pub(crate) type Reply = http::Response<http_body_util::combinators::BoxBody<Bytes, std::io::Error>>;
pub(crate) type Handler = Arc<
    dyn Fn(
            http::Request<Incoming>,
        ) -> Pin<Box<dyn Future<Output = Result<Reply, std::io::Error>> + Send>>
        + Send
        + Sync,
>;

/// Serves `handler` on 127.0.0.1 until the test ends; a handler error
/// drops the connection.
pub(crate) async fn serve(handler: Handler) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| handler(request));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

pub(crate) fn full(status: u16, headers: &[(&str, String)], body: Bytes) -> Reply {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder
        .body(
            Full::new(body)
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .unwrap()
}

/// How a blob is served wrong.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BadBlob {
    /// Right length, other bytes.
    WrongBytes,
    /// Content-Length of the whole blob, then the connection closes halfway.
    CutHalfway,
    /// A complete answer that is half the blob.
    HalfAnswer,
}

/// Serves `blob` under its digest in any repository, spoiled as `how`.
pub(crate) async fn bad_blob_server(blob: Bytes, how: BadBlob) -> SocketAddr {
    let handler: Handler = Arc::new(move |request| {
        let blob = blob.clone();
        Box::pin(async move {
            if !request.uri().path().contains("/blobs/") {
                return Ok(full(404, &[], Bytes::new()));
            }
            let len = blob.len();
            Ok(match how {
                BadBlob::WrongBytes => {
                    let mut wrong = blob.to_vec();
                    wrong[len / 2] ^= 0xff;
                    full(200, &[], wrong.into())
                }
                BadBlob::HalfAnswer => full(200, &[], blob.slice(..len / 2)),
                BadBlob::CutHalfway => {
                    let half = blob.slice(..len / 2);
                    let frames = futures_util::stream::iter([
                        Ok(Frame::data(half)),
                        Err(std::io::Error::other("cut on purpose")),
                    ]);
                    http::Response::builder()
                        .header("content-length", len.to_string())
                        .body(StreamBody::new(frames).boxed())
                        .unwrap()
                }
            })
        })
    });
    serve(handler).await
}

/// Serves `manifest` with a `Docker-Content-Digest` that does not match it.
pub(crate) async fn lying_manifest_server(manifest: Bytes, announced: Digest) -> SocketAddr {
    let handler: Handler = Arc::new(move |_request| {
        let manifest = manifest.clone();
        let announced = announced.clone();
        Box::pin(async move {
            Ok(full(
                200,
                &[
                    (
                        "content-type",
                        "application/vnd.oci.image.manifest.v1+json".to_owned(),
                    ),
                    ("docker-content-digest", announced.to_string()),
                ],
                manifest,
            ))
        })
    });
    serve(handler).await
}

/// Counts requests and answers 429, like the page ghcr.io's referrers
/// redirect leads to.
pub(crate) async fn counting_server(hits: Arc<std::sync::atomic::AtomicUsize>) -> SocketAddr {
    let handler: Handler = Arc::new(move |_request| {
        hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(full(429, &[], Bytes::new())) })
    });
    serve(handler).await
}

/// A manifest answer that never ends: with `announced`, that Content-Length
/// and then no byte at all; without, spaces for ever.
pub(crate) async fn endless_manifest_server(announced: Option<u64>) -> SocketAddr {
    let handler: Handler = Arc::new(move |_request| {
        Box::pin(async move {
            let mut builder = http::Response::builder()
                .header("content-type", "application/vnd.oci.image.manifest.v1+json");
            let body = match announced {
                Some(length) => {
                    builder = builder.header("content-length", length.to_string());
                    StreamBody::new(futures_util::stream::pending()).boxed()
                }
                None => StreamBody::new(futures_util::stream::repeat_with(|| {
                    Ok(Frame::data(Bytes::from(vec![b' '; 64 * 1024])))
                }))
                .boxed(),
            };
            Ok(builder.body(body).unwrap())
        })
    });
    serve(handler).await
}

/// Fixed answers by path (`/v2/team/app/manifests/v1`): a content type and
/// a body each; 404 for anything else.
pub(crate) async fn files_server(files: Vec<(String, &'static str, Bytes)>) -> SocketAddr {
    let files = Arc::new(files);
    let handler: Handler = Arc::new(move |request| {
        let files = files.clone();
        Box::pin(async move {
            let found = files.iter().find(|(path, ..)| path == request.uri().path());
            Ok(match found {
                Some((_, content_type, body)) => full(
                    200,
                    &[("content-type", (*content_type).to_owned())],
                    body.clone(),
                ),
                None => full(404, &[], Bytes::new()),
            })
        })
    });
    serve(handler).await
}

/// Serves `blob`; the first GET announces it whole and breaks off halfway,
/// later ones answer a Range with 206 when `honour_range`, else with the
/// whole blob (200). Notes each GET's Range header.
pub(crate) async fn flaky_blob_server(
    blob: Bytes,
    honour_range: bool,
) -> (SocketAddr, Arc<std::sync::Mutex<Vec<Option<String>>>>) {
    let ranges = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = ranges.clone();
    let handler: Handler = Arc::new(move |request| {
        let blob = blob.clone();
        let ranges = seen.clone();
        Box::pin(async move {
            if !request.uri().path().contains("/blobs/") {
                return Ok(full(404, &[], Bytes::new()));
            }
            let range = request
                .headers()
                .get("range")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let first = {
                let mut ranges = ranges.lock().unwrap();
                ranges.push(range.clone());
                ranges.len() == 1
            };
            let len = blob.len();
            if first {
                let frames = futures_util::stream::iter([
                    Ok(Frame::data(blob.slice(..len / 2))),
                    Err(std::io::Error::other("cut on purpose")),
                ]);
                return Ok(http::Response::builder()
                    .header("content-length", len.to_string())
                    .body(StreamBody::new(frames).boxed())
                    .unwrap());
            }
            let start = range
                .as_deref()
                .and_then(|r| {
                    r.strip_prefix("bytes=")?
                        .strip_suffix('-')?
                        .parse::<usize>()
                        .ok()
                })
                .filter(|_| honour_range);
            Ok(match start {
                Some(start) => full(
                    206,
                    &[("content-range", format!("bytes {start}-{}/{len}", len - 1))],
                    blob.slice(start..),
                ),
                None => full(200, &[], blob),
            })
        })
    });
    (serve(handler).await, ranges)
}

/// Serves half of `blob` under a Content-Length of all of it, then sends
/// nothing more; `sent` is notified once the half is on its way.
pub(crate) async fn stalling_blob_server(blob: Bytes) -> (SocketAddr, Arc<tokio::sync::Notify>) {
    let sent = Arc::new(tokio::sync::Notify::new());
    let notify = sent.clone();
    let handler: Handler = Arc::new(move |_request| {
        let (blob, notify) = (blob.clone(), notify.clone());
        Box::pin(async move {
            let half = blob.slice(..blob.len() / 2);
            let frames = futures_util::StreamExt::chain(
                futures_util::stream::once(async move {
                    notify.notify_one();
                    Ok(Frame::data(half))
                }),
                futures_util::stream::pending(),
            );
            Ok(http::Response::builder()
                .header("content-length", blob.len().to_string())
                .body(StreamBody::new(frames).boxed())
                .unwrap())
        })
    });
    (serve(handler).await, sent)
}
