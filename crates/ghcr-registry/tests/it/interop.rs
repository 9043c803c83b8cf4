//! OCI layouts shared with skopeo: what we pull, skopeo reads; what skopeo
//! writes (digests preserved), we push.

use ghcr_registry::{BlobOutcome, TransferOptions};
use ghcr_types::{Digest, Manifest};

use crate::images::{multi_arch, platform_image};
use crate::support::{self, Auth, skopeo};

support::in_both_modes!(
    skopeo_inspects_the_layouts_we_pull,
    we_push_the_layouts_skopeo_writes
);

async fn skopeo_inspects_the_layouts_we_pull(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/inspect").unwrap();
    let (index, children) = multi_arch(&client, &repository, "multi").await;
    client
        .put_manifest(&repository.with_tag("single").unwrap(), &children[0])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for tag in ["multi", "single"] {
        client
            .pull_to_layout(
                &repository.with_tag(tag).unwrap(),
                dir.path(),
                &TransferOptions::new(),
            )
            .await
            .unwrap();
    }
    let place = |tag: &str| format!("oci:{}:{tag}", dir.path().display());
    let raw = skopeo(&["inspect", "--raw", &place("multi")]).await;
    assert_eq!(
        raw,
        index.bytes().as_ref(),
        "skopeo reads the index bytes we wrote"
    );
    let raw = skopeo(&["inspect", "--raw", &place("single")]).await;
    assert_eq!(raw, children[0].bytes().as_ref());
    let inspected: serde_json::Value =
        serde_json::from_slice(&skopeo(&["inspect", &place("single")]).await).unwrap();
    assert_eq!(inspected["Digest"], children[0].digest().as_str());
    assert_eq!(inspected["Architecture"], "amd64");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
}

async fn we_push_the_layouts_skopeo_writes(auth: Auth) {
    let registry = support::registry(auth).await;
    let other = support::registry(support::other_mode(auth)).await;
    let client = support::client_for(&[&registry, &other]).build().unwrap();
    let repository = registry.reference("team/origin").unwrap();
    let (index, _) = multi_arch(&client, &repository, "multi").await;
    let single = platform_image(&client, &repository, "linux/amd64", 55).await;
    client
        .put_manifest(&repository.with_tag("single").unwrap(), &single)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credentials = registry
        .credentials()
        .map(|(user, password)| format!("--src-creds={user}:{password}"));
    for (tag, all) in [("multi", true), ("single", false)] {
        let source = format!("docker://{}/team/origin:{tag}", registry.host());
        let destination = format!("oci:{}:{tag}", dir.path().display());
        let mut args = vec![
            "copy",
            "--quiet",
            "--preserve-digests",
            "--src-tls-verify=false",
        ];
        args.extend(credentials.as_deref());
        if all {
            args.push("--all");
        }
        args.extend([source.as_str(), destination.as_str()]);
        skopeo(&args).await;
    }
    // Pushed to the other registry, which has none of it yet.
    for (tag, expected) in [("multi", &index), ("single", &single)] {
        let target = other.reference(&format!("team/copied:{tag}")).unwrap();
        let report = client
            .push_layout(dir.path(), Some(tag), &target, &TransferOptions::new())
            .await
            .unwrap();
        assert_eq!(report.digest, *expected.digest(), "{tag}");
        if tag == "multi" {
            assert!(
                report
                    .blobs
                    .iter()
                    .all(|b| b.outcome == BlobOutcome::Uploaded),
                "{:?}",
                report.blobs
            );
        }
        let pushed: Manifest = client.get_manifest(&target).await.unwrap();
        assert_eq!(pushed.bytes(), expected.bytes(), "{tag}");
        for blob in &report.blobs {
            let bytes = client
                .get_blob_bytes(&target, &blob.digest, 1 << 20)
                .await
                .unwrap();
            assert_eq!(Digest::sha256_of(&bytes), blob.digest);
        }
    }
}
