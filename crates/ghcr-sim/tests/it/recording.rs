//! Recording a raw-HTTP session against the fake, replaying it with the
//! fake gone, redaction, matching, strictness and side-file verification.

use std::path::Path;

use bytes::Bytes;
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_sim::{Cassette, Error, Matcher, RecordLayer, Replayer, Strictness};
use ghcr_types::Digest;
use http_body_util::BodyExt;
use tower::{Layer, ServiceExt};

use crate::support::{NetworkWire, basic, fake};

type Wire = tower::util::BoxCloneSyncService<
    http::Request<ghcr_sim::HttpBody>,
    http::Response<ghcr_sim::HttpBody>,
    ghcr_sim::BoxError,
>;

/// What a call returned: status, location, body.
type Seen = (u16, Option<String>, Bytes);

async fn call(
    wire: &Wire,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<Seen, ghcr_sim::BoxError> {
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = wire
        .clone()
        .oneshot(request.body(ghcr_sim::full(body))?)
        .await?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, location, body))
}

/// A push and a pull by hand: token, upload, manifest, tags, blob via the storage redirect.
async fn session(wire: &Wire, registry: &str, token_realm: &str, layer: &Bytes) -> Vec<Seen> {
    let base = format!("http://{registry}");
    let mut seen = Vec::new();
    let token = call(
        wire,
        "GET",
        &format!("{token_realm}?scope=repository:octo/app:pull,push"),
        &[("authorization", &basic("octo", "s3cret-pat"))],
        Bytes::new(),
    )
    .await
    .unwrap();
    let value = serde_json::from_slice::<serde_json::Value>(&token.2).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {value}");
    let auth = [("authorization", bearer.as_str())];
    seen.push((token.0, Some(value), Bytes::new()));
    let started = call(
        wire,
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/"),
        &auth,
        Bytes::new(),
    )
    .await
    .unwrap();
    let location = format!("{base}{}", started.1.clone().unwrap());
    seen.push(started);
    let digest = Digest::sha256_of(layer);
    seen.push(
        call(
            wire,
            "PUT",
            &format!("{location}?digest={digest}"),
            &auth,
            layer.clone(),
        )
        .await
        .unwrap(),
    );
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{digest}","size":{}}}]}}"#,
        Digest::sha256_of(b"{}"),
        layer.len()
    );
    let content_type = ("content-type", "application/vnd.oci.image.manifest.v1+json");
    seen.push(
        call(
            wire,
            "PUT",
            &format!("{base}/v2/octo/app/manifests/v1"),
            &[auth[0], content_type],
            Bytes::from(manifest),
        )
        .await
        .unwrap(),
    );
    seen.push(
        call(
            wire,
            "GET",
            &format!("{base}/v2/octo/app/manifests/v1"),
            &auth,
            Bytes::new(),
        )
        .await
        .unwrap(),
    );
    seen.push(
        call(
            wire,
            "GET",
            &format!("{base}/v2/octo/app/tags/list"),
            &auth,
            Bytes::new(),
        )
        .await
        .unwrap(),
    );
    let redirect = call(
        wire,
        "GET",
        &format!("{base}/v2/octo/app/blobs/{digest}"),
        &auth,
        Bytes::new(),
    )
    .await
    .unwrap();
    let storage = redirect.1.clone().unwrap();
    seen.push((redirect.0, None, redirect.2));
    let blob = call(wire, "GET", &storage, &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(Digest::sha256_of(&blob.2), digest, "the blob arrives whole");
    seen.push(blob);
    seen
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            found.extend(files(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found
}

#[tokio::test]
async fn a_recorded_session_replays_with_no_network_and_no_secrets() {
    let fake = FakeGhcr::builder()
        .user("octo", "s3cret-pat")
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cassette_dir = dir.path().join("session");
    let recorder = RecordLayer::new(&cassette_dir);
    let live: Wire = tower::util::BoxCloneSyncService::new(recorder.layer(NetworkWire));
    let layer = Bytes::from(
        (0..40_000u32)
            .map(|i| u8::try_from(i % 253).unwrap())
            .collect::<Vec<_>>(),
    );
    let (registry, realm) = (fake.registry_host().to_owned(), fake.token_realm());
    let first_run = session(&live, &registry, &realm, &layer).await;
    assert_eq!(
        first_run.iter().map(|s| s.0).collect::<Vec<_>>(),
        [200, 202, 201, 201, 200, 200, 307, 200]
    );
    let issued = fake.log().entries().len();
    let live_token = first_run[0].1.clone().unwrap();
    recorder.finish().unwrap();
    fake.shutdown().await;

    // Nothing secret on disk: not the PAT, not its Basic form, not the issued token.
    let basic_form = basic("octo", "s3cret-pat");
    let stored = files(&cassette_dir);
    assert!(
        stored
            .iter()
            .any(|f| f.starts_with(cassette_dir.join("bodies"))),
        "the 40 KB layer went to a side file"
    );
    for file in &stored {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        for secret in [
            "s3cret-pat",
            basic_form.trim_start_matches("Basic "),
            live_token.as_str(),
        ] {
            assert!(
                !text.contains(secret),
                "{} holds `{secret}`",
                file.display()
            );
        }
    }
    let text = std::fs::read_to_string(cassette_dir.join("cassette.json")).unwrap();
    assert!(text.contains(ghcr_sim::TOKEN_MARKER));
    assert!(text.contains("\"authorization\": \"<redacted:Bearer>\""));
    assert!(
        text.contains("&sig=REDACTED"),
        "the storage URL's signature is redacted"
    );
    assert!(
        text.contains("\"schemaVersion\": 2"),
        "the manifest is inline, pretty-printed"
    );

    // Replay: same answers, nothing listening.
    let replayer = Replayer::load(&cassette_dir).unwrap();
    assert_eq!(replayer.cassette().len(), issued);
    let wire: Wire = tower::util::BoxCloneSyncService::new(replayer.clone());
    let second_run = session(&wire, &registry, &realm, &layer).await;
    let strip = |seen: &[Seen]| {
        seen.iter()
            .map(|(s, _, b)| (*s, b.clone()))
            .collect::<Vec<_>>()
    };
    let (recorded_answers, replayed_answers) = (strip(&first_run), strip(&second_run));
    assert_eq!(recorded_answers, replayed_answers);
    assert_eq!(
        second_run[0].1.as_deref(),
        Some(ghcr_sim::TOKEN_MARKER),
        "the replayed client got the marker"
    );
    replayer.finish().unwrap();
    assert_eq!(
        ghcr_sim::verify_replay(replayer.cassette()).await.unwrap(),
        issued
    );
}

async fn three_requests(dir: &Path) -> FakeGhcr {
    let fake = fake(Profile::Ghcr).await;
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"1")])
        .unwrap();
    let recorder = RecordLayer::new(dir);
    let wire: Wire = tower::util::BoxCloneSyncService::new(recorder.layer(NetworkWire));
    let base = fake.registry_url();
    for path in ["/v2/", "/v2/octo/app/tags/list", "/v2/"] {
        call(&wire, "GET", &format!("{base}{path}"), &[], Bytes::new())
            .await
            .unwrap();
    }
    call(
        &wire,
        "PUT",
        &format!("{base}/v2/octo/app/manifests/x"),
        &[],
        Bytes::from_static(b"one"),
    )
    .await
    .unwrap();
    recorder.finish().unwrap();
    fake
}

