//! The organization the cleanup rows plan: the shape of
//! `tests/it/scale.rs` (written again: a benchmark does not import test
//! code).
//! Each package holds CI builds (a multi-arch index, two platform images
//! and a BuildKit attestation manifest) pushed under a moving `main` tag,
//! so all but the newest are untagged orphans, and one signed release every
//! [`BUILDS_PER_RELEASE`] builds (a signature and a new `sha256-<hex>`
//! referrers index each).
//!
//! [`Shape`] varies the share of kept indexes, so the manifests the plan
//! reads, at the same number of versions: `few` (only the newest `main`
//! is kept, one manifest a package), `releases` (the default above) and
//! `many` (every build tagged, so every index is kept and read).

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

/// How the builds of a package are tagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Every build under `main`, plus two untagged single images in each
    /// 50 versions: one manifest read a package.
    Few,
    /// Under `main`, with a signed release every [`BUILDS_PER_RELEASE`]
    /// builds: the shape of the headline rows.
    Releases,
    /// Every build under its own tag, plus two untagged single images in
    /// each 50 versions: every index is read.
    Many,
}

impl Shape {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match text {
            "few" => Ok(Self::Few),
            "releases" => Ok(Self::Releases),
            "many" => Ok(Self::Many),
            other => Err(format!("shape `{other}`: use few, releases or many")),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Few => "few",
            Self::Releases => "releases",
            Self::Many => "many",
        }
    }
}

/// What was seeded: versions in all, and how many of the kept versions
/// are indexes whose manifest the plan must read (each release's index and
/// referrers index, and the newest `main`).
pub(crate) struct Seeded {
    pub(crate) versions: usize,
    pub(crate) indexes_kept: usize,
}

/// Seeds [`PACKAGES`] packages of `per_package` versions (a multiple of 50:
/// 12 builds of 4 versions, and a release's 2 more or 2 untagged images).
pub(crate) fn organization(
    store: &Store,
    per_package: usize,
    shape: Shape,
) -> Result<Seeded, String> {
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
        seeded.indexes_kept += match shape {
            Shape::Releases => package(store, &repository, builds)?,
            Shape::Few | Shape::Many => plain(store, &repository, builds, shape)?,
        };
        seeded.versions += store.versions(&repository).len();
    }
    Ok(seeded)
}

/// Seeds `octo/app` (the user's) with a release `v1` and `count` untagged
/// single images, what the deletion row deletes.
pub(crate) fn leftovers(store: &Store, count: usize) -> Result<(), String> {
    let seed = |tag, layer: String| {
        store
            .push_image("octo/app", tag, &[Bytes::from(layer)])
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    seed(Some("v1"), "release".to_owned())?;
    (0..count).try_for_each(|n| seed(None, format!("leftover {n}")))
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

/// Seeds one package of `builds` builds without releases, each 12 with two
/// untagged single images; the indexes an only-untagged plan keeps.
fn plain(store: &Store, repository: &str, builds: usize, shape: Shape) -> Result<usize, String> {
    for n in 0..builds {
        if n.is_multiple_of(BUILDS_PER_RELEASE) {
            for orphan in 0..2 {
                store
                    .push_image(
                        repository,
                        None,
                        &[Bytes::from(format!("{repository} {n} orphan {orphan}"))],
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        let tag = match shape {
            Shape::Many => format!("b{n}"),
            Shape::Few | Shape::Releases => "main".to_owned(),
        };
        build(store, repository, n, &tag)?;
    }
    Ok(if shape == Shape::Many { builds } else { 1 })
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
