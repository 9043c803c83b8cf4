//! The organization the cleanup rows plan: the shape of
//! `tests/it/scale.rs` (written again: a benchmark does not import test
//! code).
//! Each package holds CI builds (a multi-arch index, two platform images
//! and a BuildKit attestation manifest) pushed under a moving `main` tag,
//! so all but the newest are untagged orphans, and one signed release every
//! [`BUILDS_PER_RELEASE`] builds (a signature and a new `sha256-<hex>`
//! referrers index each).

use bytes::Bytes;
use ghcr_sim::attest::Attachment;
use ghcr_sim::fake::{PushedImage, Store};
use ghcr_types::Digest;
use serde_json::{Value, json};

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

/// An index's descriptor of `image` for `platform` (`os/architecture`).
fn descriptor(image: &PushedImage, platform: &str) -> Value {
    let (os, architecture) = platform.split_once('/').unwrap_or(("linux", platform));
    json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": image.manifest.as_str(),
        "size": image.bytes.len(),
        "platform": {"os": os, "architecture": architecture},
    })
}

/// One CI build: two platform images, an attestation manifest for the
/// first (BuildKit's: platform `unknown/unknown` and the
/// `attestation-manifest` annotation in the index; the plan never reads
/// it, so its own body is a small image like the others), and the index
/// naming all three, tagged `tag`; the index's digest.
fn build(store: &Store, repository: &str, n: usize, tag: &str) -> Result<Digest, String> {
    let image = |what: &str| {
        store
            .push_image(
                repository,
                None,
                &[Bytes::from(format!("{repository} {n} {what}"))],
            )
            .map_err(|e| e.to_string())
    };
    let (amd, arm, provenance) = (image("amd64")?, image("arm64")?, image("provenance")?);
    let mut attestation = descriptor(&provenance, "unknown/unknown");
    attestation["annotations"] = json!({
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": amd.manifest.as_str(),
    });
    let manifests = [
        descriptor(&amd, "linux/amd64"),
        descriptor(&arm, "linux/arm64"),
        attestation,
    ];
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
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
