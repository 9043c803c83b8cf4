//! Shared glue: a raw HTTP/1 client (hyper's connection API, nothing of
//! ours), the same client as a wire for the recorder, token helpers and the
//! GitHub schema validator.

#[path = "../../../../xtask/test-support/trace.rs"]
pub(crate) mod trace;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use ghcr_sim::fake::FakeGhcr;
use ghcr_sim::{BoxError, HttpBody};
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first registry error code.
    pub(crate) fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Sends one request on a fresh connection to the URL's host.
pub(crate) async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(ghcr_sim::full(body.into())).unwrap();
    let response = round_trip(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default(),
    }
}

/// A request with an Authorization header and no body.
pub(crate) async fn authed(method: &str, url: &str, authorization: &str) -> Reply {
    send(
        method,
        url,
        &[("authorization", authorization)],
        Bytes::new(),
    )
    .await
}

/// Opens an upload session in `octo/app`.
pub(crate) async fn start_upload(base: &str, authorization: &str) -> Reply {
    authed(
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/"),
        authorization,
    )
    .await
}

/// One exchange over a new HTTP/1 connection, streaming both bodies.
async fn round_trip(
    request: http::Request<HttpBody>,
) -> Result<http::Response<HttpBody>, BoxError> {
    let uri = request.uri().clone();
    let authority = uri.authority().ok_or("the URL has no host")?.to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    parts.headers.insert(http::header::HOST, authority.parse()?);
    parts.uri = uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str)
        .parse()?;
    let response = sender
        .send_request(http::Request::from_parts(parts, body))
        .await?;
    Ok(response.map(|body| body.map_err(BoxError::from).boxed_unsync()))
}

/// The raw client as a wire service: what the recorder wraps in these tests.
#[derive(Clone, Debug, Default)]
pub(crate) struct NetworkWire;

impl tower::Service<http::Request<HttpBody>> for NetworkWire {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<HttpBody>) -> Self::Future {
        Box::pin(round_trip(request))
    }
}

/// `Basic base64(user:token)`.
pub(crate) fn basic(user: &str, token: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
    )
}

/// A registry bearer token for `scope`, fetched with Basic credentials.
pub(crate) async fn bearer(fake: &FakeGhcr, user: &str, token: &str, scope: &str) -> String {
    let url = format!(
        "{}?service={}&scope={scope}",
        fake.token_realm(),
        fake.registry_host()
    );
    let reply = send(
        "GET",
        &url,
        &[("authorization", &basic(user, token))],
        Bytes::new(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    format!("Bearer {}", reply.json()["token"].as_str().unwrap())
}

/// A fake with user `octo` (token `t-octo`), reader `bob` (`t-bob`) and org
/// `octo-org` administered by octo.
pub(crate) async fn fake(profile: ghcr_sim::fake::Profile) -> FakeGhcr {
    trace::init();
    FakeGhcr::builder()
        .profile(profile)
        .user("octo", "t-octo")
        .user_with_scopes("bob", "t-bob", &[ghcr_sim::fake::PatScope::ReadPackages])
        .org("octo-org", &["octo"])
        .start()
        .await
        .unwrap()
}

/// GitHub's published schemas, kept in `tests/schemas/` (see its README).
pub(crate) fn schemas() -> &'static serde_json::Value {
    static SCHEMAS: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/schemas/github-packages-schemas.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        serde_json::from_str(&text).unwrap()
    })
}

/// Asserts `body` validates against schema `name`.
pub(crate) fn assert_schema(name: &str, body: &serde_json::Value) {
    let validator = jsonschema::validator_for(&schemas()[name]).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{name} schema violations: {errors:?}\nin {body:#}"
    );
}
