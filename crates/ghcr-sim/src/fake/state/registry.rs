//! Registry operations on the state: blobs, manifests, tags, referrers and
//! upload sessions, with every digest verified.

use bytes::{Bytes, BytesMut};
use ghcr_types::{Digest, DigestVerifier, Manifest};
use http::StatusCode;
use time::OffsetDateTime;

use super::{Repo, State, StoredManifest, Upload, Version};

/// An OCI distribution error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RegistryError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl RegistryError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// `{"errors":[{"code":…,"message":…}]}`.
    pub(crate) fn body(&self) -> String {
        serde_json::json!({"errors": [{"code": self.code, "message": self.message}]}).to_string()
    }

    pub(crate) fn name_unknown(repository: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            format!("repository name not known to registry: {repository}"),
        )
    }

    pub(crate) fn manifest_unknown(reference: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!("manifest unknown: {reference}"),
        )
    }

    pub(crate) fn blob_unknown(digest: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            format!("blob unknown to registry: {digest}"),
        )
    }

    pub(crate) fn digest_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", message)
    }

    pub(crate) fn upload_unknown() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown to registry",
        )
    }

    pub(crate) fn unsupported() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "The operation is unsupported.",
        )
    }
}

/// Parses a digest from a request, as `DIGEST_INVALID` when it is not one.
pub(crate) fn parse_digest(text: &str) -> Result<Digest, RegistryError> {
    let digest = Digest::parse(text).map_err(|err| {
        RegistryError::digest_invalid(format!("provided digest is invalid: {err}"))
    })?;
    if digest.algorithm().is_none() {
        return Err(RegistryError::digest_invalid(format!(
            "digest algorithm of {text} is not supported"
        )));
    }
    Ok(digest)
}

impl State {
    /// Stores bytes as a blob linked to `repository`.
    pub(crate) fn put_blob(
        &mut self,
        repository: &str,
        bytes: Bytes,
        now: OffsetDateTime,
    ) -> Digest {
        let digest = Digest::sha256_of(&bytes);
        self.blobs.entry(digest.clone()).or_insert(bytes);
        self.repo_for_push(repository, now)
            .blobs
            .insert(digest.clone());
        digest
    }

    /// A blob linked to the repository.
    pub(crate) fn blob(&self, repository: &str, digest: &Digest) -> Result<Bytes, RegistryError> {
        let repo = self
            .live_repo(repository)
            .ok_or_else(|| RegistryError::name_unknown(repository))?;
        if !repo.blobs.contains(digest) {
            return Err(RegistryError::blob_unknown(digest.as_str()));
        }
        self.blobs
            .get(digest)
            .cloned()
            .ok_or_else(|| RegistryError::blob_unknown(digest.as_str()))
    }

    /// Links a blob of `from` into `to`; false when `from` does not hold it.
    pub(crate) fn mount(
        &mut self,
        to: &str,
        digest: &Digest,
        from: &str,
        now: OffsetDateTime,
    ) -> bool {
        let held = self
            .live_repo(from)
            .is_some_and(|repo| repo.blobs.contains(digest));
        if held {
            self.repo_for_push(to, now).blobs.insert(digest.clone());
        }
        held
    }

