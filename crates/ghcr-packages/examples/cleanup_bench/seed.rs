//! The organization the cleanup rows plan: the shape of
//! `tests/it/scale.rs` (copied, a benchmark does not import test code).
//! Each package holds CI builds (a multi-arch index, two platform images
//! and a BuildKit attestation manifest) pushed under a moving `main` tag,
//! so all but the newest are untagged orphans, and one signed release every
//! [`BUILDS_PER_RELEASE`] builds (a signature and a new `sha256-<hex>`
//! referrers index each).

use bytes::Bytes;
use ghcr_sim::attest::Attachment;
use ghcr_sim::fake::Store;
use ghcr_types::Digest;
use serde_json::json;

/// The organization, and the user who administers it.
pub(crate) const ORG: &str = "octo-org";
pub(crate) const USER: &str = "octo";
pub(crate) const TOKEN: &str = "token-octo";
/// Packages in every scenario.
pub(crate) const PACKAGES: usize = 200;
/// A release (tagged `vN`, signed) every this many builds.
const BUILDS_PER_RELEASE: usize = 12;

/// What was seeded: versions in all, and how many of the kept versions
/// are indexes whose manifest the plan must read (each release's index and
/// referrers index, and the newest `main`).
pub(crate) struct Seeded {
    pub(crate) versions: usize,
    pub(crate) indexes_kept: usize,
}

/// Seeds [`PACKAGES`] packages of `per_package` versions (a multiple of 50:
/// 12 builds of 4 versions and a release's 2 more).
pub(crate) fn organization(store: &Store, per_package: usize) -> Result<Seeded, String> {
    if per_package == 0 || !per_package.is_multiple_of(50) {
        return Err(format!(
            "{per_package} versions a package: use a multiple of 50"
        ));
    }
    let builds = per_package / 50 * BUILDS_PER_RELEASE;
    let mut seeded = Seeded {
        versions: 0,
        indexes_kept: 0,
    };
    for p in 0..PACKAGES {
        let repository = format!("{ORG}/svc-{p:03}");
        seeded.indexes_kept += package(store, &repository, builds)?;
        seeded.versions += store.versions(&repository).len();
    }
    Ok(seeded)
}

/// Seeds one package of `builds` builds; the indexes an only-untagged plan keeps.
fn package(store: &Store, repository: &str, builds: usize) -> Result<usize, String> {
    let mut indexes_kept = 1; // the newest `main`
    for n in 0..builds {
        if n.is_multiple_of(BUILDS_PER_RELEASE) {
            let index = build(
                store,
                repository,
                n,
                &format!("v{}", n / BUILDS_PER_RELEASE + 1),
            )?;
            store
                .attach(repository, &index, &Attachment::Signature)
                .map_err(|e| e.to_string())?;
            indexes_kept += 2;
        } else {
            build(store, repository, n, "main")?;
        }
    }
    Ok(indexes_kept)
}

/// Pushes an image manifest of one small layer; its digest and size.
fn image(
    store: &Store,
    repository: &str,
    layer: String,
    layer_type: &str,
    platform: (&str, &str),
) -> Result<(Digest, usize), String> {
    let layer = Bytes::from(layer);
    let layer_size = layer.len();
    let layer_digest = store
        .push_blob(repository, layer)
        .map_err(|e| e.to_string())?;
    let config = Bytes::from(json!({"architecture": platform.1, "os": platform.0}).to_string());
    let config_size = config.len();
    let config_digest = store
        .push_blob(repository, config)
        .map_err(|e| e.to_string())?;
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
        .map_err(|e| e.to_string())?;
    Ok((digest, size))
}

/// One CI build: two platform images, an attestation manifest for the
/// first, and the index naming all three, tagged `tag`; the index's digest.
fn build(store: &Store, repository: &str, n: usize, tag: &str) -> Result<Digest, String> {
    let layer = "application/vnd.oci.image.layer.v1.tar";
    let amd = image(
        store,
        repository,
        format!("{repository} {n} amd64"),
        layer,
        ("linux", "amd64"),
    )?;
    let arm = image(
        store,
        repository,
        format!("{repository} {n} arm64"),
        layer,
        ("linux", "arm64"),
    )?;
    let attestation = image(
        store,
        repository,
        format!("{repository} {n} provenance"),
        "application/vnd.in-toto+json",
        ("unknown", "unknown"),
    )?;
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
    store
        .push_manifest(
            repository,
            tag,
            Bytes::from(index.to_string()),
            "application/vnd.oci.image.index.v1+json",
        )
        .map_err(|e| e.to_string())
}
