//! Servers that list: tags paged the way the spec allows (or in circles),
//! and a referrers API that answers, redirects or refuses.

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

/// How the referrers API answers.
#[derive(Clone, Debug)]
pub(crate) enum ReferrersApi {
    /// 200 with the index.
    Index,
    /// 303 to this URL (ghcr.io since 2026-04).
    Redirect(String),
    /// This status, with an error body.
    Status(u16),
    /// 200 with an image manifest instead of an index.
    NotAnIndex,
}

/// Serves `index` from the referrers API as `api` says, and under the
/// fallback tag; notes each request as `path?query`.
pub(crate) async fn referrers_server(
    api: ReferrersApi,
    index: String,
) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let handler: Handler = Arc::new(move |request| {
        let (api, index, seen) = (api.clone(), index.clone(), seen.clone());
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let query = request.uri().query().unwrap_or_default();
            seen.lock().unwrap().push(format!("{path}?{query}"));
            let oci_index = || {
                (
                    "content-type",
                    "application/vnd.oci.image.index.v1+json".to_owned(),
                )
            };
            Ok(if path.contains("/referrers/") {
                match api {
                    ReferrersApi::Index => full(200, &[oci_index()], Bytes::from(index)),
                    ReferrersApi::Redirect(to) => full(303, &[("location", to)], Bytes::new()),
                    ReferrersApi::Status(status) => full(
                        status,
                        &[],
                        Bytes::from_static(br#"{"errors":[{"code":"UNSUPPORTED","message":"no"}]}"#),
                    ),
                    ReferrersApi::NotAnIndex => full(
                        200,
                        &[(
                            "content-type",
                            "application/vnd.oci.image.manifest.v1+json".to_owned(),
                        )],
                        Bytes::from_static(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#),
                    ),
                }
            } else if path.contains("/manifests/sha256-") {
                full(200, &[oci_index()], Bytes::from(index))
            } else {
                full(404, &[], Bytes::new())
            })
        })
    });
    (serve(handler).await, requests)
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

/// Pages of `per_page` new tags for ever, each linking to the next page
/// (`?page=N`), so that no Link repeats.
pub(crate) async fn endless_tag_server(per_page: usize) -> SocketAddr {
    let handler: Handler = Arc::new(move |request| {
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let page: u64 = request
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("page="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let tags: Vec<String> = (0..per_page).map(|i| format!("p{page}-{i}")).collect();
            let body = serde_json::json!({ "name": "team/endless", "tags": tags }).to_string();
            let link = format!("<{path}?page={}>; rel=\"next\"", page + 1);
            Ok(full(200, &[("link", link)], Bytes::from(body)))
        })
    });
    serve(handler).await
}

/// Answers every tag list with `body`, 200, whatever it holds.
pub(crate) async fn tag_body_server(body: &'static [u8]) -> SocketAddr {
    let handler: Handler =
        Arc::new(move |_request| Box::pin(async move { Ok(full(200, &[], Bytes::from(body))) }));
    serve(handler).await
}
