//! Syncing a repository between two docker-registries: every tag with its
//! digest, cosign tags and referrer indexes, unchanged tags skipped, and
//! only changed tags moved on a second run.

use ghcr_registry::{RegistryClient, SyncOptions};
use ghcr_types::{Digest, Manifest, MediaType, Reference};

use crate::images::{multi_arch, platform_image};
use crate::support::{self, Auth, skopeo};

support::in_both_modes!(sync_copies_every_tag_then_only_changes);

/// 30 tags: 8 multi-arch indexes, 20 single images, a cosign `.sig` tag
/// and an OCI referrer (kept in the `sha256-<hex>` fallback tag).
async fn seed(client: &RegistryClient, source: &Reference) -> (Digest, Digest) {
    let (index, _) = multi_arch(client, source, "multi-0").await;
    for i in 1..8 {
        client
            .put_manifest(&source.with_tag(&format!("multi-{i}")).unwrap(), &index)
            .await
            .unwrap();
    }
    single_images(client, source, 20).await;
    let referrer = sign_and_refer(client, source, &index).await;
    (index.digest().clone(), referrer)
}

/// Tags `v0`..`v{count-1}`, a linux/amd64 image each.
pub(crate) async fn single_images(client: &RegistryClient, source: &Reference, count: u64) {
    for i in 0..count {
        let image = platform_image(client, source, "linux/amd64", i).await;
        client
            .put_manifest(&source.with_tag(&format!("v{i}")).unwrap(), &image)
            .await
            .unwrap();
    }
}

/// A cosign `.sig` tag for `index` and an OCI referrer of it (in the
/// `sha256-<hex>` fallback tag where there is no referrers API); returns
/// the referrer's digest.
pub(crate) async fn sign_and_refer(
    client: &RegistryClient,
    source: &Reference,
    index: &Manifest,
) -> Digest {
    let signature = platform_image(client, source, "linux/amd64", 500).await;
    let sig_tag = format!("{}.sig", index.digest().referrers_tag());
    client
        .put_manifest(&source.with_tag(&sig_tag).unwrap(), &signature)
        .await
        .unwrap();
    let referrer = referrer_of(index);
    client
        .push_blob(
            source,
            ghcr_registry::BlobSource::bytes(&b"{}"[..]),
            &ghcr_registry::UploadOptions::new(),
        )
        .await
        .unwrap();
    client
        .put_manifest(&source.with_digest(referrer.digest().clone()), &referrer)
        .await
        .unwrap();
    referrer.digest().clone()
}

fn referrer_of(subject: &Manifest) -> Manifest {
    let bytes = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "artifactType": "application/spdx+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": Digest::sha256_of(b"{}").as_str(),
            "size": 2
        },
        "layers": [],
        "subject": {
            "mediaType": subject.media_type().as_str(),
            "digest": subject.digest().as_str(),
            "size": subject.size()
        }
    }))
    .unwrap();
    Manifest::from_bytes(bytes, Some(MediaType::OciManifest.as_str())).unwrap()
}

async fn sync_copies_every_tag_then_only_changes(auth: Auth) {
    let (from, to) = (
        support::registry(auth).await,
        support::registry(support::other_mode(auth)).await,
    );
    let client = support::client_for(&[&from, &to]).build().unwrap();
    let source = from.reference("team/src").unwrap();
    let target = to.reference("mirror/dst").unwrap();
    let (index, referrer) = seed(&client, &source).await;

    let plan = client
        .plan_sync(&source, &target, &SyncOptions::new())
        .await
        .unwrap();
    assert_eq!(plan.to_copy().count(), 30, "8 + 20 + .sig + fallback tag");
    let report = client
        .run_sync(&plan, &ghcr_registry::TransferOptions::default())
        .await;
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.copied.len(), 30);
    for entry in &plan.entries {
        let tag = entry.tag.as_str();
        let at_target = client
            .resolve_digest(&target.with_tag(tag).unwrap())
            .await
            .unwrap();
        assert_eq!(at_target, entry.digest, "{tag} keeps its digest");
    }
    if auth == Auth::Token {
        // The target runs without auth: skopeo reads it directly.
        for tag in ["multi-3", "v7"] {
            let raw = skopeo(&[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{}/mirror/dst:{tag}", to.host()),
            ])
            .await;
            let want = plan.entries.iter().find(|e| e.tag.as_str() == tag).unwrap();
            assert_eq!(Digest::sha256_of(&raw), want.digest, "skopeo sees {tag}");
        }
    }
    assert_referrer(&client, &target, &index, &referrer).await;

    let again = client
        .sync(&source, &target, &SyncOptions::new())
        .await
        .unwrap();
    assert!(again.copied.is_empty(), "nothing changed, nothing copied");
    assert_eq!(again.skipped.len(), 30);

    for (i, seed) in [(1, 700), (2, 701), (3, 702)] {
        let image = platform_image(&client, &source, "linux/amd64", seed).await;
        client
            .put_manifest(&source.with_tag(&format!("v{i}")).unwrap(), &image)
            .await
            .unwrap();
    }
    let third = client
        .sync(&source, &target, &SyncOptions::new())
        .await
        .unwrap();
    let mut moved: Vec<_> = third.copied.iter().map(|t| t.tag.to_string()).collect();
    moved.sort();
    assert_eq!(moved, ["v1", "v2", "v3"]);
    assert_eq!(third.blob_counts().0, 3, "one new layer per changed tag");
}

