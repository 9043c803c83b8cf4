//! An upload endpoint with server-side state, as a registry that keeps what
//! a cut PATCH delivered: it reports it in `Range` so the client can go on.
//! It can also answer slowly while counting how many requests wait at
//! once, stop reading a PATCH midway, stall an answer, and take manifests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ghcr_types::Digest;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};

use super::faulty::{Handler, Reply, full, serve};

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
    /// Stop reading every PATCH after this many bytes, without answering.
    pub(crate) stall_after: Option<usize>,
    /// Answer the next PATCH, once read, 429 with a body that never comes
    /// (a gateway that stalls mid-answer).
    pub(crate) stall_patch_answer: bool,
    /// PATCH body bytes received, in all.
    pub(crate) received: usize,
    /// Methods (`HEAD`, `PUT`, `PATCH`) answered only after `delay`, once
    /// their body is read.
    pub(crate) delayed: Vec<&'static str>,
    pub(crate) delay: Duration,
    /// Requests being answered now per method, and the most there were at
    /// once.
    pub(crate) in_flight: HashMap<String, usize>,
    pub(crate) most_in_flight: HashMap<String, usize>,
}

impl Uploads {
    /// Answers `methods` after `delay`, counting how many wait at once.
    pub(crate) fn holding(methods: &[&'static str], delay: Duration) -> Self {
        Self {
            delayed: methods.to_vec(),
            delay,
            ..Self::default()
        }
    }

    /// The most `method` requests there were at once.
    pub(crate) fn most(&self, method: &str) -> usize {
        self.most_in_flight.get(method).copied().unwrap_or(0)
    }
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

/// Answers `request`, counting it in flight and holding delayed methods.
async fn upload_route(
    state: &Mutex<Uploads>,
    request: http::Request<Incoming>,
) -> Result<Reply, std::io::Error> {
    let method = request.method().to_string();
    let delay = {
        let mut state = state.lock().unwrap();
        let now = {
            let count = state.in_flight.entry(method.clone()).or_default();
            *count += 1;
            *count
        };
        let most = state.most_in_flight.entry(method.clone()).or_default();
        *most = (*most).max(now);
        state
            .delayed
            .contains(&method.as_str())
            .then_some(state.delay)
    };
    let reply = answer(state, request).await;
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(count) = state.lock().unwrap().in_flight.get_mut(&method) {
        *count -= 1;
    }
    reply
}

async fn answer(
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
        "PUT" if path.contains("/manifests/") => {
            let digest = Digest::sha256_of(&body_of(request).await?).to_string();
            Ok(full(
                201,
                &[("docker-content-digest", digest)],
                Bytes::new(),
            ))
        }
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
            let tail = body_of(request).await?;
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

async fn body_of(request: http::Request<Incoming>) -> Result<Bytes, std::io::Error> {
    Ok(request
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes())
}

async fn patch(
    state: &Mutex<Uploads>,
    id: &str,
    location: String,
    request: http::Request<Incoming>,
) -> Result<Reply, std::io::Error> {
    let (cut, stall, stall_answer) = {
        let mut state = state.lock().unwrap();
        let stall_answer = std::mem::take(&mut state.stall_patch_answer);
        (state.cut_after.take(), state.stall_after, stall_answer)
    };
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
        state.lock().unwrap().received += room;
        if room < data.len() {
            return Err(std::io::Error::other("cut on purpose"));
        }
        if stall.is_some_and(|stall| taken >= stall) {
            // Reads no more: the client's socket fills up and it must wait.
            std::future::pending::<()>().await;
        }
    }
    if stall_answer {
        let never = futures_util::stream::pending::<Result<Frame<Bytes>, std::io::Error>>();
        return Ok(http::Response::builder()
            .status(429)
            .header("content-length", "100")
            .body(StreamBody::new(never).boxed())
            .unwrap());
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