#[tokio::test]
async fn challenges_are_written_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let fake = three_requests(dir.path()).await;
    let text = std::fs::read_to_string(dir.path().join("cassette.json")).unwrap();
    let challenge = format!(
        r#""www-authenticate": "Bearer realm=\"{}\",service=\"{}\",scope=\"repository:user/image:pull\"""#,
        fake.token_realm(),
        fake.registry_host()
    );
    assert!(text.contains(&challenge), "{challenge} not in {text}");
    assert!(!text.contains("u0020"), "{text}");
}

#[tokio::test]
async fn mismatches_name_the_nearest_and_strict_mode_reports_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let fake = three_requests(dir.path()).await;
    let base = fake.registry_url();
    let replayer = Replayer::load(dir.path()).unwrap();
    let wire: Wire = tower::util::BoxCloneSyncService::new(replayer.clone());
    let unknown = call(
        &wire,
        "GET",
        &format!("{base}/v2/octo/app/tags/lists"),
        &[],
        Bytes::new(),
    )
    .await
    .unwrap_err();
    let mismatch = unknown.downcast_ref::<Error>().expect("a ghcr_sim::Error");
    match mismatch {
        Error::SimulationMismatch {
            request, nearest, ..
        } => {
            assert_eq!(request, "GET /v2/octo/app/tags/lists");
            assert_eq!(
                nearest.as_deref(),
                Some("#1 GET /v2/octo/app/tags/list, not replayed yet")
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    // The same URL with another body does not match.
    let other_body = call(
        &wire,
        "PUT",
        &format!("{base}/v2/octo/app/manifests/x"),
        &[],
        Bytes::from_static(b"two"),
    )
    .await
    .unwrap_err();
    assert!(
        other_body
            .to_string()
            .contains("same request with another body"),
        "{other_body}"
    );
    call(&wire, "GET", &format!("{base}/v2/"), &[], Bytes::new())
        .await
        .unwrap();
    let err = replayer.finish().unwrap_err();
    assert!(matches!(err, Error::Unconsumed { count: 3, .. }), "{err}");
    assert!(
        err.to_string().contains("GET /v2/octo/app/tags/list"),
        "{err}"
    );
    let lenient = Replayer::load(dir.path())
        .unwrap()
        .strictness(Strictness::Lenient);
    lenient.finish().unwrap();
    // Served per key in recorded order; once used up, a request no longer matches.
    call(&wire, "GET", &format!("{base}/v2/"), &[], Bytes::new())
        .await
        .unwrap();
    let again = call(&wire, "GET", &format!("{base}/v2/"), &[], Bytes::new())
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already replayed"), "{again}");
    // A looser matcher ignores the body.
    let loose = Replayer::load(dir.path())
        .unwrap()
        .matcher(Matcher::default().ignore_body());
    let wire: Wire = tower::util::BoxCloneSyncService::new(loose);
    assert_eq!(
        call(
            &wire,
            "PUT",
            &format!("{base}/v2/octo/app/manifests/x"),
            &[],
            Bytes::from_static(b"two")
        )
        .await
        .unwrap()
        .0,
        401
    );
}

#[tokio::test]
async fn altered_side_files_and_other_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = RecordLayer::new(dir.path()).body_threshold(4);
    let script = tower::service_fn(|_r: http::Request<ghcr_sim::HttpBody>| async {
        Ok::<_, ghcr_sim::BoxError>(http::Response::new(ghcr_sim::full(
            "a body over four bytes",
        )))
    });
    let wire = recorder.layer(script);
    wire.oneshot(
        http::Request::get("http://127.0.0.1:9/x")
            .body(ghcr_sim::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    recorder.finish().unwrap();
    Cassette::load(dir.path()).unwrap();
    let side = files(&dir.path().join("bodies")).remove(0);
    std::fs::write(&side, "tampered").unwrap();
    assert!(matches!(
        Cassette::load(dir.path()),
        Err(Error::BodyHashMismatch { .. })
    ));
    let path = dir.path().join("cassette.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"version\": 1", "\"version\": 2");
    std::fs::write(&path, text).unwrap();
    assert!(matches!(
        Cassette::load(dir.path()),
        Err(Error::UnsupportedVersion { found: 2, .. })
    ));
}

#[tokio::test]
async fn failures_are_recorded_and_replayed_with_their_kind() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let recorder = RecordLayer::new(dir.path());
    let wire: Wire = tower::util::BoxCloneSyncService::new(recorder.layer(NetworkWire));
    let url = format!("http://{address}/v2/");
    let live = call(&wire, "GET", &url, &[], Bytes::new())
        .await
        .unwrap_err();
    recorder.finish().unwrap();
    let cassette = Cassette::load(dir.path()).unwrap();
    assert!(cassette.interactions()[0].error().is_some());
    let replay: Wire = tower::util::BoxCloneSyncService::new(Replayer::new(cassette));
    let replayed = call(&replay, "GET", &url, &[], Bytes::new())
        .await
        .unwrap_err();
    let kind = |error: &ghcr_sim::BoxError| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(current) = source {
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                return Some(io.kind());
            }
            source = current.source();
        }
        None
    };
    assert_eq!(kind(&live), Some(std::io::ErrorKind::ConnectionRefused));
    assert_eq!(kind(&replayed), kind(&live));
}

