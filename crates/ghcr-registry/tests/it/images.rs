//! Whole images on real registries: multi-layer and multi-arch push and
//! pull, platforms, sizes, copies within and across registries, repeat
//! pushes, and pushes that fail without moving a tag.

use std::sync::Arc;

use ghcr_registry::{
    BlobOutcome, BlobSource, Error, ImageParts, Progress, ProgressEvent, REF_NAME, RegistryClient,
    TransferOptions,
};
use ghcr_types::{Digest, Manifest, MediaType, Platform, Reference};

use crate::support::{self, Auth, data, faulty, proxy};

support::in_both_modes!(
    a_multi_layer_image_pushes_sizes_and_pulls,
    a_multi_arch_index_pushes_children_first_and_selects_platforms,
    copies_mount_within_a_registry_and_stream_across,
    a_repeat_push_sends_no_blob_bytes,
    a_failed_push_never_moves_the_tag
);

/// Pushes a small image for `platform` by digest; returns its manifest.
pub(crate) async fn platform_image(
    client: &RegistryClient,
    repository: &Reference,
    platform: &str,
    seed: u64,
) -> Manifest {
    let (os, architecture) = platform.split_once('/').unwrap();
    let config = format!(
        r#"{{"architecture":"{architecture}","os":"{os}","rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    );
    let parts = ImageParts::new(config.into_bytes())
        .layer(
            MediaType::OciLayerGzip,
            BlobSource::bytes(data(300_000, seed)),
        )
        .layer(MediaType::OciLayerGzip, BlobSource::bytes(data(1000, 999)));
    client
        .push_image(repository, parts, &TransferOptions::new())
        .await
        .unwrap()
        .manifest
}

/// A multi-arch image (linux/amd64 and linux/arm64) tagged `tag`.
pub(crate) async fn multi_arch(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
) -> (Manifest, Vec<Manifest>) {
    let mut children = Vec::new();
    for (i, platform) in ["linux/amd64", "linux/arm64"].into_iter().enumerate() {
        let child = platform_image(client, repository, platform, 100 + i as u64).await;
        children.push((platform, child));
    }
    index_of(client, repository, tag, children).await
}

/// An index of `children` (each with its `os/arch`), tagged `tag`.
pub(crate) async fn index_of(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
    children: Vec<(&str, Manifest)>,
) -> (Manifest, Vec<Manifest>) {
    let entries: Vec<serde_json::Value> = children
        .iter()
        .map(|(platform, child)| {
            let (os, architecture) = platform.split_once('/').unwrap();
            serde_json::json!({
                "mediaType": child.media_type().as_str(),
                "digest": child.digest().as_str(),
                "size": child.size(),
                "platform": { "os": os, "architecture": architecture },
            })
        })
        .collect();
    let index = serde_json::json!({ "schemaVersion": 2, "mediaType": MediaType::OciIndex.as_str(), "manifests": entries });
    let index = Manifest::from_bytes(serde_json::to_vec(&index).unwrap(), None).unwrap();
    client
        .put_manifest(&repository.with_tag(tag).unwrap(), &index)
        .await
        .unwrap();
    (
        index,
        children.into_iter().map(|(_, child)| child).collect(),
    )
}

async fn a_multi_layer_image_pushes_sizes_and_pulls(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file_layer = data(2 << 20, 1);
    std::fs::write(dir.path().join("layer"), &file_layer).unwrap();
    let reader_layer = data((1 << 20) + 3, 2);
    let parts = ImageParts::new(&br#"{"architecture":"amd64","os":"linux"}"#[..])
        .layer(
            MediaType::OciLayerGzip,
            BlobSource::file(dir.path().join("layer")),
        )
        .layer(
            MediaType::OciLayerGzip,
            BlobSource::reader(std::io::Cursor::new(reader_layer.to_vec()), None),
        )
        .layer(MediaType::OciLayerTar, BlobSource::bytes(&b"small"[..]))
        .annotation(
            "org.opencontainers.image.source",
            "https://github.com/octo-org/app",
        );
    let target = registry.reference("team/app:v1").unwrap();
    let (progress, mut events) = Progress::channel();
    let report = client
        .push_image(&target, parts, &TransferOptions::new().progress(progress))
        .await
        .unwrap();
    assert_eq!(report.blobs.len(), 4);
    assert_eq!(report.manifest.layers().len(), 3);
    assert_eq!(
        report.manifest.layers()[1].digest().to_string(),
        Digest::sha256_of(&reader_layer).to_string()
    );
    assert_eq!(
        report.manifest.annotations().unwrap()["org.opencontainers.image.source"],
        "https://github.com/octo-org/app"
    );
    let mut finished = 0;
    while let Ok(event) = events.try_recv() {
        finished += usize::from(matches!(event, ProgressEvent::Finished { .. }));
    }
    assert_eq!(finished, 4, "one Finished per blob");

    let size = client.image_size(&target).await.unwrap();
    let blobs: u64 = report.blobs.iter().map(|b| b.size).sum();
    assert_eq!(size.total, report.manifest.size() + blobs);
    assert_eq!(size.platforms.len(), 1);

    let layout = dir.path().join("layout");
    let pulled = client
        .pull_to_layout(&target, &layout, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, report.digest);
    assert_eq!(
        (pulled.blobs, pulled.blobs_reused, pulled.bytes_downloaded),
        (4, 0, blobs)
    );
    for blob in &report.blobs {
        let on_disk =
            std::fs::read(layout.join("blobs/sha256").join(blob.digest.encoded())).unwrap();
        assert_eq!(Digest::sha256_of(&on_disk), blob.digest);
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["annotations"][REF_NAME], "v1");
    assert_eq!(index["manifests"][0]["digest"], report.digest.as_str());
    let again = client
        .pull_to_layout(&target, &layout, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!((again.blobs_reused, again.bytes_downloaded), (4, 0));
}

async fn a_multi_arch_index_pushes_children_first_and_selects_platforms(auth: Auth) {
    let registry = support::registry(auth).await;
    let other = support::registry(support::other_mode(auth)).await;
    let client = support::client_for(&[&registry, &other]).build().unwrap();
    let repository = registry.reference("team/multi").unwrap();
    let (index, children) = multi_arch(&client, &repository, "v1").await;
    let tagged = repository.with_tag("v1").unwrap();

    let arm64: Platform = "linux/arm64".parse().unwrap();
    assert_eq!(
        client.get_platform_manifest(&tagged, &arm64).await.unwrap(),
        children[1]
    );
    let error = client
        .get_platform_manifest(&tagged, &"linux/s390x".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::PlatformNotFound { available, .. } if available == "linux/amd64, linux/arm64"),
        "{error}"
    );
    let size = client.image_size(&tagged).await.unwrap();
    assert_eq!(size.platforms.len(), 2);
    assert_eq!(size.platforms[1].platform.as_ref(), Some(&arm64));
    assert_eq!(size.platforms[1].digest, *children[1].digest());

    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let pulled = client
        .pull_to_layout(&tagged, &whole, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, *index.digest());
    assert_eq!(pulled.blobs, 5, "two configs, two layers, one shared layer");

    let elsewhere = other.reference("mirror/multi:copied").unwrap();
    let pushed = client
        .push_layout(&whole, Some("v1"), &elsewhere, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(
        pushed.digest,
        *index.digest(),
        "digests survive the round trip"
    );
    for child in &children {
        let pinned = elsewhere
            .without_tag_or_digest()
            .with_digest(child.digest().clone());
        assert_eq!(client.get_manifest(&pinned).await.unwrap(), *child);
    }

    let one = dir.path().join("one");
    let options = TransferOptions::new().platform(arm64.clone()).name("arm");
    let pulled = client
        .pull_to_layout(&tagged, &one, &options)
        .await
        .unwrap();
    assert_eq!(pulled.digest, *children[1].digest());
    let entries: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.join("index.json")).unwrap()).unwrap();
    assert_eq!(entries["manifests"][0]["platform"]["architecture"], "arm64");
    assert_eq!(entries["manifests"][0]["annotations"][REF_NAME], "arm");
}

async fn copies_mount_within_a_registry_and_stream_across(auth: Auth) {
    let registry = support::registry(auth).await;
    let other = support::registry(support::other_mode(auth)).await;
    let client = support::client_for(&[&registry, &other]).build().unwrap();
    let source = registry.reference("team/src").unwrap();
    let (index, children) = multi_arch(&client, &source, "v1").await;
    let tagged = source.with_tag("v1").unwrap();

    let within = client
        .copy_image(
            &tagged,
            &registry.reference("team/dst").unwrap(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(within.digest, *index.digest());
    assert!(
        within
            .blobs
            .iter()
            .all(|b| b.outcome == BlobOutcome::Mounted),
        "{:?}",
        within.blobs
    );
    assert_eq!(
        client
            .resolve_digest(&registry.reference("team/dst:v1").unwrap())
            .await
            .unwrap(),
        *index.digest()
    );

    let across = client
        .copy_image(
            &tagged,
            &other.reference("mirror/app:v2").unwrap(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(across.digest, *index.digest());
    assert!(
        across
            .blobs
            .iter()
            .all(|b| b.outcome == BlobOutcome::Uploaded)
    );
    let copied = other.reference("mirror/app:v2").unwrap();
    assert_eq!(client.get_manifest(&copied).await.unwrap(), index);
    for child in &children {
        let pinned = copied
            .without_tag_or_digest()
            .with_digest(child.digest().clone());
        assert_eq!(
            client.get_manifest(&pinned).await.unwrap(),
            *child,
            "every child, byte for byte"
        );
    }
    let again = client
        .copy_image(&tagged, &copied, &TransferOptions::new())
        .await
        .unwrap();
    assert!(
        again
            .blobs
            .iter()
            .all(|b| b.outcome == BlobOutcome::Existed)
    );
}

async fn a_repeat_push_sends_no_blob_bytes(auth: Auth) {
    let registry = support::registry(auth).await;
    let (addr, seen) = proxy::start(registry.host().to_owned(), Arc::new(|_, _| false)).await;
    let host = addr.to_string();
    let client = RegistryClient::new(support::transport(&[&host], registry.credentials()));
    let repository = Reference::parse(&format!("{host}/team/repeat")).unwrap();
    multi_arch(&client, &repository, "v1").await;
    let dir = tempfile::tempdir().unwrap();
    client
        .pull_to_layout(
            &repository.with_tag("v1").unwrap(),
            dir.path(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    let uploads_before = seen.count("POST ");
    let report = client
        .push_layout(
            dir.path(),
            Some("v1"),
            &repository.with_tag("v1").unwrap(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.bytes_uploaded(), 0);
    assert!(
        report
            .blobs
            .iter()
            .all(|b| b.outcome == BlobOutcome::Existed)
    );
    assert_eq!(
        seen.count("POST "),
        uploads_before,
        "no upload was even opened"
    );
    assert_eq!(seen.count("PATCH "), 0);
}

async fn a_failed_push_never_moves_the_tag(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let target = registry.reference("team/safe:v1").unwrap();
    let first = platform_image(
        &client,
        &registry.reference("team/safe").unwrap(),
        "linux/amd64",
        7,
    )
    .await;
    client.put_manifest(&target, &first).await.unwrap();

    let failing = tokio::io::AsyncReadExt::chain(
        std::io::Cursor::new(data(3 << 20, 8).to_vec()),
        FailingReader,
    );
    let parts = ImageParts::new(&b"{}"[..])
        .layer(MediaType::OciLayerGzip, BlobSource::reader(failing, None));
    let error = client
        .push_image(&target, parts, &TransferOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert_eq!(
        client.resolve_digest(&target).await.unwrap(),
        *first.digest()
    );
}

/// A reader whose disk fails.
struct FailingReader;

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Err(std::io::Error::other("the disk failed")))
    }
}

/// Sizes are the registry's word: ones that add up past `u64::MAX`
/// saturate instead of overflowing.
#[tokio::test]
async fn claimed_sizes_that_overflow_saturate() {
    let huge = 1u64 << 63;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "config": { "mediaType": MediaType::OciConfig.as_str(), "digest": Digest::sha256_of(b"c").as_str(), "size": huge },
        "layers": [{ "mediaType": MediaType::OciLayerGzip.as_str(), "digest": Digest::sha256_of(b"l").as_str(), "size": huge }],
    });
    let files = vec![(
        "/v2/team/huge/manifests/v1".to_owned(),
        MediaType::OciManifest.as_str(),
        serde_json::to_vec(&manifest).unwrap().into(),
    )];
    let addr = faulty::files_server(files).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let reference = Reference::parse(&format!("{addr}/team/huge:v1")).unwrap();
    let size = client.image_size(&reference).await.unwrap();
    assert_eq!(size.total, u64::MAX);
    assert_eq!(size.platforms[0].size, u64::MAX);
}
