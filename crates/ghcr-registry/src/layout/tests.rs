//! Layouts written, read back, and refused when tampered with.

use super::*;

fn image_manifest(config: &Digest) -> Manifest {
    let bytes = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{config}"}},"layers":[]}}"#
    );
    Manifest::from_bytes(bytes.into_bytes(), None).unwrap()
}

#[tokio::test]
async fn entries_are_named_replaced_and_selected() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).await.unwrap();
    layout.mark().await.unwrap();
    let config = Digest::sha256_of(b"{}");
    layout
        .write_blob(&config, Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let manifest = image_manifest(&config);
    layout
        .write_blob(manifest.digest(), manifest.bytes().clone())
        .await
        .unwrap();
    layout
        .add_entry(&manifest.descriptor(), Some("v1"))
        .await
        .unwrap();
    layout
        .add_entry(&manifest.descriptor(), Some("v1"))
        .await
        .unwrap();
    layout
        .add_entry(&manifest.descriptor(), Some("v2"))
        .await
        .unwrap();
    assert_eq!(layout.entries().await.unwrap().len(), 2);

    let reopened = Layout::open(dir.path()).await.unwrap();
    let chosen = reopened.select(Some("v2")).await.unwrap();
    assert_eq!(reopened.read_manifest(&chosen).await.unwrap(), manifest);
    let error = reopened.select(None).await.unwrap_err().to_string();
    assert!(error.contains("v1, v2"), "{error}");
    let error = reopened.select(Some("v3")).await.unwrap_err().to_string();
    assert!(error.contains("`v3`"), "{error}");
    assert!(reopened.has_blob(&config, 2).await.unwrap());
    assert!(!reopened.has_blob(&config, 3).await.unwrap());

    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("blobs/sha256"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[tokio::test]
async fn tampered_blobs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).await.unwrap();
    layout.mark().await.unwrap();
    let manifest = image_manifest(&Digest::sha256_of(b"{}"));
    // Same size, valid JSON, other bytes.
    let tampered = image_manifest(&Digest::sha256_of(b"[]"));
    assert_eq!(tampered.size(), manifest.size());
    layout
        .write_blob(manifest.digest(), tampered.bytes().clone())
        .await
        .unwrap();
    let error = layout
        .read_manifest(&manifest.descriptor())
        .await
        .unwrap_err();
    assert!(error.is_digest_mismatch(), "{error}");
    assert!(
        !layout
            .has_blob(manifest.digest(), manifest.size())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn folders_without_the_marker_are_not_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let error = Layout::open(dir.path()).await.unwrap_err().to_string();
    assert!(error.contains("not an OCI image layout"), "{error}");
    std::fs::write(
        dir.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"2.0.0"}"#,
    )
    .unwrap();
    let error = Layout::open(dir.path()).await.unwrap_err().to_string();
    assert!(error.contains("1.0.0"), "{error}");
}

/// Pulls into one layout at the same time: each adds its entry under the
/// lock, reading what the others wrote, so none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_entries_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path()).await.unwrap();
    layout.mark().await.unwrap();
    let manifest = image_manifest(&Digest::sha256_of(b"{}"));
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (layout, descriptor) = (layout.clone(), manifest.descriptor());
            tokio::spawn(async move { layout.add_entry(&descriptor, Some(&format!("t{i}"))).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(layout.entries().await.unwrap().len(), 32);
    // No partial file and no lock file stays behind.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["blobs", "index.json", "oci-layout"]);
}
