//! Uploads on a real registry: every strategy and source, a 256 MiB
//! stream, 1 KiB chunks, mounts, and what happens when a connection drops.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ghcr_registry::{
    BlobOutcome, BlobSource, Error, ExistsCheck, RegistryClient, UploadMode, UploadOptions,
};
use ghcr_types::{Digest, Reference};

use crate::support::{self, Auth, data, proxy, upload_server};

support::in_both_modes!(
    every_mode_and_source_gives_the_same_blob,
    chunked_upload_with_1_kib_chunks,
    streaming_upload_of_256_mib_from_a_generator,
    mounts_between_repositories_and_the_202_fallback,
    a_wrong_digest_is_refused_and_nothing_is_committed,
    a_cut_upload_restarts_when_the_registry_dropped_it,
    a_chunked_upload_resumes_from_the_registrys_range
);

async fn pull_back(client: &RegistryClient, repository: &Reference, digest: &Digest) -> Bytes {
    client
        .get_blob_bytes(repository, digest, 64 << 20)
        .await
        .unwrap()
}

async fn every_mode_and_source_gives_the_same_blob(auth: Auth) {
    let registry = support::registry(auth).await;
    let dir = tempfile::tempdir().unwrap();
    let modes = [
        UploadMode::Streamed,
        UploadMode::Monolithic,
        UploadMode::Chunked,
    ];
    for (m, mode) in modes.into_iter().enumerate() {
        let client = support::client_for(&[&registry])
            .upload_mode(mode)
            .chunk_size(1 << 20)
            .build()
            .unwrap();
        for (size, seed) in [(1000usize, 10u64), (3 * 1024 * 1024 + 77, 11)] {
            let blob = data(size, seed + m as u64 * 100);
            let digest = Digest::sha256_of(&blob);
            let path = dir.path().join(format!("blob-{m}-{size}"));
            std::fs::write(&path, &blob).unwrap();
            let sources = [
                ("bytes", BlobSource::bytes(blob.clone())),
                ("file", BlobSource::file(&path)),
                (
                    "reader",
                    BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None),
                ),
                (
                    "reader with digest",
                    BlobSource::reader(std::io::Cursor::new(blob.to_vec()), Some(size as u64))
                        .with_digest(digest.clone()),
                ),
            ];
            for (i, (name, source)) in sources.into_iter().enumerate() {
                let repository = registry
                    .reference(&format!("modes/m{m}-s{size}-{i}"))
                    .unwrap();
                let pushed = client
                    .push_blob(&repository, source, &UploadOptions::new())
                    .await
                    .unwrap();
                assert_eq!(pushed.digest, digest, "{mode:?} {name} {size}");
                assert_eq!(pushed.size, size as u64, "{mode:?} {name} {size}");
                assert_eq!(pushed.outcome, BlobOutcome::Uploaded);
                assert_eq!(
                    pull_back(&client, &repository, &digest).await,
                    blob,
                    "{mode:?} {name} {size}"
                );
            }
        }
    }
}

async fn chunked_upload_with_1_kib_chunks(auth: Auth) {
    let registry = support::registry(auth).await;
    let (addr, seen) = proxy::start(registry.host().to_owned(), Arc::new(|_, _| false)).await;
    let host = addr.to_string();
    let transport = support::transport(&[&host], registry.credentials());
    let client = RegistryClient::builder(transport)
        .upload_mode(UploadMode::Chunked)
        .chunk_size(1024)
        .build()
        .unwrap();
    let blob = data(10 * 1024 + 17, 20);
    let repository = Reference::parse(&format!("{host}/team/chunked")).unwrap();
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let pushed = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(pushed.digest, Digest::sha256_of(&blob));
    assert_eq!(
        seen.count("PATCH "),
        11,
        "ten full chunks and one of 17 bytes"
    );
    assert_eq!(seen.count("PUT "), 1);
    assert_eq!(pull_back(&client, &repository, &pushed.digest).await, blob);
}