#[tokio::test]
async fn identity_token_posts_are_recorded_without_their_secret() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = RecordLayer::new(dir.path());
    // A token endpoint that reads the form, as a real one does.
    let script = tower::service_fn(|request: http::Request<ghcr_sim::HttpBody>| async {
        request.into_body().collect().await?;
        Ok::<_, ghcr_sim::BoxError>(http::Response::new(ghcr_sim::full(
            r#"{"access_token":"s3cret-access","refresh_token":"s3cret-refresh","expires_in":300}"#,
        )))
    });
    let wire: Wire = tower::util::BoxCloneSyncService::new(recorder.layer(script));
    let form =
        "grant_type=refresh_token&service=ghcr.io&client_id=ghcr-rs&refresh_token=s3cret-identity";
    let post = |wire: Wire, typed: bool| async move {
        let headers: &[(&str, &str)] = if typed {
            &[("content-type", "application/x-www-form-urlencoded")]
        } else {
            &[]
        };
        call(
            &wire,
            "POST",
            "http://127.0.0.1:9/token",
            headers,
            Bytes::from_static(form.as_bytes()),
        )
        .await
        .unwrap()
    };
    post(wire.clone(), true).await;
    post(wire, false).await;
    recorder.finish().unwrap();
    let text = std::fs::read_to_string(dir.path().join("cassette.json")).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("refresh_token=REDACTED"), "{text}");
    // The replayer redacts the same way, so the same POSTs match.
    let replayer = Replayer::load(dir.path()).unwrap();
    let wire: Wire = tower::util::BoxCloneSyncService::new(replayer.clone());
    let (status, _, body) = post(wire.clone(), true).await;
    assert_eq!(status, 200);
    assert!(!String::from_utf8_lossy(&body).contains("s3cret"));
    post(wire, false).await;
    replayer.finish().unwrap();
}

