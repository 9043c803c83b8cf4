//! The network failing under a transfer: a loopback fault proxy
//! (ghcr-sim's `FaultProxy`) in front of a real docker-registry cuts or
//! resets a connection at a chosen moment and counts what the client sent;
//! the fake ghcr.io corrupts or truncates blob answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use ghcr_registry::{
    BlobSource, Error, ImageParts, Progress, ProgressEvent, REF_NAME, RegistryClient,
    TransferOptions, UploadMode, UploadOptions,
};
use ghcr_sim::fake::{FakeGhcr, Fault, Profile, Route};
use ghcr_sim::peers::{FaultProxy, ProxyFault};
use ghcr_types::{Algorithm, Digest, DigestHasher, MediaType, Reference};
use http::Method;

use crate::support::{self, Auth, data};

const MIB: u64 = 1 << 20;
/// The blob of the big uploads: 256 pieces of 1 MiB.
const BIG: u64 = 256 * MIB;
const CHUNK: usize = 8 << 20;
/// What a client may send on top of the blob: request heads (with tokens)
/// and answers' worth of retries, far less than a chunk.
const SLACK: u64 = MIB;

/// Piece `i` of the big blob: a seeded 1 MiB block stamped with `i`, so
/// that 256 MiB never sit in memory at once.
fn big_piece(block: &Bytes, i: u64) -> Bytes {
    let mut bytes = block.to_vec();
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    Bytes::from(bytes)
}

/// The big blob as a stream nobody can rewind, and its digest.
fn big_stream() -> (BlobSource, Digest) {
    let block = data(1 << 20, 30);
    let mut hasher = DigestHasher::new(Algorithm::Sha256);
    for i in 0..BIG / MIB {
        hasher.update(&big_piece(&block, i));
    }
    let pieces = (0..BIG / MIB).map(move |i| Ok::<_, std::io::Error>(big_piece(&block, i)));
    (
        BlobSource::stream(futures_util::stream::iter(pieces), None),
        hasher.finish(),
    )
}

/// A client in chunked mode (8 MiB chunks) through `proxy`.
fn chunked_client(proxy: &FaultProxy, registry: &support::Registry) -> RegistryClient {
    RegistryClient::builder(support::transport(&[&proxy.host()], registry.credentials()))
        .upload_mode(UploadMode::Chunked)
        .chunk_size(CHUNK)
        .build()
        .unwrap()
}

/// Arms `fault` on `proxy` once an upload has reported `after` bytes
/// accepted: between two chunk requests.
fn arm_after(proxy: &Arc<FaultProxy>, after: u64, fault: ProxyFault) -> Progress {
    let (proxy, armed) = (proxy.clone(), AtomicBool::new(false));
    Progress::new(move |event| {
        if let ProgressEvent::Advanced { done, .. } = event
            && done >= after
            && !armed.swap(true, Ordering::SeqCst)
        {
            proxy.arm(fault);
        }
    })
}

/// The connection drops half-way through a 256 MiB upload, between two
/// chunks: the client asks docker-registry for its Range and goes on from
/// there, so it sends the blob about once, not once and a half.
#[tokio::test]
async fn a_256_mib_upload_cut_half_way_resumes_from_the_registrys_range() {
    let registry = support::registry(Auth::Token).await;
    let proxy = Arc::new(FaultProxy::start(registry.host()).await.unwrap());
    let client = chunked_client(&proxy, &registry);
    let repository = Reference::parse(&format!("{}/team/big", proxy.host())).unwrap();
    let (source, digest) = big_stream();
    // 64 bytes into the next PATCH's head: docker-registry never sees it.
    let progress = arm_after(&proxy, BIG / 2, ProxyFault::CutAfter(64));
    let pushed = client
        .push_blob(
            &repository,
            source,
            &UploadOptions::new().progress(progress),
        )
        .await
        .unwrap();
    assert_eq!((pushed.digest.clone(), pushed.size), (digest, BIG));
    assert_eq!(proxy.fired(), 1, "the connection was cut");
    let sent = proxy.upstream_bytes();
    assert!(
        sent > BIG && sent < BIG + CHUNK as u64 + SLACK,
        "sent {sent} bytes for a blob of {BIG}: not resumed"
    );
    assert_eq!(
        client
            .blob_exists(&repository, &pushed.digest)
            .await
            .unwrap(),
        Some(BIG)
    );
}

