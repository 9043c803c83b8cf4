//! Syncing with ghcr-sim's fake ghcr.io (ghcr profile: no referrers API,
//! blobs redirected to a storage host) at one end and a docker-registry at
//! the other: BuildKit attestation children, cosign tags and fallback
//! referrer indexes keep their digests both ways; a second sync writes only
//! what changed; a sync cut by faults never leaves a tag without its blobs.

use std::collections::{BTreeMap, BTreeSet};

use ghcr_registry::{
    BlobSource, ImageParts, RegistryClient, SyncOptions, SyncReport, TransferOptions,
};
use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use ghcr_types::{Digest, Manifest, MediaType, Reference};
use http::{Method, StatusCode};

use crate::images::platform_image;
use crate::support::complete::watch_tags;
use crate::support::{self, Auth, Registry, skopeo};
use crate::sync::{assert_referrer, sign_and_refer, single_images};

const USER: &str = "octo";
const TOKEN: &str = "token-for-octo";

async fn fake() -> FakeGhcr {
    FakeGhcr::builder().user(USER, TOKEN).start().await.unwrap()
}

/// A fake that takes manifests naming blobs or children it lacks, so that
/// only the client's order keeps tags whole.
async fn lenient_fake() -> FakeGhcr {
    FakeGhcr::builder()
        .user(USER, TOKEN)
        .accept_dangling_manifests()
        .start()
        .await
        .unwrap()
}

fn on_fake(fake: &FakeGhcr, repository: &str) -> Reference {
    Reference::parse(&format!("{}/{repository}", fake.registry_host())).unwrap()
}

/// One client for both ends: the fake's credentials, which the
/// docker-registry (without auth) never asks for.
fn client(fake: &FakeGhcr, registry: &Registry) -> RegistryClient {
    let hosts = [fake.registry_host(), registry.host()];
    RegistryClient::builder(support::transport(&hosts, Some((USER, TOKEN))))
        .build()
        .unwrap()
}

/// An index as BuildKit pushes it: linux/amd64 and linux/arm64, and an
/// attestation manifest (platform unknown/unknown) for the amd64 child.
async fn attested_index(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
    seed: u64,
) -> Manifest {
    let amd64 = platform_image(client, repository, "linux/amd64", seed).await;
    let arm64 = platform_image(client, repository, "linux/arm64", seed + 1).await;
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{ "name": tag, "digest": { "sha256": amd64.digest().encoded() } }],
        "predicate": {}
    });
    let in_toto: MediaType = "application/vnd.in-toto+json".parse().unwrap();
    let config = br#"{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let attestation = client
        .push_image(
            repository,
            ImageParts::new(&config[..]).layer(
                in_toto,
                BlobSource::bytes(serde_json::to_vec(&statement).unwrap()),
            ),
            &TransferOptions::new(),
        )
        .await
        .unwrap()
        .manifest;
    let entry = |child: &Manifest, os: &str, architecture: &str| {
        serde_json::json!({
            "mediaType": child.media_type().as_str(),
            "digest": child.digest().as_str(),
            "size": child.size(),
            "platform": { "os": os, "architecture": architecture },
        })
    };
    let mut reference = entry(&attestation, "unknown", "unknown");
    reference["annotations"] = serde_json::json!({
        "vnd.docker.reference.digest": amd64.digest().as_str(),
        "vnd.docker.reference.type": "attestation-manifest",
    });
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciIndex.as_str(),
        "manifests": [entry(&amd64, "linux", "amd64"), entry(&arm64, "linux", "arm64"), reference],
    });
    let index = Manifest::from_bytes(serde_json::to_vec(&index).unwrap(), None).unwrap();
    client
        .put_manifest(&repository.with_tag(tag).unwrap(), &index)
        .await
        .unwrap();
    index
}

/// 9 tags: two attested indexes (one also as `latest`), four single
/// images, a cosign `.sig` tag and an OCI referrer of `multi-a` (in the
/// `sha256-<hex>` fallback tag where there is no referrers API). Returns
/// `multi-a`'s digest and the referrer's.
async fn seed(client: &RegistryClient, source: &Reference) -> (Digest, Digest) {
    let index = attested_index(client, source, "multi-a", 100).await;
    attested_index(client, source, "multi-b", 200).await;
    client
        .put_manifest(&source.with_tag("latest").unwrap(), &index)
        .await
        .unwrap();
    single_images(client, source, 4).await;
    let referrer = sign_and_refer(client, source, &index).await;
    (index.digest().clone(), referrer)
}