#[tokio::test]
async fn the_same_request_is_answered_in_recorded_order() {
    let dir = tempfile::tempdir().unwrap();
    let recording = RecordLayer::new(dir.path());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let script = tower::service_fn(move |request: http::Request<ghcr_sim::HttpBody>| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            // A 429, then the answer: the order a retry depends on.
            let status = if request.uri().path() == "/v2/o/a/tags/list" && n == 0 {
                429
            } else {
                200
            };
            let mut response = http::Response::new(ghcr_sim::full(format!("answer {n}")));
            *response.status_mut() = http::StatusCode::from_u16(status)?;
            Ok::<_, ghcr_sim::BoxError>(response)
        }
    });
    let wire: Wire = tower::util::BoxCloneSyncService::new(recording.layer(script));
    let urls = [
        "http://127.0.0.1:9/v2/o/a/tags/list",
        "http://127.0.0.1:9/v2/",
        "http://127.0.0.1:9/v2/o/a/tags/list",
        "http://127.0.0.1:9/v2/o/a/tags/list",
    ];
    let mut first_run = Vec::new();
    for url in urls {
        first_run.push(call(&wire, "GET", url, &[], Bytes::new()).await.unwrap());
    }
    recording.finish().unwrap();
    let replayer = Replayer::load(dir.path()).unwrap();
    let wire: Wire = tower::util::BoxCloneSyncService::new(replayer.clone());
    // Asked in another order across keys, each key keeps its own order.
    let mut answers = vec![None; urls.len()];
    for index in [1, 0, 2, 3] {
        answers[index] = Some(
            call(&wire, "GET", urls[index], &[], Bytes::new())
                .await
                .unwrap(),
        );
    }
    let second_run: Vec<Seen> = answers.into_iter().map(Option::unwrap).collect();
    assert_eq!(second_run, first_run);
    assert_eq!(first_run[0].0, 429);
    assert_eq!(first_run[3].2, "answer 3");
    replayer.finish().unwrap();
}