/// Cut inside a chunk, docker-registry keeps the chunk's first bytes but
/// drops the upload when asked for its Range ("upload resumed at wrong
/// offset"): resuming is impossible there, and the client starts again
/// from the file. The byte count shows the restart.
#[tokio::test]
async fn a_256_mib_upload_cut_inside_a_chunk_restarts_where_docker_registry_drops_it() {
    let registry = support::registry(Auth::None).await;
    let proxy = FaultProxy::start(registry.host()).await.unwrap();
    let client = chunked_client(&proxy, &registry);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let block = data(1 << 20, 30);
    let mut file = std::fs::File::create(&path).unwrap();
    for i in 0..BIG / MIB {
        std::io::Write::write_all(&mut file, &big_piece(&block, i)).unwrap();
    }
    drop(file);
    let repository = Reference::parse(&format!("{}/team/big", proxy.host())).unwrap();
    let cut_at = BIG / 2 + 3 * MIB;
    proxy.arm(ProxyFault::CutAfter(cut_at));
    let pushed = client
        .push_blob(&repository, BlobSource::file(&path), &UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(pushed.size, BIG);
    assert_eq!(proxy.fired(), 1);
    let sent = proxy.upstream_bytes();
    // At most one refused resume attempt on top: docker-registry may read
    // part of the chunk sent from its Range before it answers that the
    // upload resumed at the wrong offset (seen on a loaded CI machine).
    assert!(
        sent >= cut_at + BIG && sent < cut_at + BIG + CHUNK as u64 + SLACK,
        "sent {sent}: the bytes before the cut, then the whole blob again"
    );
}

/// Every blob is up, then each attempt at the manifest PUT is reset: the
/// push fails and the tag still names the image it named before.
#[tokio::test]
async fn a_push_cut_before_the_manifest_leaves_the_tag_on_the_old_digest() {
    let registry = support::registry(Auth::Token).await;
    let proxy = Arc::new(FaultProxy::start(registry.host()).await.unwrap());
    let host = proxy.host();
    // One attempt and one retry (support::transport's setting).
    let client = RegistryClient::new(support::transport(&[&host], registry.credentials()));
    let target = Reference::parse(&format!("{host}/team/safe:v1")).unwrap();
    let image = |seed| {
        ImageParts::new(format!(r#"{{"seed":{seed}}}"#).into_bytes()).layer(
            MediaType::OciLayerGzip,
            BlobSource::bytes(data(500_000, seed)),
        )
    };
    let old = client
        .push_image(&target, image(1), &TransferOptions::new())
        .await
        .unwrap()
        .digest;

    let (armed, done) = (proxy.clone(), AtomicUsize::new(0));
    let progress = Progress::new(move |event| {
        if matches!(event, ProgressEvent::Finished { .. })
            && done.fetch_add(1, Ordering::SeqCst) == 1
        {
            // The config and the layer are up: what comes next is the manifest.
            armed.arm(ProxyFault::Reset);
            armed.arm(ProxyFault::Reset);
        }
    });
    let error = client
        .push_image(
            &target,
            image(2),
            &TransferOptions::new().progress(progress),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Transport(ghcr_transport::Error::Network { url, .. }) if url.contains("/manifests/v1")),
        "{error:?}"
    );
    assert_eq!(proxy.fired(), 2, "both attempts at the manifest were reset");
    assert_eq!(client.resolve_digest(&target).await.unwrap(), old);
}

const USER: &str = "octo";
const TOKEN: &str = "token-for-octo";

/// A fake (generic profile: blobs served by the registry itself) holding
/// `octo/app:v1` with one 2 MiB layer; returns the layer's digest.
async fn fake_with_image() -> (FakeGhcr, Digest) {
    let fake = FakeGhcr::builder()
        .profile(Profile::Generic)
        .user(USER, TOKEN)
        .start()
        .await
        .unwrap();
    let image = fake
        .store()
        .push_image("octo/app", Some("v1"), &[data(2 << 20, 5)])
        .unwrap();
    (fake, image.layers[0].clone())
}

/// The names `index.json` of a layout gives its images.
fn layout_names(dir: &std::path::Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(dir.join("index.json")) else {
        return Vec::new();
    };
    let index: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["annotations"][REF_NAME].as_str().map(str::to_owned))
        .collect()
}

/// A layer that arrives corrupted fails the pull with `DigestMismatch`,
/// leaving no file for it and no entry naming the image; with the fault
/// gone, the same pull into the same folder completes.
#[tokio::test]
async fn a_corrupted_blob_fails_the_pull_cleanly_and_a_rerun_completes() {
    let (fake, layer) = fake_with_image().await;
    let route = Route::new(Method::GET, &format!("/v2/*/blobs/{layer}"));
    fake.faults().add(Fault::corrupt(route.clone()));
    let client = support::fake_client(&fake, USER, TOKEN).build().unwrap();
    let reference = Reference::parse(&format!("{}/octo/app:v1", fake.registry_host())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blob_file = dir.path().join("blobs/sha256").join(layer.encoded());

    let error = client
        .pull_to_layout(&reference, dir.path(), &TransferOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::DigestMismatch { .. }), "{error}");
    assert!(!blob_file.exists(), "no file under the bad layer's name");
    assert!(
        layout_names(dir.path()).is_empty(),
        "no entry for the image"
    );
    let hidden = std::fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(hidden, 0, "no partial file left");

    fake.faults().clear();
    client
        .pull_to_layout(&reference, dir.path(), &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(layout_names(dir.path()), ["v1"]);
    assert_eq!(
        Digest::sha256_of(&std::fs::read(&blob_file).unwrap()),
        layer
    );
}

/// A layer answer cut after 1000 bytes is not taken as the blob: the pull
/// asks for the rest with a Range and verifies the whole.
#[tokio::test]
async fn a_truncated_blob_answer_is_completed_and_verified() {
    let (fake, layer) = fake_with_image().await;
    let route = Route::new(Method::GET, &format!("/v2/*/blobs/{layer}"));
    fake.faults()
        .add(Fault::drop_after(route.clone(), 1000).nth(1));
    let client = support::fake_client(&fake, USER, TOKEN).build().unwrap();
    let reference = Reference::parse(&format!("{}/octo/app:v1", fake.registry_host())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    client
        .pull_to_layout(&reference, dir.path(), &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(fake.faults().fired(), 1);
    assert_eq!(
        fake.log().count(&route),
        2,
        "one cut answer, one resumed read"
    );
    let blob_file = dir.path().join("blobs/sha256").join(layer.encoded());
    assert_eq!(
        Digest::sha256_of(&std::fs::read(&blob_file).unwrap()),
        layer
    );
    assert_eq!(layout_names(dir.path()), ["v1"]);
}