/// New content for `v1`, `v2` and `multi-b`: 2 + 4 manifests, 5 new blobs
/// (a layer each for the images and both platforms, and the attestation's
/// statement). Returns the new `v2` and `multi-b`.
async fn change_three(client: &RegistryClient, source: &Reference) -> (Manifest, Manifest) {
    let mut images = Vec::new();
    for (tag, seed) in [("v1", 700), ("v2", 701)] {
        let image = platform_image(client, source, "linux/amd64", seed).await;
        client
            .put_manifest(&source.with_tag(tag).unwrap(), &image)
            .await
            .unwrap();
        images.push(image);
    }
    let index = attested_index(client, source, "multi-b", 800).await;
    (images.swap_remove(1), index)
}
const CHANGED: [&str; 3] = ["multi-b", "v1", "v2"];
const CHANGED_MANIFESTS: usize = 2 + 4;
const CHANGED_BLOBS: usize = 5;

/// Every tag of `repository` with its digest.
async fn digests(client: &RegistryClient, repository: &Reference) -> BTreeMap<String, Digest> {
    let mut map = BTreeMap::new();
    for tag in client.list_tags(repository).await.unwrap() {
        let digest = client
            .resolve_digest(&repository.with_tag(tag.as_str()).unwrap())
            .await
            .unwrap();
        map.insert(tag.to_string(), digest);
    }
    map
}

/// What skopeo reads for each tag of `tags`: the sha256 of the raw bytes.
async fn skopeo_digests(
    host: &str,
    repository: &str,
    tags: &BTreeMap<String, Digest>,
    creds: Option<&str>,
) -> BTreeMap<String, Digest> {
    let mut map = BTreeMap::new();
    for tag in tags.keys() {
        let mut args = vec!["inspect", "--raw", "--tls-verify=false"];
        args.extend(creds);
        let place = format!("docker://{host}/{repository}:{tag}");
        args.push(&place);
        map.insert(tag.clone(), Digest::sha256_of(&skopeo(&args).await));
    }
    map
}

/// The digests `reference` names: its manifest, every child manifest
/// and every blob of them, each found on its repository (a missing one
/// fails the test).
async fn walk(client: &RegistryClient, reference: &Reference) -> BTreeSet<String> {
    let repository = reference.without_tag_or_digest();
    let mut seen = BTreeSet::new();
    let mut pending = vec![client.get_manifest(reference).await.unwrap()];
    while let Some(manifest) = pending.pop() {
        seen.insert(manifest.digest().to_string());
        for child in manifest.children() {
            let digest = Digest::try_from(child.digest()).unwrap();
            let found = client.get_manifest(&repository.with_digest(digest)).await;
            pending.push(found.unwrap_or_else(|e| panic!("{reference}: child missing: {e}")));
        }
        for blob in manifest.config().into_iter().chain(manifest.layers()) {
            let digest = Digest::try_from(blob.digest()).unwrap();
            let size = client.blob_exists(&repository, &digest).await.unwrap();
            assert!(size.is_some(), "{reference}: blob {digest} is missing");
            seen.insert(digest.to_string());
        }
    }
    seen
}

/// Every tag's manifest, each child manifest and every blob they name are
/// on `repository`.
async fn assert_complete(client: &RegistryClient, repository: &Reference) {
    for tag in client.list_tags(repository).await.unwrap() {
        walk(client, &repository.with_tag(tag.as_str()).unwrap()).await;
    }
}

/// The tags a sync copied, sorted.
fn copied(report: &SyncReport) -> Vec<String> {
    let mut tags: Vec<_> = report.copied.iter().map(|t| t.tag.to_string()).collect();
    tags.sort();
    tags
}

/// Syncs every tag of `from` to `to`, which must succeed whole; returns
/// the tags copied, sorted.
async fn sync_whole(client: &RegistryClient, from: &Reference, to: &Reference) -> Vec<String> {
    let report = client.sync(from, to, &SyncOptions::new()).await.unwrap();
    assert!(report.is_complete(), "{to}: {:?}", report.failed);
    copied(&report)
}