    /// Stores a manifest under a tag or its digest, checking the digest, the
    /// content and that everything it references is present.
    pub(crate) fn put_manifest(
        &mut self,
        repository: &str,
        reference: &str,
        bytes: Bytes,
        content_type: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(Digest, Option<Digest>), RegistryError> {
        let manifest =
            Manifest::from_bytes(bytes.clone(), content_type).map_err(|err| match err {
                ghcr_types::Error::ManifestTooLarge { .. } => RegistryError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "SIZE_INVALID",
                    err.to_string(),
                ),
                other => RegistryError::new(
                    StatusCode::BAD_REQUEST,
                    "MANIFEST_INVALID",
                    other.to_string(),
                ),
            })?;
        let by_digest = reference.contains(':');
        if by_digest {
            let expected = parse_digest(reference)?;
            manifest.verify(&expected).map_err(|err| {
                RegistryError::digest_invalid(format!(
                    "provided digest did not match uploaded content: {err}"
                ))
            })?;
        } else {
            ghcr_types::Tag::parse(reference).map_err(|err| {
                RegistryError::new(StatusCode::BAD_REQUEST, "TAG_INVALID", err.to_string())
            })?;
        }
        let digest = manifest.digest().clone();
        let existing = self.live_repo(repository);
        let children = if self.accept_dangling {
            &[][..]
        } else {
            manifest.children()
        };
        for child in children {
            let child = Digest::try_from(child.digest())
                .map_err(|err| RegistryError::digest_invalid(err.to_string()))?;
            if !existing.is_some_and(|repo| repo.manifests.contains_key(&child)) {
                return Err(RegistryError::new(
                    StatusCode::BAD_REQUEST,
                    "MANIFEST_BLOB_UNKNOWN",
                    format!("manifest references a manifest not in the repository: {child}"),
                ));
            }
        }
        let blobs = manifest.config().into_iter().chain(manifest.layers());
        for blob in blobs {
            let blob = Digest::try_from(blob.digest())
                .map_err(|err| RegistryError::digest_invalid(err.to_string()))?;
            let known = existing.is_some_and(|repo| repo.blobs.contains(&blob));
            // The empty JSON config needs no upload on most registries.
            if !known && !self.accept_dangling && blob != Digest::sha256_of(b"{}") {
                return Err(RegistryError::new(
                    StatusCode::BAD_REQUEST,
                    "MANIFEST_BLOB_UNKNOWN",
                    format!("blob unknown to registry: {blob}"),
                ));
            }
        }
        let subject = manifest
            .subject()
            .and_then(|s| Digest::try_from(s.digest()).ok());
        let stored = StoredManifest {
            bytes,
            media_type: manifest.media_type().as_str().to_owned(),
            subject: subject.clone(),
            artifact_type: manifest.artifact_type().map(|t| t.as_str().to_owned()),
            annotations: manifest
                .annotations()
                .and_then(|a| serde_json::to_value(a).ok()),
        };
        let new_id = self.next_id();
        let repo = self.repo_for_push(repository, now);
        if !repo.manifests.contains_key(&digest) {
            repo.manifests.insert(digest.clone(), stored);
            // A deleted version of the same digest can no longer be restored.
            repo.versions.retain(|_, v| v.digest != digest);
            repo.versions.insert(
                new_id,
                Version {
                    digest: digest.clone(),
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                    downloads: 0,
                    saved: None,
                },
            );
        }
        if !by_digest {
            repo.tags.insert(reference.to_owned(), digest.clone());
            if let Some(id) = repo.version_of(&digest)
                && let Some(version) = repo.versions.get_mut(&id)
            {
                version.updated_at = now;
            }
        }
        repo.package.updated_at = now;
        Ok((digest, subject))
    }

    /// A manifest by tag or digest; a GET counts as a download.
    pub(crate) fn manifest(
        &mut self,
        repository: &str,
        reference: &str,
        count_download: bool,
    ) -> Result<(Digest, StoredManifest), RegistryError> {
        let repo = self
            .live_repo_mut(repository)
            .ok_or_else(|| RegistryError::name_unknown(repository))?;
        let digest = if reference.contains(':') {
            parse_digest(reference)?
        } else {
            repo.tags
                .get(reference)
                .cloned()
                .ok_or_else(|| RegistryError::manifest_unknown(reference))?
        };
        let stored = repo
            .manifests
            .get(&digest)
            .cloned()
            .ok_or_else(|| RegistryError::manifest_unknown(reference))?;
        if count_download
            && let Some(id) = repo.version_of(&digest)
            && let Some(version) = repo.versions.get_mut(&id)
        {
            version.downloads += 1;
        }
        Ok((digest, stored))
    }

    /// Deletes a tag, or a manifest by digest with its tags (generic profile).
    pub(crate) fn delete_manifest(
        &mut self,
        repository: &str,
        reference: &str,
        now: OffsetDateTime,
    ) -> Result<(), RegistryError> {
        let repo = self
            .live_repo_mut(repository)
            .ok_or_else(|| RegistryError::name_unknown(repository))?;
        if !reference.contains(':') {
            return repo
                .tags
                .remove(reference)
                .map(drop)
                .ok_or_else(|| RegistryError::manifest_unknown(reference));
        }
        let digest = parse_digest(reference)?;
        if repo.manifests.remove(&digest).is_none() {
            return Err(RegistryError::manifest_unknown(reference));
        }
        repo.tags.retain(|_, d| *d != digest);
        if let Some(id) = repo.version_of(&digest)
            && let Some(version) = repo.versions.get_mut(&id)
        {
            version.deleted_at = Some(now);
        }
        Ok(())
    }

