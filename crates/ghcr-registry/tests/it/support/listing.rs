//! Servers that list: tags paged the way the spec allows, and a referrers
//! API that answers or redirects.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::faulty::{Handler, full, serve};

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

/// Two pages of tags whose Links lead to each other.
pub(crate) async fn looping_tag_server() -> SocketAddr {
    let handler: Handler = Arc::new(move |request| {
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let (tags, next) = match request.uri().query() {
                Some(query) if query.contains("last=") => (["c", "d"], format!("{path}?n=2")),
                _ => (["a", "b"], format!("{path}?n=2&last=b")),
            };
            let body = serde_json::json!({ "name": "team/loop", "tags": tags }).to_string();
            let link = format!("<{next}>; rel=\"next\"");
            Ok(full(200, &[("link", link)], Bytes::from(body)))
        })
    });
    serve(handler).await
}
