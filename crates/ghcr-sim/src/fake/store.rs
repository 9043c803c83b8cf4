//! `Store`: seed the fake and inspect it directly, without HTTP.

use std::sync::Arc;

use bytes::Bytes;
use ghcr_types::{Digest, PackageId, PackageVersionId, Visibility};
use time::OffsetDateTime;

use super::accounts::Permission;
use super::server::Shared;
use super::state::{RegistryError, check_name};
use crate::error::{Error, Result};

/// A version as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredVersion {
    /// The Packages API id.
    pub id: PackageVersionId,
    /// The manifest digest (the version's `name`).
    pub digest: Digest,
    /// The tags pointing at it now.
    pub tags: Vec<String>,
    /// When it was pushed.
    pub created_at: OffsetDateTime,
    /// When it was deleted, if it was.
    pub deleted_at: Option<OffsetDateTime>,
    /// How often its manifest was pulled.
    pub downloads: u64,
}

/// What [`Store::push_image`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedImage {
    /// The image manifest.
    pub manifest: Digest,
    /// Its exact bytes.
    pub bytes: Bytes,
    /// The config blob.
    pub config: Digest,
    /// The layer blobs, in order.
    pub layers: Vec<Digest>,
}

/// What [`Store::push_index`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedIndex {
    /// The index.
    pub index: Digest,
    /// Each platform (`linux/amd64`) with its image.
    pub children: Vec<(String, PushedImage)>,
}

/// Direct access to the fake's content and packages: seed a scenario, then
/// check what a client did. Clones share the fake.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ghcr_sim::fake::FakeGhcr;
///
/// let fake = FakeGhcr::builder().user("octo", "token-o").start().await?;
/// let store = fake.store();
/// let image = store.push_image("octo/app", Some("v1"), &[bytes::Bytes::from_static(b"layer")])?;
/// assert_eq!(store.tags("octo/app"), ["v1"]);
/// let versions = store.versions("octo/app");
/// assert_eq!(versions[0].digest, image.manifest);
/// store.set_downloads("octo/app", versions[0].id, 6000)?;
/// # Ok::<(), ghcr_sim::Error>(())
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) shared: Arc<Shared>,
}

fn seed_error(what: &str, error: &RegistryError) -> Error {
    Error::InvalidSeed {
        what: what.to_owned(),
        reason: error.message.clone(),
        source: None,
    }
}

impl Store {
    /// Stores a blob in `repository` (`owner/name`, created as a private package).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSeed`] for an invalid repository name.
    pub fn push_blob(&self, repository: &str, bytes: impl Into<Bytes>) -> Result<Digest> {
        check_name(repository).map_err(|e| seed_error(repository, &e))?;
        let now = self.shared.clock.now();
        Ok(self.shared.state().put_blob(repository, bytes.into(), now))
    }

