//! Pulls into OCI layouts and copies by digest, pushes that mount from a
//! named repository, and failed pulls that leave a layout as it was.

use bytes::Bytes;
use ghcr_registry::{
    BlobOutcome, Error, Progress, ProgressEvent, REF_NAME, RegistryClient, SkipReason,
    TransferOptions,
};
use ghcr_types::{Digest, MediaType, Reference};
use serde_json::json;

use crate::images::multi_arch;
use crate::support::{self, Auth, data, faulty};

support::in_both_modes!(
    pulls_and_copies_by_digest,
    a_push_mounts_from_a_named_repository
);

fn layout_entries(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap()
}

async fn pulls_and_copies_by_digest(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/pinned").unwrap();
    let (index, children) = multi_arch(&client, &repository, "v1").await;

    let dir = tempfile::tempdir().unwrap();
    let pinned = repository.with_digest(index.digest().clone());
    let pulled = client
        .pull_to_layout(&pinned, dir.path(), &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, *index.digest());
    assert_eq!(pulled.blobs, 5);
    let entries = layout_entries(dir.path());
    assert_eq!(entries["manifests"][0]["digest"], index.digest().as_str());
    assert!(
        entries["manifests"][0]["annotations"][REF_NAME].is_null(),
        "a by-digest pull names no tag: {entries}"
    );
    let child = repository.with_digest(children[1].digest().clone());
    let one = tempfile::tempdir().unwrap();
    let pulled = client
        .pull_to_layout(&child, one.path(), &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, *children[1].digest());
    assert_eq!(pulled.blobs, 3);

    let mirror = registry.reference("team/mirror").unwrap();
    let copied = client
        .copy_image(&pinned, &mirror, &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(copied.digest, *index.digest());
    for manifest in std::iter::once(&index).chain(&children) {
        let there = mirror.with_digest(manifest.digest().clone());
        assert_eq!(client.get_manifest(&there).await.unwrap(), *manifest);
    }
    assert!(
        client
            .head_manifest(&mirror.with_tag("v1").unwrap())
            .await
            .unwrap()
            .is_none(),
        "a copy by digest moves no tag"
    );
}

async fn a_push_mounts_from_a_named_repository(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let base = registry.reference("team/base").unwrap();
    multi_arch(&client, &base, "v1").await;
    let dir = tempfile::tempdir().unwrap();
    client
        .pull_to_layout(
            &base.with_tag("v1").unwrap(),
            dir.path(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();

    let derived = registry.reference("team/derived:v1").unwrap();
    for (reason, outcome) in [
        (SkipReason::Mounted, BlobOutcome::Mounted),
        (SkipReason::Exists, BlobOutcome::Existed),
    ] {
        let (progress, mut events) = Progress::channel();
        let options = TransferOptions::new()
            .mount_from(base.clone())
            .progress(progress);
        let report = client
            .push_layout(dir.path(), Some("v1"), &derived, &options)
            .await
            .unwrap();
        assert_eq!(report.blobs.len(), 5);
        assert!(
            report.blobs.iter().all(|b| b.outcome == outcome),
            "{outcome:?}: {:?}",
            report.blobs
        );
        assert_eq!(report.bytes_uploaded(), 0);
        let mut skipped = 0;
        while let Ok(event) = events.try_recv() {
            match event {
                ProgressEvent::Skipped { reason: r, .. } if r == reason => skipped += 1,
                other => panic!("{outcome:?}: unexpected {other:?}"),
            }
        }
        assert_eq!(skipped, 5, "one Skipped per blob");
    }
}

/// Serves `image` (an image manifest, its config and one layer) under
/// `team/<name>:v1`; the layer's bytes are spoiled when `spoil`.
fn image_files(name: &str, layer: &Bytes, spoil: bool) -> Vec<(String, &'static str, Bytes)> {
    let config = Bytes::from(format!(
        r#"{{"architecture":"amd64","os":"linux","n":"{name}"}}"#
    ));
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "config": { "mediaType": MediaType::OciConfig.as_str(), "digest": Digest::sha256_of(&config).as_str(), "size": config.len() },
        "layers": [{ "mediaType": MediaType::OciLayerTar.as_str(), "digest": Digest::sha256_of(layer).as_str(), "size": layer.len() }],
    });
    let mut served = layer.to_vec();
    if spoil {
        served[layer.len() / 2] ^= 0xff;
    }
    let base = format!("/v2/team/{name}");
    vec![
        (
            format!("{base}/manifests/v1"),
            MediaType::OciManifest.as_str(),
            serde_json::to_vec(&manifest).unwrap().into(),
        ),
        (
            format!("{base}/blobs/{}", Digest::sha256_of(&config)),
            "application/octet-stream",
            config,
        ),
        (
            format!("{base}/blobs/{}", Digest::sha256_of(layer)),
            "application/octet-stream",
            served.into(),
        ),
    ]
}

/// A pull whose layer arrives altered fails, and the layout keeps its
/// entries as they were: no entry for the image, no file under the bad
/// layer's name, no temporary file left.
#[tokio::test]
async fn a_failed_pull_leaves_the_layout_as_it_was() {
    let good_layer = data(100_000, 1);
    let bad_layer = data(2 << 20, 2);
    let mut files = image_files("good", &good_layer, false);
    files.extend(image_files("bad", &bad_layer, true));
    let addr = faulty::files_server(files).await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let reference = |name: &str| Reference::parse(&format!("{addr}/team/{name}:v1")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    client
        .pull_to_layout(&reference("good"), dir.path(), &TransferOptions::new())
        .await
        .unwrap();
    let before = std::fs::read(dir.path().join("index.json")).unwrap();

    let error = client
        .pull_to_layout(&reference("bad"), dir.path(), &TransferOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::DigestMismatch { .. }), "{error}");
    assert_eq!(
        std::fs::read(dir.path().join("index.json")).unwrap(),
        before,
        "index.json is untouched"
    );
    let blobs = dir.path().join("blobs/sha256");
    assert!(!blobs.join(Digest::sha256_of(&bad_layer).encoded()).exists());
    let hidden: Vec<_> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}
