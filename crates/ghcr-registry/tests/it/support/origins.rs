//! Two origins for confused-deputy tests: a hostile registry with token
//! auth whose upload `Location` and tag `Link` point at a second server,
//! and that second server, which notes everything that reaches it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::faulty::{Handler, full, serve};

/// One request as the second origin saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) authorization: Option<String>,
    pub(crate) body_len: usize,
}

/// A server that notes each request and answers like a registry with token
/// auth: 401 with a challenge naming its own `/token` unless authorized,
/// a token at `/token`, 202 to anything else.
pub(crate) async fn witness() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr_cell = Arc::new(Mutex::new(None::<SocketAddr>));
    let cell = addr_cell.clone();
    let handler: Handler = Arc::new(move |request| {
        let (log, cell) = (log.clone(), cell.clone());
        Box::pin(async move {
            use http_body_util::BodyExt;
            let method = request.method().to_string();
            let path = request.uri().path().to_owned();
            let authorization = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = request
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes);
            let body_len = body.map_or(0, |b| b.len());
            log.lock().unwrap().push(Seen {
                method,
                path: path.clone(),
                authorization: authorization.clone(),
                body_len,
            });
            let me = cell.lock().unwrap().expect("the address is set before use");
            Ok(challenged(me, &path, authorization.is_some(), || {
                full(202, &[("range", "0-0".to_owned())], Bytes::new())
            }))
        })
    });
    let addr = serve(handler).await;
    *addr_cell.lock().unwrap() = Some(addr);
    (addr, seen)
}

/// Token auth in front of `answer`: `/token` gives a token, anything
/// unauthorized gets a challenge naming this server's `/token`.
fn challenged(
    me: SocketAddr,
    path: &str,
    authorized: bool,
    answer: impl FnOnce() -> super::faulty::Reply,
) -> super::faulty::Reply {
    if path == "/token" {
        return full(
            200,
            &[("content-type", "application/json".to_owned())],
            Bytes::from_static(br#"{"token":"issued-token","expires_in":300}"#),
        );
    }
    if !authorized {
        return full(
            401,
            &[(
                "www-authenticate",
                format!(r#"Bearer realm="http://{me}/token",service="{me}""#),
            )],
            Bytes::new(),
        );
    }
    answer()
}

/// A registry with token auth that sends uploads and tag listings to
/// `other`: POST answers 202 with `Location: http://<other>/upload/1`,
/// and the first tag page links to `http://<other>/v2/team/app/tags/list`.
pub(crate) async fn deflecting_registry(other: SocketAddr) -> SocketAddr {
    let addr_cell = Arc::new(Mutex::new(None::<SocketAddr>));
    let cell = addr_cell.clone();
    let handler: Handler = Arc::new(move |request| {
        let cell = cell.clone();
        Box::pin(async move {
            let me = cell.lock().unwrap().expect("the address is set before use");
            let path = request.uri().path().to_owned();
            let authorized = request.headers().contains_key("authorization");
            let method = request.method().clone();
            Ok(challenged(me, &path, authorized, || {
                if path.ends_with("/tags/list") {
                    let body = r#"{"name":"team/app","tags":["a"]}"#;
                    let link =
                        format!(r#"<http://{other}/v2/team/app/tags/list?last=a>; rel="next""#);
                    full(200, &[("link", link)], Bytes::from_static(body.as_bytes()))
                } else if method == http::Method::POST {
                    let location = format!("http://{other}/upload/1");
                    full(202, &[("location", location)], Bytes::new())
                } else {
                    full(404, &[], Bytes::new())
                }
            }))
        })
    });
    let addr = serve(handler).await;
    *addr_cell.lock().unwrap() = Some(addr);
    addr
}
