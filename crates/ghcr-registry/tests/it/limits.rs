//! How much goes at once: blobs in parallel as configured, and transfer
//! buffers within the client's memory budget whatever the blob size or
//! the concurrency. The test servers hold answers or stop reading, so
//! that waiting shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ghcr_registry::{
    BlobSource, ImageParts, RegistryClient, SyncOptions, TransferOptions, UploadMode, UploadOptions,
};
use ghcr_types::{Digest, MediaType, Reference};

use crate::support::{self, data, upload_server};

/// Blobs go four at a time by default; the client's setting and each
/// transfer's option change that (HEADs are answered slowly and counted).
#[tokio::test]
async fn blobs_go_as_many_at_once_as_configured() {
    for (client_setting, transfer_setting, expected) in [
        (None, None, 4),
        (None, Some(2), 2),
        (Some(6), None, 6),
        (Some(6), Some(1), 1),
    ] {
        let state = Arc::new(Mutex::new(upload_server::Uploads::holding(
            &["HEAD"],
            Duration::from_millis(100),
        )));
        let addr = upload_server::resumable_upload_server(state.clone()).await;
        let mut builder = RegistryClient::builder(support::transport(&[&addr.to_string()], None));
        if let Some(blobs) = client_setting {
            builder = builder.concurrency(blobs);
        }
        let client = builder.build().unwrap();
        let mut options = TransferOptions::new();
        if let Some(blobs) = transfer_setting {
            options = options.concurrency(blobs);
        }
        let mut parts = ImageParts::new(&b"{}"[..]);
        for seed in 0..11 {
            parts = parts.layer(MediaType::OciLayerTar, BlobSource::bytes(data(1000, seed)));
        }
        let target = Reference::parse(&format!("{addr}/team/wide:v1")).unwrap();
        let report = client.push_image(&target, parts, &options).await.unwrap();
        assert_eq!(report.blobs.len(), 12);
        let state = state.lock().unwrap();
        assert_eq!(
            state.most("HEAD"),
            expected,
            "client {client_setting:?}, transfer {transfer_setting:?}"
        );
        assert_eq!(state.blobs.len(), 12);
    }
}
/// A reader of `left` zero bytes that counts what it handed out.
struct CountingReader {
    left: u64,
    read: Arc<AtomicU64>,
}

impl tokio::io::AsyncRead for CountingReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let room = u64::try_from(buf.remaining()).unwrap_or(u64::MAX);
        let n = usize::try_from(self.left.min(room)).unwrap();
        buf.put_slice(&vec![0u8; n]);
        self.left -= n as u64;
        self.read.fetch_add(n as u64, Ordering::SeqCst);
        std::task::Poll::Ready(Ok(()))
    }
}

/// Memory is bounded whatever the blob's size: when the registry stops
/// reading, a 1 GiB reader is read no further than the client's buffers
/// (its 16 MiB budget and 8 MiB resume window) and the sockets' allow.
#[tokio::test]
async fn an_upload_from_a_reader_stops_reading_when_the_registry_does() {
    let state = Arc::new(Mutex::new(upload_server::Uploads {
        stall_after: Some(2 << 20),
        ..upload_server::Uploads::default()
    }));
    let addr = upload_server::resumable_upload_server(state.clone()).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/huge")).unwrap();
    let read = Arc::new(AtomicU64::new(0));
    let reader = CountingReader {
        left: 1 << 30,
        read: read.clone(),
    };
    let upload = tokio::spawn(async move {
        let source = BlobSource::reader(reader, Some(1 << 30));
        client
            .push_blob(&repository, source, &UploadOptions::new())
            .await
    });
    // A real socket fills up in real time: wait until the reader stops.
    let started = std::time::Instant::now();
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = read.load(Ordering::SeqCst);
        let received = state.lock().unwrap().received;
        if now == last && received >= 2 << 20 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the reader never stopped: {now} bytes read"
        );
        last = now;
    }
    upload.abort();
    assert!(
        last < 64 << 20,
        "{} MiB were read while the registry took 2 MiB",
        last >> 20
    );
}