/// 256 MiB from a generator whose size and digest nobody knows in advance.
async fn streaming_upload_of_256_mib_from_a_generator(auth: Auth) {
    const PIECES: u64 = 256;
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let block = data(1 << 20, 30);
    let piece = move |i: u64| {
        let mut bytes = block.to_vec();
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        Bytes::from(bytes)
    };
    let mut expected = ghcr_types::DigestHasher::new(ghcr_types::Algorithm::Sha256);
    for i in 0..PIECES {
        expected.update(&piece(i));
    }
    let generator =
        futures_util::stream::iter((0..PIECES).map(move |i| Ok::<_, std::io::Error>(piece(i))));
    let repository = registry.reference("team/big").unwrap();
    let pushed = client
        .push_blob(
            &repository,
            BlobSource::stream(generator, None),
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(pushed.digest, expected.finish());
    assert_eq!(pushed.size, PIECES << 20);
    assert_eq!(
        client
            .blob_exists(&repository, &pushed.digest)
            .await
            .unwrap(),
        Some(PIECES << 20)
    );
}

async fn mounts_between_repositories_and_the_202_fallback(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let base = registry.reference("team/base").unwrap();
    let app = registry.reference("team/app").unwrap();
    let blob = data(100_000, 40);
    let digest = Digest::sha256_of(&blob);
    client
        .push_blob(
            &base,
            BlobSource::bytes(blob.clone()),
            &UploadOptions::new(),
        )
        .await
        .unwrap();

    let mount = UploadOptions::new().mount_from(base.clone());
    let mounted = client
        .push_blob(&app, BlobSource::bytes(blob.clone()), &mount)
        .await
        .unwrap();
    assert_eq!(mounted.outcome, BlobOutcome::Mounted);
    assert_eq!(pull_back(&client, &app, &digest).await, blob);
    if let Some(issuer) = registry.issuer() {
        let asked = issuer.scopes_asked();
        assert!(
            asked.iter().any(|s| s == "repository:team/base:pull"),
            "the mount asks to read the source: {asked:?}"
        );
    }

    // The source lacks this one: the registry answers 202 and the upload goes on.
    let other = data(50_000, 41);
    let empty = registry.reference("team/empty").unwrap();
    let mount = UploadOptions::new().mount_from(empty);
    let uploaded = client
        .push_blob(&app, BlobSource::bytes(other.clone()), &mount)
        .await
        .unwrap();
    assert_eq!(uploaded.outcome, BlobOutcome::Uploaded);
    assert_eq!(pull_back(&client, &app, &uploaded.digest).await, other);

    let again = client
        .push_blob(
            &app,
            BlobSource::bytes(other.clone()),
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(again.outcome, BlobOutcome::Existed);
    let forced = UploadOptions::new().exists_check(ExistsCheck::Skip);
    let sent = client
        .push_blob(&app, BlobSource::bytes(other), &forced)
        .await
        .unwrap();
    assert_eq!(sent.outcome, BlobOutcome::Uploaded);
}

/// A source whose bytes do not hash to its digest commits nothing: a
/// small one is caught here before its PUT; a large one is refused by the
/// registry at the commit (the client does not hash it again unless
/// `verify_uploads`, which catches it before the commit instead).
async fn a_wrong_digest_is_refused_and_nothing_is_committed(auth: Auth) {
    let registry = support::registry(auth).await;
    let repository = registry.reference("team/wrong").unwrap();
    let claimed = Digest::sha256_of(b"what the caller claims");
    for (size, verify) in [(10usize, false), (6 << 20, false), (6 << 20, true)] {
        let client = support::client_for(&[&registry])
            .verify_uploads(verify)
            .build()
            .unwrap();
        let blob = data(size, 50);
        let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), Some(size as u64))
            .with_digest(claimed.clone());
        let error = client
            .push_blob(
                &repository,
                source,
                &UploadOptions::new().exists_check(ExistsCheck::Skip),
            )
            .await
            .unwrap_err();
        assert!(error.is_digest_mismatch(), "{size}: {error}");
        let by_registry = size > 4 << 20 && !verify;
        assert_eq!(
            matches!(error, Error::DigestRefused { .. }),
            by_registry,
            "{size}, verify {verify}: {error}"
        );
        for digest in [Digest::sha256_of(&blob), claimed.clone()] {
            let found = client.blob_exists(&repository, &digest).await.unwrap();
            assert_eq!(found, None, "{size}, verify {verify}: {digest}");
        }
    }
}

/// A registry that keeps what a cut PATCH delivered: the upload goes on
/// from its Range, resending only what it lacks from the reader's buffer.
#[tokio::test]
async fn a_streamed_upload_resumes_from_the_registrys_range() {
    let state = Arc::new(Mutex::new(upload_server::Uploads {
        cut_after: Some(3 << 20),
        ..upload_server::Uploads::default()
    }));
    let addr = upload_server::resumable_upload_server(state.clone()).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/resume")).unwrap();
    let blob = data(8 << 20, 60);
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), Some(blob.len() as u64));
    let pushed = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(pushed.digest, Digest::sha256_of(&blob));
    let state = state.lock().unwrap();
    assert_eq!(state.blobs.get(pushed.digest.as_str()), Some(&blob));
    let methods: Vec<&str> = state
        .log
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["POST", "PATCH", "GET", "PATCH", "PUT"],
        "{:?}",
        state.log
    );
}