    /// Every tag of a repository, sorted.
    pub(crate) fn tag_list(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        self.live_repo(repository)
            .map(|repo| repo.tags.keys().cloned().collect())
            .ok_or_else(|| RegistryError::name_unknown(repository))
    }

    /// Descriptors of the manifests whose subject is `digest`.
    pub(crate) fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Vec<serde_json::Value> {
        let Some(repo) = self.live_repo(repository) else {
            return Vec::new();
        };
        let mut found: Vec<(&Digest, &StoredManifest)> = repo
            .manifests
            .iter()
            .filter(|(_, m)| m.subject.as_ref() == Some(digest))
            .filter(|(_, m)| artifact_type.is_none_or(|t| m.artifact_type.as_deref() == Some(t)))
            .collect();
        found.sort_by(|a, b| a.0.cmp(b.0));
        found
            .into_iter()
            .map(|(digest, manifest)| descriptor(digest, manifest))
            .collect()
    }

    /// Opens an upload session.
    pub(crate) fn start_upload(&mut self, repository: &str) -> String {
        let id = self.next_upload_id();
        self.uploads.insert(
            id.clone(),
            Upload {
                repository: repository.to_owned(),
                chunks: Vec::new(),
                len: 0,
                state: 0,
            },
        );
        id
    }

    /// An upload session of this repository.
    pub(crate) fn upload(&self, id: &str, repository: &str) -> Result<&Upload, RegistryError> {
        self.uploads
            .get(id)
            .filter(|upload| upload.repository == repository)
            .ok_or_else(RegistryError::upload_unknown)
    }

    /// Appends a chunk; returns the new length.
    pub(crate) fn append(&mut self, id: &str, bytes: Bytes) -> Result<u64, RegistryError> {
        let upload = self
            .uploads
            .get_mut(id)
            .ok_or_else(RegistryError::upload_unknown)?;
        upload.len += bytes.len() as u64;
        if !bytes.is_empty() {
            upload.chunks.push(bytes);
        }
        upload.state += 1;
        Ok(upload.len)
    }

    /// Completes an upload, verifying the content against `digest`.
    pub(crate) fn finish_upload(
        &mut self,
        id: &str,
        digest: &Digest,
        now: OffsetDateTime,
    ) -> Result<(), RegistryError> {
        let upload = self
            .uploads
            .remove(id)
            .ok_or_else(RegistryError::upload_unknown)?;
        let mut verifier = DigestVerifier::new(digest)
            .map_err(|err| RegistryError::digest_invalid(err.to_string()))?;
        for chunk in &upload.chunks {
            verifier.update(chunk);
        }
        verifier.finish().map_err(|err| {
            RegistryError::digest_invalid(format!(
                "provided digest did not match uploaded content: {err}"
            ))
        })?;
        let bytes = match upload.chunks.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => {
                let mut joined = BytesMut::with_capacity(usize::try_from(upload.len).unwrap_or(0));
                for chunk in many {
                    joined.extend_from_slice(chunk);
                }
                joined.freeze()
            }
        };
        self.blobs.entry(digest.clone()).or_insert(bytes);
        self.repo_for_push(&upload.repository, now)
            .blobs
            .insert(digest.clone());
        Ok(())
    }
}

/// The descriptor of a stored manifest, as indexes and referrers list it.
fn descriptor(digest: &Digest, manifest: &StoredManifest) -> serde_json::Value {
    let mut descriptor = serde_json::json!({
        "mediaType": manifest.media_type,
        "digest": digest.as_str(),
        "size": manifest.bytes.len(),
    });
    if let Some(artifact_type) = &manifest.artifact_type {
        descriptor["artifactType"] = serde_json::Value::String(artifact_type.clone());
    }
    if let Some(annotations) = &manifest.annotations {
        descriptor["annotations"] = annotations.clone();
    }
    descriptor
}

/// Whether the repository is one the fake can own: `owner/name…`.
pub(crate) fn check_name(repository: &str) -> Result<(), RegistryError> {
    let valid =
        repository.contains('/') && ghcr_types::Reference::new("fake.registry", repository).is_ok();
    if valid {
        Ok(())
    } else {
        Err(RegistryError::new(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            format!("invalid repository name `{repository}`: use lowercase owner/name"),
        ))
    }
}

impl Repo {
    /// The number of versions not deleted.
    pub(crate) fn active_versions(&self) -> usize {
        self.versions
            .values()
            .filter(|v| v.deleted_at.is_none())
            .count()
    }
}