#[tokio::test]
async fn ghcr_to_docker_registry_and_back_keeps_every_digest() {
    let (fake, registry) = (fake().await, support::registry(Auth::None).await);
    let client = client(&fake, &registry);
    let source = on_fake(&fake, "octo/src");
    let (index, referrer) = seed(&client, &source).await;
    let want = digests(&client, &source).await;
    assert_eq!(want.len(), 9, "{want:?}");
    assert!(
        want.contains_key(&index.referrers_tag()),
        "the fake keeps the referrer in the fallback tag"
    );
    let creds = format!("--creds={USER}:{TOKEN}");
    let fake_host = fake.registry_host().to_owned();

    let mirror = registry.reference("mirror/app").unwrap();
    let back = on_fake(&fake, "octo/back");
    for (from, to, host, path, creds) in [
        (&source, &mirror, registry.host(), "mirror/app", None),
        (
            &mirror,
            &back,
            &fake_host[..],
            "octo/back",
            Some(&creds[..]),
        ),
    ] {
        assert_eq!(sync_whole(&client, from, to).await.len(), 9, "{to}");
        assert_eq!(digests(&client, to).await, want, "{to}: tags and digests");
        let seen = skopeo_digests(host, path, &want, creds).await;
        assert_eq!(seen, want, "skopeo reads {to} with the source's digests");
        assert_complete(&client, to).await;
        assert_referrer(&client, to, &index, &referrer).await;
    }
}

/// A docker-registry's `team/src`, seeded and synced whole to the fake's
/// `octo/dst` (the registry runs while its handle lives).
async fn synced_to(fake: FakeGhcr) -> (FakeGhcr, Registry, RegistryClient, Reference, Reference) {
    let registry = support::registry(Auth::None).await;
    let client = client(&fake, &registry);
    let source = registry.reference("team/src").unwrap();
    let target = on_fake(&fake, "octo/dst");
    seed(&client, &source).await;
    sync_whole(&client, &source, &target).await;
    (fake, registry, client, source, target)
}

#[tokio::test]
async fn a_second_sync_to_ghcr_heads_unchanged_tags_and_writes_only_changes() {
    let (fake, _registry, client, source, target) = synced_to(fake().await).await;
    change_three(&client, &source).await;
    let tags = digests(&client, &source).await;
    let mut changed = BTreeSet::new();
    for tag in CHANGED {
        changed.extend(walk(&client, &source.with_tag(tag).unwrap()).await);
    }

    fake.log().clear();
    assert_eq!(sync_whole(&client, &source, &target).await, CHANGED);

    let log = fake.log().entries();
    let manifests = |tag: &str| -> Vec<Method> {
        let suffix = format!("/v2/octo/dst/manifests/{tag}");
        log.iter()
            .filter(|e| e.path == suffix)
            .map(|e| e.method.clone())
            .collect()
    };
    for tag in tags.keys().filter(|t| !CHANGED.contains(&t.as_str())) {
        assert_eq!(manifests(tag), [Method::HEAD], "{tag}: one HEAD, no write");
    }
    for tag in CHANGED {
        assert_eq!(manifests(tag), [Method::HEAD, Method::PUT], "{tag}");
    }
    let puts = fake
        .log()
        .count(&Route::new(Method::PUT, "/v2/octo/dst/manifests/*"));
    assert_eq!(
        puts, CHANGED_MANIFESTS,
        "children and index of multi-b, v1, v2"
    );
    let uploads = fake
        .log()
        .count(&Route::new(Method::POST, "/v2/octo/dst/blobs/uploads/*"));
    assert_eq!(uploads, CHANGED_BLOBS, "only the new blobs were uploaded");
    let elsewhere: Vec<_> = log
        .iter()
        .filter(|e| e.path.contains("/sha256:"))
        .filter(|e| !changed.iter().any(|d| e.path.ends_with(&format!("/{d}"))))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "only changed tags' content is touched: {elsewhere:?}"
    );
    assert_eq!(digests(&client, &target).await, tags);
}

