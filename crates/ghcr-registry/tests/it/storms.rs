//! Registries that keep saying no, on a paused clock: a 5xx storm ends
//! after the configured attempts with an error naming the request and the
//! last status; 429 bursts are waited out for as long as each
//! `Retry-After` form says; 1-second tokens expire mid-transfer and the
//! transfer completes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ghcr_registry::{BlobSource, RegistryClient, TransferOptions, UploadMode, UploadOptions};
use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
use ghcr_types::{Digest, MediaType, Reference};
use http::{Method, StatusCode};
use tokio::time::Instant;

use crate::support::{self, data, faulty};

const USER: &str = "octo";
const TOKEN: &str = "token-for-octo";

/// A client of `fake` whose transport retries `retries` times.
fn client(fake: &FakeGhcr, retries: u32) -> RegistryClient {
    let transport = Transport::builder()
        .allow_plain_http(fake.registry_host())
        .max_retries(retries)
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            USER, TOKEN,
        ))))
        .build()
        .unwrap();
    RegistryClient::new(transport)
}

fn reference(fake: &FakeGhcr, path: &str) -> Reference {
    Reference::parse(&format!("{}/{path}", fake.registry_host())).unwrap()
}

/// Every manifest GET and every upload start answers 503: each gives up
/// after one attempt and two retries, and says which request failed how.
#[tokio::test(start_paused = true)]
async fn a_5xx_storm_ends_after_the_configured_attempts_naming_the_request_and_status() {
    let fake = FakeGhcr::builder().user(USER, TOKEN).start().await.unwrap();
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"layer")])
        .unwrap();
    let client = client(&fake, 2);
    for (route, path) in [
        (
            Route::new(Method::GET, "/v2/*/manifests/*"),
            "/v2/octo/app/manifests/v1",
        ),
        (
            Route::new(Method::POST, "/v2/*/blobs/uploads/"),
            "/v2/octo/app/blobs/uploads/",
        ),
    ] {
        fake.faults().clear();
        fake.log().clear();
        fake.faults()
            .add(Fault::fail(route.clone(), StatusCode::SERVICE_UNAVAILABLE));
        let error = if route.matches(&Method::GET, path) {
            client
                .get_manifest(&reference(&fake, "octo/app:v1"))
                .await
                .unwrap_err()
        } else {
            client
                .push_blob(
                    &reference(&fake, "octo/app"),
                    BlobSource::bytes(data(1000, 1)),
                    &UploadOptions::new(),
                )
                .await
                .unwrap_err()
        };
        assert_eq!(
            fake.log().count(&route),
            3,
            "{path}: one attempt, two retries"
        );
        assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        let text = error.to_string();
        let method = if path.contains("manifests") {
            "GET"
        } else {
            "POST"
        };
        for part in [method, path, "503", "after 3 attempt(s)", "try again later"] {
            assert!(text.contains(part), "`{part}` missing from: {text}");
        }
    }
}

/// Gets `octo/app:v1`'s manifest from a server that answers it after
/// `burst` answers of 429 carrying `retry_after()`; returns how long that
/// took on the test clock and how many requests the server saw.
async fn get_through_429s(burst: usize, retry_after: fn() -> String) -> (Duration, usize) {
    let config = Bytes::from_static(b"{}");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "config": { "mediaType": MediaType::OciConfig.as_str(), "digest": Digest::sha256_of(&config).as_str(), "size": config.len() },
        "layers": [],
    });
    let manifest = Bytes::from(serde_json::to_vec(&manifest).unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    let handler: faulty::Handler = Arc::new(move |_request| {
        let (manifest, index) = (manifest.clone(), count.fetch_add(1, Ordering::SeqCst));
        Box::pin(async move {
            Ok(if index < burst {
                let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
                faulty::full(
                    429,
                    &[("retry-after", retry_after())],
                    Bytes::from_static(body),
                )
            } else {
                let kind = MediaType::OciManifest.as_str().to_owned();
                faulty::full(200, &[("content-type", kind)], manifest)
            })
        })
    });
    let addr = faulty::serve(handler).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let started = Instant::now();
    client
        .get_manifest(&Reference::parse(&format!("{addr}/octo/app:v1")).unwrap())
        .await
        .unwrap();
    (started.elapsed(), seen.load(Ordering::SeqCst))
}