/// `referrer` is listed for `subject` on `repository`.
pub(crate) async fn assert_referrer(
    client: &RegistryClient,
    repository: &Reference,
    subject: &Digest,
    referrer: &Digest,
) {
    let found = client
        .referrers(&repository.with_digest(subject.clone()), None)
        .await
        .unwrap();
    assert!(
        found
            .descriptors
            .iter()
            .any(|d| d.digest().to_string() == referrer.as_str()),
        "the referrer is reachable on {repository}: {found:?}"
    );
}

/// A `TagSynced` event: tag, copied, done, total.
type Finished = (String, bool, usize, usize);

#[tokio::test]
async fn a_sync_reports_each_tag_as_it_finishes() {
    use std::sync::{Arc, Mutex};

    use ghcr_registry::{Progress, ProgressEvent, TransferOptions};

    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let source = registry.reference("team/src").unwrap();
    for (i, tag) in ["a", "b", "c"].into_iter().enumerate() {
        let image = platform_image(&client, &source, "linux/amd64", 700 + i as u64).await;
        client
            .put_manifest(&source.with_tag(tag).unwrap(), &image)
            .await
            .unwrap();
    }
    let target = registry.reference("team/dst").unwrap();
    let plan = client
        .plan_sync(&source, &target, &SyncOptions::new())
        .await
        .unwrap();
    let seen: Arc<Mutex<Vec<Finished>>> = Arc::default();
    let progress = Progress::new({
        let seen = seen.clone();
        move |event| {
            if let ProgressEvent::TagSynced {
                tag,
                copied,
                done,
                total,
            } = event
            {
                seen.lock().unwrap().push((tag, copied, done, total));
            }
        }
    });
    let report = client
        .run_sync(&plan, &TransferOptions::new().progress(progress))
        .await;
    assert!(report.is_complete());
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|(_, _, done, _)| *done);
    let dones: Vec<usize> = seen.iter().map(|(_, _, done, _)| *done).collect();
    assert_eq!(dones, [1, 2, 3]);
    assert!(
        seen.iter()
            .all(|(_, copied, _, total)| *copied && *total == 3)
    );
    let mut tags: Vec<&str> = seen.iter().map(|(tag, ..)| tag.as_str()).collect();
    tags.sort_unstable();
    assert_eq!(tags, ["a", "b", "c"]);
}

#[tokio::test]
async fn chosen_platforms_narrow_each_index_and_a_rerun_skips_them() {
    let registry = support::registry(Auth::None).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let source = registry.reference("team/multi-src").unwrap();
    let (_, children) = multi_arch(&client, &source, "multi").await;
    let single = platform_image(&client, &source, "linux/amd64", 800).await;
    client
        .put_manifest(&source.with_tag("one").unwrap(), &single)
        .await
        .unwrap();
    let target = registry.reference("team/arm-only").unwrap();
    let arm = SyncOptions::new().platforms([ghcr_types::Platform::parse("linux/arm64").unwrap()]);
    let report = client.sync(&source, &target, &arm).await.unwrap();
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.copied.len(), 2);
    let narrowed = client
        .get_manifest(&target.with_tag("multi").unwrap())
        .await
        .unwrap();
    let kept: Vec<String> = narrowed
        .children()
        .iter()
        .map(|c| c.digest().to_string())
        .collect();
    assert_eq!(kept, [children[1].digest().to_string()], "only arm64");
    assert_eq!(narrowed.platforms()[0].architecture, "arm64");
    // The child and its blobs are there; the single image keeps its digest.
    client
        .get_manifest(&target.with_digest(children[1].digest().clone()))
        .await
        .unwrap();
    let one = client
        .get_manifest(&target.with_tag("one").unwrap())
        .await
        .unwrap();
    assert_eq!(one.digest(), single.digest());

    let again = client.sync(&source, &target, &arm).await.unwrap();
    assert!(again.copied.is_empty(), "{:?}", again.copied);
    assert_eq!(again.skipped.len(), 2);

    let none = SyncOptions::new().platforms([ghcr_types::Platform::parse("linux/s390x").unwrap()]);
    let plan = client.plan_sync(&source, &target, &none).await.unwrap();
    assert_eq!(plan.unmatched.len(), 1);
    assert_eq!(plan.unmatched[0].as_str(), "multi");
    assert_eq!(plan.entries.len(), 1, "the single image stays in the plan");
}
