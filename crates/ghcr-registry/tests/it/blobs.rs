//! Blob reads: verified streams, ranged reads, downloads that never leave
//! a complete-looking wrong file, and deletes.

use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use ghcr_registry::{Error, Progress, ProgressEvent, RegistryClient};
use ghcr_types::{Digest, Reference};

use crate::support::faulty::BadBlob;
use crate::support::{self, Auth, data, faulty, proxy};

support::in_both_modes!(
    a_cut_download_resumes_with_a_range_request,
    verified_streams_ranges_and_deletes_on_a_real_registry,
    downloads_report_progress_and_land_whole
);

async fn verified_streams_ranges_and_deletes_on_a_real_registry(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/blobs").unwrap();
    let blob = data(3 * 1024 * 1024 + 5, 1);
    let digest = Digest::sha256_of(&blob);
    assert_eq!(
        support::push_bytes(&client, &repository, &blob).await,
        digest
    );
    assert_eq!(
        client.blob_exists(&repository, &digest).await.unwrap(),
        Some(blob.len() as u64)
    );

    let stream = client.get_blob(&repository, &digest).await.unwrap();
    assert!(stream.is_verified());
    assert_eq!(stream.size(), Some(blob.len() as u64));
    let pieces: Vec<_> = stream.collect().await;
    let whole: Vec<u8> = pieces.into_iter().flat_map(|p| p.unwrap()).collect();
    assert_eq!(whole, blob.as_ref());

    let tail = client
        .get_blob_range(&repository, &digest, 1000)
        .await
        .unwrap();
    assert!(!tail.is_verified());
    let tail: Vec<u8> = tail
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|p| p.unwrap())
        .collect();
    assert_eq!(tail, &blob[1000..]);

    client.delete_blob(&repository, &digest).await.unwrap();
    assert_eq!(
        client.blob_exists(&repository, &digest).await.unwrap(),
        None
    );
    let error = client.get_blob(&repository, &digest).await.unwrap_err();
    assert!(matches!(error, Error::BlobNotFound { .. }), "{error}");
}

async fn downloads_report_progress_and_land_whole(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/download").unwrap();
    let blob = data(5 * 1024 * 1024, 2);
    let digest = Digest::sha256_of(&blob);
    support::push_bytes(&client, &repository, &blob).await;
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("blob");
    let (progress, mut events) = Progress::channel();
    let size = client
        .download_blob(
            &repository,
            &digest,
            Some(blob.len() as u64),
            &destination,
            &progress,
        )
        .await
        .unwrap();
    assert_eq!(size, blob.len() as u64);
    assert_eq!(std::fs::read(&destination).unwrap(), blob.as_ref());
    let mut last_done = 0;
    let mut finished = false;
    while let Ok(event) = events.try_recv() {
        match event {
            ProgressEvent::Advanced { done, total, .. } => {
                assert!(done > last_done && total == Some(size));
                last_done = done;
            }
            ProgressEvent::Finished { digest: d, size: s } => {
                finished = d == digest && s == size;
            }
            _ => {}
        }
    }
    assert_eq!(last_done, size);
    assert!(finished);
}

async fn bad_server(how: BadBlob) -> (RegistryClient, Reference, Digest, usize) {
    let blob = data(2 * 1024 * 1024, 3);
    let digest = Digest::sha256_of(&blob);
    let addr = faulty::bad_blob_server(blob.clone(), how).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/bad")).unwrap();
    (client, repository, digest, blob.len())
}

#[tokio::test]
async fn a_verified_stream_never_releases_its_last_chunk_when_wrong() {
    for how in [
        BadBlob::WrongBytes,
        BadBlob::HalfAnswer,
        BadBlob::CutHalfway,
    ] {
        let (client, repository, digest, len) = bad_server(how).await;
        let mut stream = client.get_blob(&repository, &digest).await.unwrap();
        let mut released = 0;
        let mut failure = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(piece) => released += piece.len(),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let failure =
            failure.unwrap_or_else(|| panic!("{how:?}: the stream ended without an error"));
        assert!(
            released < len,
            "{how:?}: {released} of {len} bytes released"
        );
        match how {
            BadBlob::WrongBytes | BadBlob::HalfAnswer => {
                assert!(failure.is_digest_mismatch(), "{how:?}: {failure}");
            }
            BadBlob::CutHalfway => {
                assert!(
                    matches!(failure, Error::Interrupted { .. }),
                    "{how:?}: {failure}"
                );
            }
        }
    }
}

#[tokio::test]
async fn failed_downloads_leave_nothing_that_looks_complete() {
    for how in [
        BadBlob::WrongBytes,
        BadBlob::HalfAnswer,
        BadBlob::CutHalfway,
    ] {
        let (client, repository, digest, len) = bad_server(how).await;
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join(digest.encoded());
        for size in [None, Some(len as u64)] {
            let error = client
                .download_blob(&repository, &digest, size, &destination, &Progress::none())
                .await
                .unwrap_err();
            assert!(
                error.is_digest_mismatch() || matches!(error, Error::Interrupted { .. }),
                "{how:?} {size:?}: {error}"
            );
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(left.is_empty(), "{how:?} {size:?}: left {left:?}");
        }
    }
}

