//! The transport on ghcr-sim: a scripted session recorded against the fake
//! ghcr.io and replayed with no network, redaction of a known secret, and
//! the replay tests of the fixtures this crate records (`replay::`).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use ghcr_auth::{Credentials, Scope, ScopeSet, StaticProvider};
use ghcr_sim::fake::FakeGhcr;
use ghcr_sim::{Fixture, FixtureWire, RecordLayer, Replayer};
use ghcr_transport::{AuthScope, Body, HttpBody, Retry, Transport};
use ghcr_types::Digest;
use http_body_util::BodyExt;

/// What a request returned: status, headers that matter, body.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    location: Option<String>,
    digest: Option<String>,
    link: Option<String>,
    body: Bytes,
}

/// A transport with `user:token` on `wire`, plain HTTP to `host` when given.
fn transport(plain_http: Option<&str>, user: &str, token: &str, wire: &FixtureWire) -> Transport {
    let credentials = Arc::new(StaticProvider::new(Credentials::basic(user, token)));
    let mut builder = Transport::builder().credentials(credentials);
    if let Some(host) = plain_http {
        builder = builder.allow_plain_http(host);
    }
    match wire {
        FixtureWire::Replay(replayer) => builder.wire(replayer.clone()),
        FixtureWire::Record(recorder) => builder.wire_layer(recorder.clone()),
    }
    .build()
    .unwrap()
}

fn streamed(bytes: Bytes) -> Body {
    let length = bytes.len() as u64;
    let body: HttpBody = http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync();
    Body::stream(body, Some(length))
}

/// Resolves a relative `Location` against the registry.
fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{base}{location}")
    }
}

/// Requests on one repository: reads with a pull scope, writes with push.
struct Session<'a> {
    transport: &'a Transport,
    base: String,
    repository: String,
}