/// Blobs sent whole from memory (one PUT, or chunks) are transfer buffers
/// too: they share the client's memory budget, so memory stays flat
/// whatever the concurrency. Answers are held so that waiting shows.
#[tokio::test]
async fn blobs_sent_from_memory_share_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let blobs: Vec<Bytes> = (0..6).map(|seed| data(1 << 20, 200 + seed)).collect();
    for (i, blob) in blobs.iter().enumerate() {
        std::fs::write(dir.path().join(i.to_string()), blob).unwrap();
    }
    for (mode, digests_known, method, budget, expected) in [
        (UploadMode::Streamed, true, "PUT", 1 << 20, 1),
        (UploadMode::Streamed, true, "PUT", 4 << 20, 4),
        (UploadMode::Streamed, false, "PUT", 2 << 20, 2),
        (UploadMode::Chunked, true, "PATCH", 1 << 20, 1),
    ] {
        let state = Arc::new(Mutex::new(upload_server::Uploads::holding(
            &[method],
            Duration::from_millis(100),
        )));
        let addr = upload_server::resumable_upload_server(state.clone()).await;
        let client = RegistryClient::builder(support::transport(&[&addr.to_string()], None))
            .upload_mode(mode)
            .chunk_size(1 << 20)
            .memory_budget(budget)
            .build()
            .unwrap();
        let repository = Reference::parse(&format!("{addr}/team/memory")).unwrap();
        let options = UploadOptions::new();
        let pushes = blobs.iter().enumerate().map(|(i, blob)| {
            let path = dir.path().join(i.to_string());
            let source = if digests_known {
                BlobSource::file(path).with_digest(Digest::sha256_of(blob))
            } else {
                let file = std::fs::File::open(path).unwrap();
                BlobSource::reader(tokio::fs::File::from_std(file), Some(1 << 20))
            };
            client.push_blob(&repository, source, &options)
        });
        for pushed in futures_util::future::join_all(pushes).await {
            pushed.unwrap();
        }
        let state = state.lock().unwrap();
        assert_eq!(state.blobs.len(), 6);
        assert_eq!(
            state.most(method),
            expected,
            "{mode:?}, digests known: {digests_known}, budget {budget}"
        );
    }
}

/// A sync's images at once share the client's blob concurrency: 6 images
/// of 5 blobs go 4 images at a time with one blob each (4 in flight, not
/// 16: each blob streamed from another registry keeps a resume window of
/// its own), or as many per image as the transfer options ask. Upload
/// sessions (POSTs) are answered slowly and counted.
#[tokio::test]
async fn a_syncs_images_share_the_clients_blob_concurrency() {
    let from = support::registry(support::Auth::None).await;
    let source = from.reference("team/src").unwrap();
    let seeder = RegistryClient::new(support::transport(&[from.host()], None));
    for image in 0..6u64 {
        let mut parts = ImageParts::new(format!("{{\"image\":{image}}}"));
        for layer in 0..4 {
            let bytes = data(1000, 300 + image * 10 + layer);
            parts = parts.layer(MediaType::OciLayerTar, BlobSource::bytes(bytes));
        }
        let tagged = source.with_tag(&format!("v{image}")).unwrap();
        seeder
            .push_image(&tagged, parts, &TransferOptions::new())
            .await
            .unwrap();
    }
    for (blobs, expected) in [(None, 4), (Some(2), 8)] {
        let state = Arc::new(Mutex::new(upload_server::Uploads::holding(
            &["POST"],
            Duration::from_millis(50),
        )));
        let addr = upload_server::resumable_upload_server(state.clone()).await;
        let client =
            RegistryClient::new(support::transport(&[from.host(), &addr.to_string()], None));
        let target = Reference::parse(&format!("{addr}/mirror/dst")).unwrap();
        let plan = client
            .plan_sync(&source, &target, &SyncOptions::new())
            .await
            .unwrap();
        assert_eq!((plan.to_copy().count(), plan.concurrency), (6, 4));
        let mut options = TransferOptions::new();
        if let Some(blobs) = blobs {
            options = options.concurrency(blobs);
        }
        let report = client.run_sync(&plan, &options).await;
        assert!(report.is_complete(), "{:?}", report.failed);
        let state = state.lock().unwrap();
        assert_eq!(state.blobs.len(), 30, "6 configs and 24 layers");
        assert_eq!(state.most("POST"), expected, "blobs per image: {blobs:?}");
    }
}