/// The connection drops a third of the way into a blob: the download goes
/// on from there with `Range`, instead of starting again.
async fn a_cut_download_resumes_with_a_range_request(auth: Auth) {
    let registry = support::registry(auth).await;
    let (addr, seen) = proxy::cutting_a_blob_answer(registry.host().to_owned(), 2 << 20).await;
    let host = addr.to_string();
    let client = RegistryClient::new(support::transport(&[&host], registry.credentials()));
    let repository = Reference::parse(&format!("{host}/team/resume")).unwrap();
    let blob = data(6 << 20, 7);
    let digest = support::push_bytes(&client, &repository, &blob).await;
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("blob");
    client
        .download_blob(
            &repository,
            &digest,
            Some(blob.len() as u64),
            &destination,
            &Progress::none(),
        )
        .await
        .unwrap();
    assert!(seen.answer_cut.load(Ordering::SeqCst));
    assert_eq!(std::fs::read(&destination).unwrap(), blob.as_ref());
    let gets: Vec<String> = seen
        .heads
        .lock()
        .unwrap()
        .iter()
        .filter(|head| head.starts_with("get ") && head.contains("/blobs/sha256:"))
        .cloned()
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(!gets[0].contains("\nrange:"), "{}", gets[0]);
    let range = gets[1]
        .lines()
        .find_map(|line| line.strip_prefix("range: bytes="))
        .unwrap_or_else(|| panic!("no Range in {}", gets[1]));
    let from: u64 = range.trim_end_matches('-').parse().unwrap();
    assert!(from > 1 << 20 && from < 2 << 20, "resumed from byte {from}");
}

/// Resumed reads are right whether the registry honours Range (206) or
/// sends the whole blob again (200, the first bytes are skipped), and the
/// verified stream still checks every byte once.
#[tokio::test]
async fn resumed_reads_work_with_and_without_range_support() {
    let blob = data(3 << 20, 8);
    let digest = Digest::sha256_of(&blob);
    for honour_range in [true, false] {
        let (addr, ranges) = faulty::flaky_blob_server(blob.clone(), honour_range).await;
        let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
        let repository = Reference::parse(&format!("{addr}/team/flaky")).unwrap();
        let stream = client.get_blob(&repository, &digest).await.unwrap();
        let pieces: Vec<_> = stream.collect().await;
        let whole: Vec<u8> = pieces.into_iter().flat_map(|p| p.unwrap()).collect();
        assert_eq!(whole, blob.as_ref(), "honour_range: {honour_range}");
        let ranges = ranges.lock().unwrap().clone();
        assert_eq!(ranges.len(), 2, "{ranges:?}");
        assert_eq!(ranges[0], None);
        assert_eq!(
            ranges[1].as_deref(),
            Some(format!("bytes={}-", blob.len() / 2).as_str())
        );
    }
}

/// A pull whose future is dropped mid-transfer (a cancelled task, a
/// `select!` that lost) leaves no `.partial-` file behind.
#[tokio::test]
async fn a_dropped_download_removes_its_partial_file() {
    let blob = data(2 * 1024 * 1024, 8);
    let digest = Digest::sha256_of(&blob);
    let (addr, sent) = faulty::stalling_blob_server(blob).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/stall")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join(digest.encoded());
    let progress = Progress::none();
    let mut download =
        Box::pin(client.download_blob(&repository, &digest, None, &destination, &progress));
    tokio::select! {
        outcome = &mut download => panic!("the stalled download ended: {outcome:?}"),
        () = sent.notified() => {}
    }
    let partial: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        partial.len(),
        1,
        "the download is under way in a partial file"
    );
    drop(download);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A blob answer whose Content-Length is smaller than the bytes that
/// follow: only the announced bytes are read, and they do not verify.
#[tokio::test]
async fn a_content_length_smaller_than_the_blob_is_a_mismatch() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let blob = data(256 * 1024, 9);
    let digest = Digest::sha256_of(&blob);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = blob.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                served.len() / 2
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&served).await;
            let _ = socket.shutdown().await;
        }
    });
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/short")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join(digest.encoded());
    for size in [None, Some(blob.len() as u64)] {
        let error = client
            .download_blob(&repository, &digest, size, &destination, &Progress::none())
            .await
            .unwrap_err();
        assert!(
            error.is_digest_mismatch()
                || matches!(
                    error,
                    Error::SizeMismatch { .. } | Error::Interrupted { .. }
                ),
            "{size:?}: {error}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{size:?}"
        );
    }
}
