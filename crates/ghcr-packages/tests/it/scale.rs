//! An organization at scale: 200 packages, 100,000 versions, planned in
//! one `plan_selected` over `*`. Each package holds CI builds (multi-arch
//! indexes with a BuildKit attestation manifest) pushed under a moving
//! `main` tag, so all but the newest are untagged orphans, and signed
//! releases with their `sha256-<hex>` referrer tags (whose rewritten
//! copies are orphans too). The plan is checked against an independent
//! computation from what was seeded, and the request log shows each page of
//! versions read once and only manifests the plan needs, each once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use ghcr_packages::{PackageSelection, RetentionPolicy};
use ghcr_sim::attest::Attachment;
use ghcr_sim::fake::Store;
use ghcr_types::{Digest, Owner};
use http::Method;
use serde_json::json;

use crate::support::{self, ORG};

const PACKAGES: usize = 200;
/// Per package: builds of four versions each (index, two platforms, attestation) ...
const BUILDS: usize = 120;
/// ... of which these are releases, signed (a signature and a new copy of
/// the referrers index each): 120 x 4 + 10 x 2 = 500 versions a package.
const RELEASES: usize = 10;

/// Pushes an image manifest of one small layer; its digest and size.
fn image(
    store: &Store,
    repository: &str,
    layer: String,
    layer_type: &str,
    platform: (&str, &str),
) -> (Digest, usize) {
    let layer = Bytes::from(layer);
    let layer_size = layer.len();
    let layer_digest = store.push_blob(repository, layer).unwrap();
    let config = Bytes::from(json!({"architecture": platform.1, "os": platform.0}).to_string());
    let config_size = config.len();
    let config_digest = store.push_blob(repository, config).unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config_size},
        "layers": [{"mediaType": layer_type, "digest": layer_digest.as_str(), "size": layer_size}],
    });
    let bytes = Bytes::from(manifest.to_string());
    let size = bytes.len();
    let digest = Digest::sha256_of(&bytes);
    store
        .push_manifest(
            repository,
            digest.as_str(),
            bytes,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    (digest, size)
}

/// One CI build: two platform images, an attestation manifest for the
/// first, and the index naming all three (tagged `tag`). Every digest.
fn build(store: &Store, repository: &str, n: usize, tag: &str) -> (Digest, Vec<Digest>) {
    let amd = image(
        store,
        repository,
        format!("{repository} {n} amd64"),
        "application/vnd.oci.image.layer.v1.tar",
        ("linux", "amd64"),
    );
    let arm = image(
        store,
        repository,
        format!("{repository} {n} arm64"),
        "application/vnd.oci.image.layer.v1.tar",
        ("linux", "arm64"),
    );
    let attestation = image(
        store,
        repository,
        format!("{repository} {n} provenance"),
        "application/vnd.in-toto+json",
        ("unknown", "unknown"),
    );
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd.0.as_str(), "size": amd.1, "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm.0.as_str(), "size": arm.1, "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": attestation.0.as_str(), "size": attestation.1,
             "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd.0.as_str()}},
        ],
    });
    let digest = store
        .push_manifest(
            repository,
            tag,
            Bytes::from(index.to_string()),
            "application/vnd.oci.image.index.v1+json",
        )
        .unwrap();
    (digest, vec![amd.0, arm.0, attestation.0])
}

/// Seeds one package; returns what an only-untagged cleanup must keep.
fn seed_package(store: &Store, repository: &str) -> BTreeSet<Digest> {
    let mut kept = BTreeSet::new();
    let mut latest_main = None;
    for n in 0..BUILDS {
        let release = n % (BUILDS / RELEASES) == 0;
        let tag = if release {
            format!("v{}", n / (BUILDS / RELEASES) + 1)
        } else {
            "main".to_owned()
        };
        let (index, children) = build(store, repository, n, &tag);
        if release {
            kept.insert(index.clone());
            kept.extend(children);
            let signature = store
                .attach(repository, &index, &Attachment::Signature)
                .unwrap();
            kept.insert(signature.manifest);
            let (referrers, _) = store.manifest(repository, &index.referrers_tag()).unwrap();
            kept.insert(Digest::sha256_of(&referrers));
        } else {
            latest_main = Some((index, children));
        }
    }
    let (index, children) = latest_main.unwrap();
    kept.insert(index);
    kept.extend(children);
    kept
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_versions_plan_once_each() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let mut expected_kept: BTreeMap<String, BTreeSet<Digest>> = BTreeMap::new();
    let mut versions = 0;
    for p in 0..PACKAGES {
        let package = format!("svc-{p:03}");
        let repository = format!("{ORG}/{package}");
        expected_kept.insert(package, seed_package(&store, &repository));
        versions += store.versions(&repository).len();
    }
    assert_eq!(versions, PACKAGES * 500, "the scenario's size");
    env.fake.log().clear();

    let owner = Owner::org(ORG);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plans = env
        .client
        .plan_selected(&owner, &PackageSelection::all(), &policy)
        .await
        .unwrap();
    assert_eq!(plans.len(), PACKAGES);

    let mut kept_everywhere = BTreeSet::new();
    for (package, plan) in plans {
        let plan = plan.unwrap_or_else(|error| panic!("{package}: {error}"));
        let kept: BTreeSet<Digest> = plan
            .to_keep()
            .map(|e| e.version.digest().unwrap())
            .collect();
        let deleted: BTreeSet<Digest> = plan
            .to_delete()
            .map(|e| e.version.digest().unwrap())
            .collect();
        let expected = &expected_kept[&package];
        assert_eq!(&kept, expected, "{package}: kept");
        let all: BTreeSet<Digest> = store
            .versions(&format!("{ORG}/{package}"))
            .into_iter()
            .map(|v| v.digest)
            .collect();
        assert_eq!(deleted, &all - expected, "{package}: deleted");
        kept_everywhere.extend(kept);
    }

    // Each page of each package's versions once; manifests only of kept
    // versions (the indexes and referrer indexes the plan follows), once each.
    let mut pages: HashMap<String, usize> = HashMap::new();
    let mut manifests: HashMap<String, usize> = HashMap::new();
    for entry in env.fake.log().entries() {
        if entry.method != Method::GET || entry.status != http::StatusCode::OK {
            continue;
        }
        if entry.path.contains("/versions") {
            *pages
                .entry(format!(
                    "{}?{}",
                    entry.path,
                    entry.query.clone().unwrap_or_default()
                ))
                .or_default() += 1;
        } else if let Some((_, reference)) = entry.path.split_once("/manifests/") {
            *manifests.entry(entry.path.clone()).or_default() += 1;
            if let Ok(digest) = reference.parse::<Digest>() {
                assert!(
                    kept_everywhere.contains(&digest),
                    "read a manifest the plan deletes: {}",
                    entry.path
                );
            }
        }
    }
    assert_eq!(pages.len(), PACKAGES * 5, "five pages of 100 a package");
    assert!(pages.values().all(|n| *n == 1), "a page read twice");
    assert!(manifests.values().all(|n| *n == 1), "a manifest read twice");
    assert!(
        manifests.len() <= PACKAGES * (2 * RELEASES + 1),
        "{} manifests read",
        manifests.len()
    );
}