/// `Retry-After` as an HTTP-date (IMF-fixdate) `seconds` from now.
fn http_date_in(seconds: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + seconds;
    let (days, rest) = (at / 86_400, at % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[usize::try_from(month - 1).unwrap()],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Three 429s in a row, each saying "2 seconds": the manifest arrives on
/// the fourth request, after at least the 6 s asked for (and at most the
/// 10 % jitter on top).
#[tokio::test(start_paused = true)]
async fn a_429_burst_with_retry_after_in_seconds_is_waited_out() {
    let (waited, requests) = get_through_429s(3, || "2".to_owned()).await;
    assert!(
        waited >= Duration::from_secs(6) && waited <= Duration::from_millis(6600),
        "{waited:?}"
    );
    assert_eq!(requests, 4);
}

/// Two 429s whose `Retry-After` is a date 4 s ahead (whole seconds, so
/// 3 to 4 s from when it is read): each is waited out.
#[tokio::test(start_paused = true)]
async fn a_429_burst_with_retry_after_as_an_http_date_is_waited_out() {
    let (waited, requests) = get_through_429s(2, || http_date_in(4)).await;
    assert!(
        waited >= Duration::from_secs(2 * 3) && waited <= Duration::from_millis(2 * 4400),
        "{waited:?}"
    );
    assert_eq!(requests, 3);
}

/// ghcr.io's own form (the wait inside the error message, no header), as
/// the fake sends it: a burst on upload starts, then the push goes on.
#[tokio::test(start_paused = true)]
async fn a_ghcr_429_burst_on_upload_starts_is_waited_out() {
    let fake = FakeGhcr::builder().user(USER, TOKEN).start().await.unwrap();
    let route = Route::new(Method::POST, "/v2/*/blobs/uploads/");
    fake.faults()
        .add(Fault::too_many_requests(route.clone(), 3));
    let client = client(&fake, 0);
    let blob = data(10_000, 2);
    let pushed = client
        .push_blob(
            &reference(&fake, "octo/app"),
            BlobSource::bytes(blob.clone()),
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(pushed.digest, Digest::sha256_of(&blob));
    assert_eq!(fake.log().count(&route), 4, "three 429s, then the upload");
    assert_eq!(fake.faults().fired(), 3);
}

/// Tokens live 1 s on the fake's clock and every blob request takes
/// 400 ms: a chunked upload and a pull each outlive several tokens, get
/// 401s part-way, fetch new tokens and complete.
#[tokio::test(start_paused = true)]
async fn one_second_tokens_expiring_mid_transfer_do_not_stop_it() {
    let fake = FakeGhcr::builder()
        .user(USER, TOKEN)
        .token_lifetime(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let slow = Duration::from_millis(400);
    fake.faults().add(Fault::delay(
        Route::new(Method::PATCH, "/v2/*/blobs/uploads/*"),
        slow,
    ));
    let client = RegistryClient::builder(support::transport(
        &[fake.registry_host()],
        Some((USER, TOKEN)),
    ))
    .upload_mode(UploadMode::Chunked)
    .chunk_size(1 << 20)
    .build()
    .unwrap();
    let repository = reference(&fake, "octo/app");
    let blob = data(6 << 20, 3);
    let started = Instant::now();
    let pushed = client
        .push_blob(
            &repository,
            BlobSource::bytes(blob.clone()),
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert!(started.elapsed() >= 6 * slow, "six chunks, each slow");
    let refused = |method: Method| {
        fake.log()
            .count_where(|e| e.method == method && e.status == StatusCode::UNAUTHORIZED)
    };
    assert!(refused(Method::PATCH) >= 2, "tokens expired between chunks");
    let fetches = fake.log().token_fetches();
    assert!(
        fetches >= 3,
        "tokens were renewed during the upload: {fetches}"
    );
    assert_eq!(fake.store().blob(&pushed.digest), Some(blob));

    fake.faults().clear();
    fake.faults()
        .add(Fault::delay(Route::new(Method::GET, "/v2/*/blobs/*"), slow));
    let layers: Vec<Bytes> = (0..4).map(|i| data(100_000, 10 + i)).collect();
    fake.store()
        .push_image("octo/app", Some("v1"), &layers)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    client
        .pull_to_layout(
            &reference(&fake, "octo/app:v1"),
            dir.path(),
            &TransferOptions::new().concurrency(1),
        )
        .await
        .unwrap();
    assert!(refused(Method::GET) >= 1, "tokens expired between blobs");
    assert!(
        fake.log().token_fetches() > fetches,
        "tokens were renewed during the pull"
    );
    for layer in &layers {
        let path = dir
            .path()
            .join("blobs/sha256")
            .join(Digest::sha256_of(layer).encoded());
        assert_eq!(std::fs::read(path).unwrap(), *layer);
    }
}