impl Session<'_> {
    /// `url` is absolute, or a path under the registry.
    fn url(&self, url: &str) -> String {
        absolute(&self.base, url)
    }

    async fn read(&self, method: &str, url: &str, headers: &[(&str, &str)]) -> Answer {
        let scope = ScopeSet::single(Scope::pull(&self.repository));
        self.send(method, url, scope, headers, Body::empty()).await
    }

    async fn write(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Body) -> Answer {
        let scope = ScopeSet::single(Scope::push(&self.repository));
        self.send(method, url, scope, headers, body).await
    }

    /// Sends a request for `scope` and reads the answer whole.
    async fn send(
        &self,
        method: &str,
        url: &str,
        scope: ScopeSet,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Answer {
        let mut request = http::Request::builder().method(method).uri(self.url(url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(body).unwrap();
        request.extensions_mut().insert(AuthScope::Registry(scope));
        if method == "POST" {
            request.extensions_mut().insert(Retry::Always);
        }
        let response = self.transport.send(request).await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (status, location, digest, link) = (
            response.status().as_u16(),
            header("location"),
            header("docker-content-digest"),
            header("link"),
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            location,
            digest,
            link,
            body,
        }
    }
}

/// Challenge and token, a chunked upload (POST, streamed PATCH, PUT) and a
/// monolithic one, a manifest PUT.
async fn push(session: &Session<'_>) -> (Vec<Answer>, Digest, String) {
    let repository = &session.repository;
    let mut answers = vec![session.read("GET", "/v2/", &[]).await];
    let layer = Bytes::from(
        (0..50_000u32)
            .map(|i| u8::try_from(i % 241).unwrap())
            .collect::<Vec<_>>(),
    );
    let layer_digest = Digest::sha256_of(&layer);
    let uploads = format!("/v2/{repository}/blobs/uploads/");
    let started = session.write("POST", &uploads, &[], Body::empty()).await;
    let location = started.location.clone().unwrap();
    answers.push(started);
    let range = format!("0-{}", layer.len() - 1);
    let headers = [
        ("content-range", range.as_str()),
        ("content-type", "application/octet-stream"),
    ];
    let patched = session
        .write("PATCH", &location, &headers, streamed(layer.clone()))
        .await;
    let location = patched.location.clone().unwrap();
    answers.push(patched);
    let close = format!("{}?digest={layer_digest}", session.url(&location));
    answers.push(session.write("PUT", &close, &[], Body::empty()).await);
    let config = Bytes::from_static(br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#);
    let config_digest = Digest::sha256_of(&config);
    let one_shot = format!("{uploads}?digest={config_digest}");
    answers.push(
        session
            .write("POST", &one_shot, &[], Body::from(config.clone()))
            .await,
    );
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let content_type = [("content-type", "application/vnd.oci.image.manifest.v1+json")];
    let url = format!("/v2/{repository}/manifests/v1");
    answers.push(
        session
            .write("PUT", &url, &content_type, Body::from(manifest.clone()))
            .await,
    );
    (answers, layer_digest, manifest)
}

/// Everything [`push`] does, then a manifest GET, the tag list and the blob
/// through the storage redirect.
async fn push_and_pull(transport: &Transport, host: &str, repository: &str) -> Vec<Answer> {
    let session = Session {
        transport,
        base: format!("http://{host}"),
        repository: repository.to_owned(),
    };
    let (mut answers, layer_digest, manifest) = push(&session).await;
    let accept = [("accept", "application/vnd.oci.image.manifest.v1+json")];
    let pulled = session
        .read("GET", &format!("/v2/{repository}/manifests/v1"), &accept)
        .await;
    assert_eq!(pulled.body, manifest.as_bytes());
    answers.push(pulled);
    answers.push(
        session
            .read("GET", &format!("/v2/{repository}/tags/list"), &[])
            .await,
    );
    let blob = session
        .read(
            "GET",
            &format!("/v2/{repository}/blobs/{layer_digest}"),
            &[],
        )
        .await;
    assert_eq!(
        Digest::sha256_of(&blob.body),
        layer_digest,
        "the redirected blob arrives whole"
    );
    answers.push(blob);
    answers
}

/// A folder removed when dropped (this crate has no tempfile dependency).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let unique = format!(
            "ghcr-transport-sim-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_all_files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            found.extend(read_all_files(&entry.path()));
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            found.push((
                entry.path().display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    found
}

#[tokio::test]
async fn a_recorded_session_replays_with_zero_network() {
    let fake = FakeGhcr::builder()
        .user("octo", "pat-octo")
        .start()
        .await
        .unwrap();
    let host = fake.registry_host().to_owned();
    let dir = TempDir::new();
    let recorder = RecordLayer::new(dir.path().join("session"));
    let live = transport(
        Some(&host),
        "octo",
        "pat-octo",
        &FixtureWire::Record(recorder.clone()),
    );
    let first_run = push_and_pull(&live, &host, "octo/app").await;
    let statuses: Vec<u16> = first_run.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 202, 202, 201, 201, 201, 200, 200, 200]);
    let log = fake.log();
    assert_eq!(log.token_fetches(), 2, "one token per scope");
    assert_eq!(log.patches(), 1);
    assert!(
        log.storage_requests()
            .iter()
            .all(|r| !r.has_authorization()),
        "no token went to the storage host"
    );
    recorder.finish().unwrap();
    fake.shutdown().await;

    let replayer = Replayer::load(&dir.path().join("session")).unwrap();
    let offline = transport(
        Some(&host),
        "octo",
        "pat-octo",
        &FixtureWire::Replay(replayer.clone()),
    );
    let second_run = push_and_pull(&offline, &host, "octo/app").await;
    assert_eq!(second_run, first_run);
    replayer.finish().unwrap();
    assert_eq!(offline.token_fetches(), 2);
}

#[tokio::test]
async fn recordings_hold_no_secret() {
    const SECRET: &str = "pat-0123456789-do-not-leak";
    let fake = FakeGhcr::builder()
        .user("octo", SECRET)
        .start()
        .await
        .unwrap();
    let host = fake.registry_host().to_owned();
    let dir = TempDir::new();
    let recorder = RecordLayer::new(dir.path().join("secret"));
    let live = transport(
        Some(&host),
        "octo",
        SECRET,
        &FixtureWire::Record(recorder.clone()),
    );
    push_and_pull(&live, &host, "octo/app").await;
    let mut api = http::Request::get(format!("http://{host}/user/packages/container/app"))
        .body(Body::empty())
        .unwrap();
    api.extensions_mut().insert(AuthScope::GitHubApi);
    assert_eq!(live.send_checked(api).await.unwrap().status(), 200);
    recorder.finish().unwrap();
    let basic = Credentials::basic("octo", SECRET)
        .basic_authorization()
        .unwrap();
    let basic = basic
        .to_str()
        .unwrap()
        .trim_start_matches("Basic ")
        .to_owned();
    let files = read_all_files(&dir.path().join("secret"));
    assert!(files.len() >= 2, "a cassette and side files");
    for (path, text) in &files {
        for needle in [SECRET, basic.as_str()] {
            assert!(!text.contains(needle), "{path} holds `{needle}`");
        }
        // The fake's registry tokens look like `fake-<32 hex>`.
        assert!(!text.contains("\"fake-"), "{path} holds an issued token");
    }
    let cassette = &files
        .iter()
        .find(|(p, _)| p.ends_with("cassette.json"))
        .unwrap()
        .1;
    assert!(cassette.contains("<redacted:Basic>") && cassette.contains("<redacted:Bearer>"));
    assert!(cassette.contains("sig=REDACTED"));
}

/// Replay tests of the fixtures this crate records (`rate_limited`);
/// `cargo xtask record` regenerates them. The registry and packages crates
/// replay the fixtures of their own operations.
mod replay {
    use ghcr_sim::fake::{Fault, Route};
    use http::Method;

    use super::*;

    /// The fixture and a transport on its wire.
    async fn start(name: &str) -> (Fixture, Transport) {
        let fixture = Fixture::start(name).await.unwrap();
        let plain = fixture
            .plain_http()
            .then(|| fixture.registry_host().to_owned());
        let transport = transport(
            plain.as_deref(),
            fixture.username(),
            fixture.token(),
            &fixture.wire(),
        );
        (fixture, transport)
    }

    fn session<'a>(fixture: &Fixture, transport: &'a Transport) -> Session<'a> {
        Session {
            transport,
            base: fixture.registry_url(),
            repository: format!("{}/app", fixture.namespace()),
        }
    }

    /// Pushes an image tagged `tag` into the fake while recording.
    fn seed_image(fixture: &Fixture, repository: &str, tag: &str) {
        let Some(fake) = fixture.fake() else { return };
        let layer = Bytes::from_static(b"layer of a seeded image");
        fake.store()
            .push_image(repository, Some(tag), &[layer])
            .unwrap();
    }

    /// Owned by this crate: the transport waits out ghcr.io's 429 storm.
    #[tokio::test]
    async fn rate_limited() {
        let (fixture, transport) = start("rate_limited").await;
        let session = session(&fixture, &transport);
        seed_image(&fixture, &session.repository, "v1");
        if let Some(fake) = fixture.fake() {
            fake.faults().add(Fault::too_many_requests(
                Route::new(Method::GET, "/v2/*/manifests/*"),
                2,
            ));
        }
        let got = session
            .read(
                "GET",
                &format!("/v2/{}/manifests/v1", session.repository),
                &[],
            )
            .await;
        assert_eq!(got.status, 200, "the 429s were waited out");
        let limited = match (fixture.fake(), fixture.wire()) {
            (Some(fake), _) => fake
                .log()
                .count_where(|entry| entry.status == http::StatusCode::TOO_MANY_REQUESTS),
            (None, FixtureWire::Replay(replayer)) => replayer
                .cassette()
                .interactions()
                .iter()
                .filter(|i| i.status() == Some(429))
                .count(),
            // Recorded against a real registry: nothing to inject, nothing to count.
            (None, FixtureWire::Record(_)) => 2,
        };
        assert_eq!(limited, 2);
        fixture.finish().unwrap();
    }
}
