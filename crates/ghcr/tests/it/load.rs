//! Load: 200 images pushed and pulled back at once through one client,
//! while a seeded 10 % of blob and manifest requests fail transiently
//! (5 % answered 503, 5 % cut after the first byte of the answer).
//! Every transfer completes and every digest checks out. Peak memory is a
//! figure for `/usr/bin/time -v` on this test, never asserted here.

use std::path::Path;
use std::sync::Arc;

use ghcr::GhcrClient;
use ghcr::registry::{BlobSource, ImageParts, TransferOptions};
use ghcr::types::{Digest, MediaType, Reference};
use ghcr_sim::fake::{FakeGhcr, Fault, Listener, Route};
use http::{Method, StatusCode};

use crate::support::{USER, config_for, fake, reference};

const IMAGES: usize = 200;
const SEED: u64 = 0x6c6f_6164;

/// Each request to the registry's blob, upload and manifest routes and to
/// the storage host has a seeded 5 % chance of a 503 and 5 % of a cut.
fn arm_transient_faults(fake: &FakeGhcr) {
    let routes = ["/v2/*/blobs/*", "/v2/*/manifests/*", "/blobs/*"];
    for (n, pattern) in (0u64..).zip(routes) {
        fake.faults().add(
            Fault::fail(Route::any_method(pattern), StatusCode::SERVICE_UNAVAILABLE)
                .percent(5, SEED + 2 * n),
        );
        fake.faults()
            .add(Fault::drop_after(Route::any_method(pattern), 1).percent(5, SEED + 2 * n + 1));
    }
}

/// Image `i`: a config and one layer, both unique to it.
fn image(i: usize) -> (ImageParts, Vec<u8>) {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Env":["IMAGE={i}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    );
    let layer = format!("layer {i} ").repeat(64 + i).into_bytes();
    let parts = ImageParts::new(config.into_bytes())
        .layer(MediaType::OciLayerTar, BlobSource::bytes(layer.clone()));
    (parts, layer)
}

/// Pushes image `i` to `octo/load-{i}:v1`, checks what the fake stored,
/// pulls it back into `dir` and checks every file there.
async fn round_trip(client: &GhcrClient, fake: &FakeGhcr, i: usize, dir: &Path) {
    let repository = format!("{USER}/load-{i}");
    let target: Reference = reference(fake, &format!("{repository}:v1"));
    let (parts, layer) = image(i);
    let options = TransferOptions::new();
    let pushed = client
        .registry()
        .push_image(&target, parts, &options)
        .await
        .unwrap_or_else(|error| panic!("push {i}: {error}"));
    let (stored, _) = fake.store().manifest(&repository, "v1").unwrap();
    assert_eq!(Digest::sha256_of(&stored), pushed.digest, "image {i}'s tag");
    for blob in &pushed.blobs {
        let bytes = fake.store().blob(&blob.digest).unwrap();
        assert_eq!(Digest::sha256_of(&bytes), blob.digest, "image {i}");
    }

    let pulled = client
        .registry()
        .pull_to_layout(&target, dir, &options)
        .await
        .unwrap_or_else(|error| panic!("pull {i}: {error}"));
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(pulled.blobs, 2, "image {i}: config and layer");
    let layer_path = dir
        .join("blobs/sha256")
        .join(Digest::sha256_of(&layer).encoded());
    assert_eq!(std::fs::read(layer_path).unwrap(), layer, "image {i}");
    for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            Digest::sha256_of(&bytes).encoded(),
            name,
            "image {i}: {}",
            path.display()
        );
    }
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    assert!(index.contains(pushed.digest.as_str()), "image {i}: {index}");
}

#[tokio::test]
async fn a_manifest_cut_after_its_head_is_fetched_again() {
    let fake = fake().await;
    let pushed = fake
        .store()
        .push_image("octo/app", Some("v1"), &[bytes::Bytes::from_static(b"l")])
        .unwrap();
    let client = crate::support::client(&fake);
    let image = reference(&fake, "octo/app:v1");
    // Signed in first, so the cut hits the manifest, not the 401 before it.
    client.registry().get_manifest(&image).await.unwrap();
    let route = Route::new(Method::GET, "/v2/*/manifests/*");
    fake.faults()
        .add(Fault::drop_after(route.clone(), 1).nth(1));
    fake.log().clear();
    let manifest = client.registry().get_manifest(&image).await.unwrap();
    assert_eq!(manifest.digest(), &pushed.manifest);
    assert_eq!(fake.faults().fired(), 1);
    assert_eq!(fake.log().count(&route), 2, "the cut GET and a whole one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_round_trips_survive_ten_percent_transient_faults() {
    let fake = Arc::new(fake().await);
    arm_transient_faults(&fake);
    // Five retries: ten in a hundred failing, six in a row on one request
    // is a one-in-a-million event.
    let config = config_for(&fake)
        .credentials(USER, crate::support::TOKEN)
        .max_retries(5)
        .build()
        .unwrap();
    let client = Arc::new(GhcrClient::new(config).unwrap());
    let layouts = tempfile::tempdir().unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..IMAGES {
        let (client, fake) = (client.clone(), fake.clone());
        let dir = layouts.path().join(format!("layout-{i}"));
        tasks.spawn(async move { round_trip(&client, &fake, i, &dir).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let log = fake.log();
    let unavailable = log.count_where(|entry| entry.status == StatusCode::SERVICE_UNAVAILABLE);
    let fired = fake.faults().fired();
    let storage = log.count_where(|entry| entry.listener == Listener::Storage);
    let manifests = log.count(&Route::new(Method::PUT, "/v2/*/manifests/*"));
    println!(
        "requests: {} ({storage} to storage), faults fired: {fired}, 503s: {unavailable}, manifest PUTs: {manifests}",
        log.len()
    );
    assert!(unavailable > 0 && usize::try_from(fired).unwrap() > unavailable);
    assert!(
        manifests >= IMAGES,
        "each image's manifest went up at least once"
    );
    assert_eq!(fake.store().repositories().len(), IMAGES);
}
