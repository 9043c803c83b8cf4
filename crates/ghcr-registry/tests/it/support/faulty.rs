//! Small registries that misbehave on purpose: blobs with wrong or missing
//! bytes, manifests whose announced digest lies, and an upload endpoint
//! that cuts a PATCH after some bytes but keeps what it got and reports it
//! in `Range` (as a registry with server-side upload state does).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ghcr_types::Digest;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};

type Reply = http::Response<http_body_util::combinators::BoxBody<Bytes, std::io::Error>>;
type Handler = Arc<
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

fn full(status: u16, headers: &[(&str, String)], body: Bytes) -> Reply {
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

/// What the resumable upload endpoint saw and holds.
#[derive(Default)]
pub(crate) struct Uploads {
    /// Bytes held per upload id.
    pub(crate) held: HashMap<String, Vec<u8>>,
    /// Committed blobs.
    pub(crate) blobs: HashMap<String, Bytes>,
    /// `METHOD path` of every request.
    pub(crate) log: Vec<String>,
    /// Cut the next PATCH after this many bytes.
    pub(crate) cut_after: Option<usize>,
}

/// An upload endpoint with server-side state: a PATCH cut midway keeps its
/// bytes, `GET` on the upload answers `Range`, and PATCHes append.
pub(crate) async fn resumable_upload_server(state: Arc<Mutex<Uploads>>) -> SocketAddr {
    let handler: Handler = Arc::new(move |request| {
        let state = state.clone();
        Box::pin(async move { upload_route(&state, request).await })
    });
    serve(handler).await
}

async fn upload_route(
    state: &Mutex<Uploads>,
    request: http::Request<Incoming>,
) -> Result<Reply, std::io::Error> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    state.lock().unwrap().log.push(format!("{method} {path}"));
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let location = |id: &str| {
        path.rsplit_once('/')
            .map(|(base, _)| format!("{base}/{id}"))
            .unwrap_or_default()
    };
    match method.as_str() {
        "HEAD" => Ok(full(404, &[], Bytes::new())),
        "POST" => {
            let id = format!("u{}", fastrand::u32(..));
            state.lock().unwrap().held.insert(id.clone(), Vec::new());
            Ok(full(
                202,
                &[("location", format!("{path}{id}"))],
                Bytes::new(),
            ))
        }
        "PATCH" => patch(state, &id, location(&id), request).await,
        "GET" => {
            let held = state.lock().unwrap().held.get(&id).map(Vec::len);
            Ok(match held {
                Some(held) => full(
                    204,
                    &[
                        ("location", location(&id)),
                        ("range", format!("0-{}", held.saturating_sub(1))),
                    ],
                    Bytes::new(),
                ),
                None => full(404, &[], Bytes::new()),
            })
        }
        "PUT" => {
            let digest = query
                .split('&')
                .find_map(|p| p.strip_prefix("digest="))
                .unwrap_or_default()
                .replace("%3A", ":");
            let tail = request
                .into_body()
                .collect()
                .await
                .map_err(std::io::Error::other)?
                .to_bytes();
            let mut guard = state.lock().unwrap();
            let Some(mut held) = guard.held.remove(&id) else {
                return Ok(full(404, &[], Bytes::new()));
            };
            held.extend_from_slice(&tail);
            if Digest::sha256_of(&held).as_str() != digest {
                return Ok(full(400, &[], Bytes::from_static(br#"{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}"#)));
            }
            guard.blobs.insert(digest.clone(), held.into());
            Ok(full(
                201,
                &[("docker-content-digest", digest)],
                Bytes::new(),
            ))
        }
        "DELETE" => {
            state.lock().unwrap().held.remove(&id);
            Ok(full(204, &[], Bytes::new()))
        }
        _ => Ok(full(405, &[], Bytes::new())),
    }
}

async fn patch(
    state: &Mutex<Uploads>,
    id: &str,
    location: String,
    request: http::Request<Incoming>,
) -> Result<Reply, std::io::Error> {
    let cut = state.lock().unwrap().cut_after.take();
    let mut body = request.into_body();
    let mut taken = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(std::io::Error::other)?.into_data() else {
            continue;
        };
        let room = cut.map_or(data.len(), |cut| cut.saturating_sub(taken).min(data.len()));
        state
            .lock()
            .unwrap()
            .held
            .entry(id.to_owned())
            .or_default()
            .extend_from_slice(&data[..room]);
        taken += room;
        if room < data.len() {
            return Err(std::io::Error::other("cut on purpose"));
        }
    }
    let held = state.lock().unwrap().held.get(id).map_or(0, Vec::len);
    Ok(full(
        202,
        &[
            ("location", location),
            ("range", format!("0-{}", held.saturating_sub(1))),
        ],
        Bytes::new(),
    ))
}

/// Pages `tags` by `n` and `last`, giving one tag fewer than asked on every
/// other page, with a relative `Link` while more remain; notes each query.
pub(crate) async fn paging_tag_server(
    tags: Vec<String>,
    seen: Arc<Mutex<Vec<String>>>,
) -> SocketAddr {
    let handler: Handler = Arc::new(move |request| {
        let tags = tags.clone();
        let seen = seen.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let query = request.uri().query().unwrap_or_default().to_owned();
            let calls = {
                let mut seen = seen.lock().unwrap();
                seen.push(query.clone());
                seen.len()
            };
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_owned))
            };
            let n: usize = param("n").and_then(|n| n.parse().ok()).unwrap_or(100);
            let n = if calls % 2 == 0 {
                n.saturating_sub(1).max(1)
            } else {
                n
            };
            let start = param("last").map_or(0, |last| {
                tags.iter()
                    .position(|t| *t == last)
                    .map_or(tags.len(), |i| i + 1)
            });
            let page: Vec<&String> = tags.iter().skip(start).take(n).collect();
            let mut headers = Vec::new();
            if let Some(last) = page.last().filter(|_| start + page.len() < tags.len()) {
                headers.push((
                    "link",
                    format!(
                        "<{path}?n={}&last={last}>; rel=\"next\"",
                        param("n").unwrap_or_else(|| "100".into())
                    ),
                ));
            }
            let body = serde_json::json!({ "name": "team/many", "tags": page }).to_string();
            Ok(full(200, &headers, Bytes::from(body)))
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

/// Serves `index` from the referrers API (`api`), or answers the API with
/// a 303 to `redirect` and serves `index` under the fallback tag instead.
pub(crate) async fn referrers_server(api: bool, index: String, redirect: String) -> SocketAddr {
    let handler: Handler = Arc::new(move |request| {
        let index = index.clone();
        let redirect = redirect.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let oci_index = || {
                (
                    "content-type",
                    "application/vnd.oci.image.index.v1+json".to_owned(),
                )
            };
            Ok(if path.contains("/referrers/") {
                if api {
                    full(200, &[oci_index()], Bytes::from(index))
                } else {
                    full(303, &[("location", redirect)], Bytes::new())
                }
            } else if path.contains("/manifests/sha256-") && !api {
                full(200, &[oci_index()], Bytes::from(index))
            } else {
                full(404, &[], Bytes::new())
            })
        })
    });
    serve(handler).await
}