    /// Stores a manifest under a tag or its digest, as a push would.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSeed`] when the manifest is invalid, does not match a
    /// digest reference, or references content the repository lacks.
    pub fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        bytes: impl Into<Bytes>,
        media_type: &str,
    ) -> Result<Digest> {
        check_name(repository).map_err(|e| seed_error(repository, &e))?;
        let now = self.shared.clock.now();
        self.shared
            .state()
            .put_manifest(repository, reference, bytes.into(), Some(media_type), now)
            .map(|(digest, _)| digest)
            .map_err(|e| seed_error(&format!("{repository}:{reference}"), &e))
    }

    /// Pushes a small OCI image: a config and `layers`, tagged when `tag` is given.
    ///
    /// # Errors
    ///
    /// As [`Store::push_manifest`].
    pub fn push_image(
        &self,
        repository: &str,
        tag: Option<&str>,
        layers: &[Bytes],
    ) -> Result<PushedImage> {
        self.push_platform_image(repository, tag, layers, "linux/amd64")
    }

    fn push_platform_image(
        &self,
        repository: &str,
        tag: Option<&str>,
        layers: &[Bytes],
        platform: &str,
    ) -> Result<PushedImage> {
        let (os, architecture) = platform.split_once('/').unwrap_or(("linux", platform));
        let mut layer_digests = Vec::new();
        for layer in layers {
            layer_digests.push(self.push_blob(repository, layer.clone())?);
        }
        let config = serde_json::json!({
            "architecture": architecture,
            "os": os,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": layer_digests.iter().map(Digest::as_str).collect::<Vec<_>>()},
        });
        let config = Bytes::from(config.to_string());
        let config_size = config.len();
        let config_digest = self.push_blob(repository, config)?;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest.as_str(),
                "size": config_size,
            },
            "layers": layers.iter().zip(&layer_digests).map(|(bytes, digest)| serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest.as_str(),
                "size": bytes.len(),
            })).collect::<Vec<_>>(),
        });
        let bytes = Bytes::from(manifest.to_string());
        let digest = Digest::sha256_of(&bytes);
        let reference = tag.map_or_else(|| digest.to_string(), str::to_owned);
        self.push_manifest(
            repository,
            &reference,
            bytes.clone(),
            "application/vnd.oci.image.manifest.v1+json",
        )?;
        Ok(PushedImage {
            manifest: digest,
            bytes,
            config: config_digest,
            layers: layer_digests,
        })
    }

    /// Pushes a multi-platform image: one small image per platform
    /// (`linux/amd64`, `linux/arm64`), untagged, and an index tagged `tag`.
    ///
    /// # Errors
    ///
    /// As [`Store::push_manifest`].
    pub fn push_index(
        &self,
        repository: &str,
        tag: &str,
        platforms: &[&str],
    ) -> Result<PushedIndex> {
        let mut children = Vec::new();
        let mut descriptors = Vec::new();
        for platform in platforms {
            let layer = Bytes::from(format!("{repository}:{tag} layer for {platform}"));
            let image = self.push_platform_image(repository, None, &[layer], platform)?;
            let (os, architecture) = platform.split_once('/').unwrap_or(("linux", platform));
            descriptors.push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": image.manifest.as_str(),
                "size": image.bytes.len(),
                "platform": {"architecture": architecture, "os": os},
            }));
            children.push(((*platform).to_owned(), image));
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": descriptors,
        });
        let index = self.push_manifest(
            repository,
            tag,
            Bytes::from(index.to_string()),
            "application/vnd.oci.image.index.v1+json",
        )?;
        Ok(PushedIndex { index, children })
    }

    /// Points `tag` at a manifest already in the repository.
    ///
    /// # Errors
    ///
    /// [`Error::NotInStore`] when the repository lacks the manifest.
    pub fn tag(&self, repository: &str, tag: &str, digest: &Digest) -> Result<()> {
        let manifest = self
            .manifest(repository, digest.as_str())
            .ok_or_else(|| Error::not_in_store(format!("manifest {digest} in {repository}")))?;
        self.push_manifest(repository, tag, manifest.0, &manifest.1)
            .map(drop)
    }

    /// A manifest's bytes and media type, by tag or digest.
    pub fn manifest(&self, repository: &str, reference: &str) -> Option<(Bytes, String)> {
        self.shared
            .state()
            .manifest(repository, reference, false)
            .ok()
            .map(|(_, m)| (m.bytes, m.media_type))
    }

    /// A blob's bytes.
    pub fn blob(&self, digest: &Digest) -> Option<Bytes> {
        self.shared.state().blobs.get(digest).cloned()
    }

    /// The tags of a repository, sorted.
    pub fn tags(&self, repository: &str) -> Vec<String> {
        self.shared.state().tag_list(repository).unwrap_or_default()
    }

    /// Every live repository, sorted.
    pub fn repositories(&self) -> Vec<String> {
        let state = self.shared.state();
        state
            .repos
            .iter()
            .filter(|(_, repo)| repo.package.deleted_at.is_none())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The package id of a repository.
    pub fn package_id(&self, repository: &str) -> Option<PackageId> {
        self.shared
            .state()
            .repos
            .get(repository)
            .map(|repo| PackageId(repo.package.id))
    }

    /// Every version of a repository's package, deleted ones included, oldest first.
    pub fn versions(&self, repository: &str) -> Vec<StoredVersion> {
        let state = self.shared.state();
        let Some(repo) = state.repos.get(repository) else {
            return Vec::new();
        };
        repo.versions
            .iter()
            .map(|(id, version)| StoredVersion {
                id: PackageVersionId(*id),
                digest: version.digest.clone(),
                tags: repo.tags_of(&version.digest),
                created_at: version.created_at,
                deleted_at: version.deleted_at,
                downloads: version.downloads,
            })
            .collect()
    }

    /// The id of the active version of `digest`.
    pub fn version_id(&self, repository: &str, digest: &Digest) -> Option<PackageVersionId> {
        let state = self.shared.state();
        state
            .repos
            .get(repository)
            .and_then(|repo| repo.version_of(digest))
            .map(PackageVersionId)
    }

    fn with_version(
        &self,
        repository: &str,
        id: PackageVersionId,
        change: impl FnOnce(&mut super::state::Version),
    ) -> Result<()> {
        let mut state = self.shared.state();
        let version = state
            .repos
            .get_mut(repository)
            .and_then(|repo| repo.versions.get_mut(&id.0))
            .ok_or_else(|| Error::not_in_store(format!("version {id} of {repository}")))?;
        change(version);
        Ok(())
    }

    /// Backdates (or moves) a version's creation time.
    ///
    /// # Errors
    ///
    /// [`Error::NotInStore`] for an unknown version.
    pub fn set_version_created_at(
        &self,
        repository: &str,
        id: PackageVersionId,
        at: OffsetDateTime,
    ) -> Result<()> {
        self.with_version(repository, id, |version| {
            version.created_at = at;
            version.updated_at = at;
        })
    }

    /// Sets a version's download count.
    ///
    /// # Errors
    ///
    /// [`Error::NotInStore`] for an unknown version.
    pub fn set_downloads(
        &self,
        repository: &str,
        id: PackageVersionId,
        downloads: u64,
    ) -> Result<()> {
        self.with_version(repository, id, |version| version.downloads = downloads)
    }

    /// Makes a package public or private (GitHub has no API for this).
    ///
    /// # Errors
    ///
    /// [`Error::NotInStore`] for an unknown repository.
    pub fn set_visibility(&self, repository: &str, visibility: Visibility) -> Result<()> {
        let mut state = self.shared.state();
        let repo = state
            .repos
            .get_mut(repository)
            .ok_or_else(|| Error::not_in_store(format!("repository {repository}")))?;
        repo.package.visibility = visibility;
        Ok(())
    }

    /// Lists a Sigstore bundle in GitHub's attestations API under the
    /// owner of `repository`, for `subject`.
    pub(crate) fn publish_attestation(
        &self,
        repository: &str,
        subject: &Digest,
        predicate_type: &str,
        bundle: serde_json::Value,
    ) {
        self.shared
            .state()
            .attestations
            .push(super::state::ApiAttestation {
                repository: repository.to_owned(),
                subject: subject.clone(),
                predicate_type: predicate_type.to_owned(),
                bundle,
            });
    }

    /// Grants `login` a permission on a repository's package.
    pub fn grant(&self, login: &str, repository: &str, permission: Permission) {
        self.shared
            .state()
            .accounts
            .grant(login, repository, permission);
    }
}