#[tokio::test]
async fn a_cut_sync_leaves_no_tag_without_its_blobs_and_a_rerun_finishes() {
    let (fake, _registry, client, source, target) = synced_to(lenient_fake().await).await;
    let old = digests(&client, &target).await;
    let (v2, multi_b) = change_three(&client, &source).await;
    let new = digests(&client, &source).await;

    // Faults by digest, so that they hit whatever order the source lists
    // its tags in: multi-b's blobs go in but its amd64 child is refused (so
    // the index is never put); v2 stops at its new layer's HEAD.
    let server_error = StatusCode::INTERNAL_SERVER_ERROR;
    let child = multi_b.children()[0].digest().to_string();
    fake.faults().add(Fault::fail(
        Route::new(Method::PUT, &format!("/v2/octo/dst/manifests/{child}")),
        server_error,
    ));
    let layer = v2.layers()[0].digest().to_string();
    fake.faults().add(Fault::fail(
        Route::new(Method::HEAD, &format!("/v2/octo/dst/blobs/{layer}")),
        server_error,
    ));
    // From here on, every request the fake handles is followed by a check
    // of every tag on the target, straight from its store.
    let watched = watch_tags(&fake, "octo/dst");
    fake.log().clear();
    let cut = client
        .sync(&source, &target, &SyncOptions::new())
        .await
        .unwrap();
    let mut failed: Vec<_> = cut.failed.iter().map(|(t, _)| t.to_string()).collect();
    failed.sort();
    assert_eq!(failed, ["multi-b", "v2"], "{:?}", cut.failed);
    assert_eq!(copied(&cut), ["v1"]);
    let after_cut = digests(&client, &target).await;
    for (tag, digest) in &after_cut {
        let want = if tag == "v1" { &new[tag] } else { &old[tag] };
        assert_eq!(digest, want, "{tag}");
    }
    assert_complete(&client, &target).await;

    fake.faults().clear();
    let rerun = sync_whole(&client, &source, &target).await;
    assert_eq!(rerun, ["multi-b", "v2"]);
    assert_eq!(digests(&client, &target).await, new);
    assert_complete(&client, &target).await;
    assert!(watched.checks() > 20, "checked after {}", watched.checks());
    assert_eq!(
        watched.checks(),
        fake.log().len(),
        "a check after every request"
    );
    assert_eq!(watched.breaches(), Vec::<String>::new());
}

#[tokio::test]
async fn the_per_request_check_sees_a_tag_put_before_its_layer() {
    // The check can fail: on a fake that takes dangling manifests, a client
    // that tags a manifest before pushing its layer is caught right after
    // the manifest's PUT, and the tag is whole again once the layer is in.
    let fake = lenient_fake().await;
    let watched = watch_tags(&fake, "octo/dst");
    let client = RegistryClient::new(support::transport(
        &[fake.registry_host()],
        Some((USER, TOKEN)),
    ));
    let target = on_fake(&fake, "octo/dst");
    let config = support::push_bytes(&client, &target, &bytes::Bytes::from_static(b"{}")).await;
    let layer = bytes::Bytes::from_static(b"the layer, pushed too late");
    let layer_digest = Digest::sha256_of(&layer);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "config": {"mediaType": MediaType::OciConfig.as_str(), "digest": config, "size": 2},
        "layers": [{
            "mediaType": MediaType::OciLayerTar.as_str(),
            "digest": layer_digest,
            "size": layer.len(),
        }],
    });
    let manifest = Manifest::from_bytes(
        serde_json::to_vec(&manifest).unwrap(),
        Some(MediaType::OciManifest.as_str()),
    )
    .unwrap();
    client
        .put_manifest(&target.with_tag("v1").unwrap(), &manifest)
        .await
        .unwrap();
    support::push_bytes(&client, &target, &layer).await;
    let breaches = watched.breaches();
    assert!(!breaches.is_empty(), "the early tag is seen");
    let first = &breaches[0];
    assert!(
        first.starts_with("after PUT /v2/octo/dst/manifests/v1"),
        "{first}"
    );
    assert!(first.contains(&format!("blob {layer_digest}")), "{first}");
    assert_eq!(
        support::complete::incomplete_tags(&fake.store(), "octo/dst"),
        Vec::<String>::new(),
        "whole once the layer is in"
    );
}