/// A PATCH whose answer stalls (a 429 head, then no body for longer than
/// the transport's idle timeout) goes on from the registry's Range, as
/// after a dropped connection.
#[tokio::test(start_paused = true)]
async fn a_stalled_answer_is_resumed_from_the_registrys_range() {
    let state = Arc::new(Mutex::new(upload_server::Uploads {
        stall_patch_answer: true,
        ..upload_server::Uploads::default()
    }));
    let addr = upload_server::resumable_upload_server(state.clone()).await;
    let idle = std::time::Duration::from_secs(5);
    let transport = ghcr_transport::Transport::builder()
        .allow_plain_http(addr.to_string())
        .idle_timeout(idle)
        .build()
        .unwrap();
    let client = RegistryClient::new(transport);
    let repository = Reference::parse(&format!("{addr}/team/stalled")).unwrap();
    let blob = data(64 << 10, 61);
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let started = tokio::time::Instant::now();
    let pushed = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap();
    assert!(started.elapsed() >= idle, "the answer was waited for");
    let state = state.lock().unwrap();
    assert_eq!(state.blobs.get(pushed.digest.as_str()), Some(&blob));
    assert_eq!(state.received, blob.len(), "no byte was sent twice");
    assert_eq!(
        state.log.iter().filter(|l| l.starts_with("POST")).count(),
        1,
        "resumed, not restarted: {:?}",
        state.log
    );
}

/// docker-registry drops an upload whose PATCH was cut: it is started
/// again from the file.
async fn a_cut_upload_restarts_when_the_registry_dropped_it(auth: Auth) {
    let registry = support::registry(auth).await;
    let cut: proxy::Cut = Arc::new(|_, forwarded| forwarded > (5 << 20));
    let (addr, seen) = proxy::start(registry.host().to_owned(), cut).await;
    let host = addr.to_string();
    let client = RegistryClient::new(support::transport(&[&host], registry.credentials()));
    let dir = tempfile::tempdir().unwrap();
    let blob = data(12 << 20, 70);
    let path = dir.path().join("layer");
    std::fs::write(&path, &blob).unwrap();
    let repository = Reference::parse(&format!("{host}/team/restart")).unwrap();
    support::warm_up(&client, &repository).await;
    let posts = seen.count("POST ");
    let pushed = client
        .push_blob(&repository, BlobSource::file(&path), &UploadOptions::new())
        .await
        .unwrap();
    assert!(seen.cut.load(Ordering::SeqCst));
    assert_eq!(
        seen.count("POST ") - posts,
        2,
        "{:?}",
        seen.requests.lock().unwrap()
    );
    assert_eq!(pull_back(&client, &repository, &pushed.digest).await, blob);
}

/// A chunk whose request never reached docker-registry: its Range says
/// where to go on, and no chunk is sent twice but that one.
async fn a_chunked_upload_resumes_from_the_registrys_range(auth: Auth) {
    let registry = support::registry(auth).await;
    let cut: proxy::Cut =
        Arc::new(|piece, forwarded| piece.starts_with(b"PATCH ") && forwarded > (2 << 20));
    let (addr, seen) = proxy::start(registry.host().to_owned(), cut).await;
    let host = addr.to_string();
    let client = RegistryClient::builder(support::transport(&[&host], registry.credentials()))
        .upload_mode(UploadMode::Chunked)
        .chunk_size(1 << 20)
        .build()
        .unwrap();
    let blob = data(6 << 20, 80);
    let repository = Reference::parse(&format!("{host}/team/chunks")).unwrap();
    support::warm_up(&client, &repository).await;
    let (posts, patches) = (seen.count("POST "), seen.count("PATCH "));
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let pushed = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap();
    assert!(seen.cut.load(Ordering::SeqCst));
    assert_eq!(seen.count("POST ") - posts, 1, "resumed, not restarted");
    assert_eq!(seen.count("GET /v2/team/chunks/blobs/uploads/"), 1);
    assert_eq!(
        seen.count("PATCH ") - patches,
        7,
        "six chunks, one of them twice"
    );
    assert_eq!(pull_back(&client, &repository, &pushed.digest).await, blob);
}

#[tokio::test]
async fn a_reader_too_far_past_the_registry_cannot_resume_and_says_so() {
    let state = Arc::new(Mutex::new(upload_server::Uploads {
        cut_after: Some(1 << 20),
        ..upload_server::Uploads::default()
    }));
    let addr = upload_server::resumable_upload_server(state.clone()).await;
    let client = RegistryClient::builder(support::transport(&[&addr.to_string()], None))
        .resume_buffer(0)
        .build()
        .unwrap();
    let repository = Reference::parse(&format!("{addr}/team/lost")).unwrap();
    let blob = data(8 << 20, 90);
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let error = client
        .push_blob(&repository, source, &UploadOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UploadInterrupted { .. }), "{error}");
    assert!(error.to_string().contains("run the push again"), "{error}");
    assert!(state.lock().unwrap().blobs.is_empty());
}
