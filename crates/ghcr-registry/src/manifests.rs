//! Manifests: get (verified, size-limited while reading), head, put,
//! delete, and platform selection in an index.

use bytes::{Bytes, BytesMut};
use ghcr_transport::ghcr_auth::Scope;
use ghcr_transport::{Body, HttpBody};
use ghcr_types::{Digest, MAX_MANIFEST_SIZE, Manifest, MediaType, Platform, Reference};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, StatusCode};
use http_body_util::BodyExt;

use crate::client::{RegistryClient, is_ghcr};
use crate::error::{Error, Result};
use crate::request::{Deleted, drain, failure, header};

/// How often a manifest whose body was cut is fetched again.
const BODY_CUT_RETRIES: u32 = 3;

/// What a HEAD tells about a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestInfo {
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Its media type.
    pub media_type: MediaType,
}

impl RegistryClient {
    /// Fetches a manifest or index by tag or digest.
    ///
    /// The bytes are hashed before they are parsed: they must match the
    /// digest of a by-digest reference, and the `Docker-Content-Digest`
    /// header when the registry sends one. The 4 MiB limit is enforced
    /// before and while reading.
    ///
    /// # Errors
    ///
    /// [`Error::ManifestNotFound`], [`Error::DigestMismatch`],
    /// [`Error::ManifestTooLarge`], [`Error::InvalidReference`] for a
    /// digest whose algorithm cannot be verified (only sha256 and sha512
    /// can), an invalid manifest ([`Error::Data`]), and the transport's
    /// errors.
    pub async fn get_manifest(&self, reference: &Reference) -> Result<Manifest> {
        if let Some(pinned) = reference.digest()
            && pinned.algorithm().is_none()
        {
            return Err(Error::reference(
                reference,
                format!(
                    "{} digests cannot be verified; name the manifest by its sha256 digest or by tag",
                    pinned.algorithm_name()
                ),
            ));
        }
        // A body cut mid-way (a reset after the head, which the transport
        // cannot retry) is fetched again: a GET repeats safely.
        let mut cuts_left = BODY_CUT_RETRIES;
        let (content_type, announced, bytes) = loop {
            let Some(response) = self.manifest_request(Method::GET, reference).await? else {
                return Err(not_found(reference));
            };
            let content_type = header(&response, "content-type").map(str::to_owned);
            let announced = header(&response, "docker-content-digest")
                .and_then(|d| Digest::parse(d.trim()).ok());
            match read_limited(response, MAX_MANIFEST_SIZE, reference).await {
                Ok(bytes) => break (content_type, announced, bytes),
                Err(Error::Interrupted { .. }) if cuts_left > 0 => {
                    cuts_left -= 1;
                    tracing::warn!(%reference, "manifest download was cut; fetching it again");
                }
                Err(error) => return Err(error),
            }
        };
        // Checked on the raw bytes: a corrupted body is a mismatch, not a
        // parse error.
        for expected in reference.digest().into_iter().chain(announced.as_ref()) {
            if expected.algorithm().is_some()
                && let Err(ghcr_types::Error::DigestMismatch { actual, .. }) =
                    expected.verify(&bytes)
            {
                return Err(Error::mismatch(
                    format!("manifest {reference}"),
                    expected,
                    actual,
                ));
            }
        }
        Ok(Manifest::from_bytes(bytes, content_type.as_deref())?)
    }

    /// Whether a manifest exists, with its digest, size and media type.
    ///
    /// Registries that answer HEAD without those headers get a GET instead.
    ///
    /// # Errors
    ///
    /// The transport's errors; a missing manifest is `Ok(None)`.
    pub async fn head_manifest(&self, reference: &Reference) -> Result<Option<ManifestInfo>> {
        let Some(response) = self.manifest_request(Method::HEAD, reference).await? else {
            return Ok(None);
        };
        let digest =
            header(&response, "docker-content-digest").and_then(|d| Digest::parse(d.trim()).ok());
        let size = header(&response, "content-length").and_then(|l| l.trim().parse().ok());
        let media_type = header(&response, "content-type")
            .and_then(|t| MediaType::parse(t).ok())
            .filter(MediaType::is_manifest);
        if let (Some(digest), Some(size), Some(media_type)) = (digest, size, media_type)
            && reference.digest().is_none_or(|pinned| *pinned == digest)
        {
            return Ok(Some(ManifestInfo {
                digest,
                size,
                media_type,
            }));
        }
        match self.get_manifest(reference).await {
            Ok(manifest) => Ok(Some(ManifestInfo {
                digest: manifest.digest().clone(),
                size: manifest.size(),
                media_type: manifest.media_type().clone(),
            })),
            Err(Error::ManifestNotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The digest a reference names now (its own digest when pinned).
    ///
    /// # Errors
    ///
    /// [`Error::ManifestNotFound`] and the transport's errors.
    pub async fn resolve_digest(&self, reference: &Reference) -> Result<Digest> {
        if let Some(digest) = reference.digest() {
            return Ok(digest.clone());
        }
        self.head_manifest(reference)
            .await?
            .map(|info| info.digest)
            .ok_or_else(|| not_found(reference))
    }

    /// Uploads a manifest under the reference's tag (or, without a tag, its
    /// own digest) and returns its digest: the hash of the exact bytes sent.
    ///
    /// Push the blobs (and an index's children) first: registries refuse a
    /// manifest whose blobs they lack. A manifest with a `subject` on a
    /// registry without the referrers API also gets its descriptor added to
    /// the subject's `<alg>-<hex>` fallback index (see
    /// [`RegistryClient::referrers`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] when the reference pins another digest,
    /// [`Error::Protocol`] when the registry reports another digest than the
    /// one sent, and the transport's errors.
    pub async fn put_manifest(&self, reference: &Reference, manifest: &Manifest) -> Result<Digest> {
        let (digest, acknowledged) = self.put_manifest_only(reference, manifest).await?;
        if let Some(subject) = manifest.subject() {
            self.record_referrer(reference, subject, manifest, acknowledged)
                .await?;
        }
        Ok(digest)
    }

    /// The PUT alone, telling whether the registry took note of a subject
    /// (`OCI-Subject` in the answer).
    pub(crate) async fn put_manifest_only(
        &self,
        reference: &Reference,
        manifest: &Manifest,
    ) -> Result<(Digest, bool)> {
        if let Some(pinned) = reference.digest()
            && pinned != manifest.digest()
        {
            return Err(Error::reference(
                reference,
                format!(
                    "it pins {pinned}, but the manifest's digest is {}",
                    manifest.digest()
                ),
            ));
        }
        let target = reference
            .tag()
            .map_or_else(|| manifest.digest().to_string(), ToString::to_string);
        let url = self.manifest_url(reference, &target)?;
        let response = self
            .call(
                Method::PUT,
                &url,
                Scope::push(reference.repository()),
                "manifests",
            )
            .header(CONTENT_TYPE, manifest.media_type().as_str())
            .send_checked(Body::from(manifest.bytes().clone()))
            .await?;
        if let Some(announced) = header(&response, "docker-content-digest")
            && let Ok(announced) = Digest::parse(announced.trim())
            && announced.algorithm() == manifest.digest().algorithm()
            && &announced != manifest.digest()
        {
            return Err(Error::protocol(
                &url,
                format!(
                    "the registry stored {announced}, not the {} that was sent",
                    manifest.digest()
                ),
            ));
        }
        let acknowledged = header(&response, "oci-subject").is_some();
        drain(response).await;
        Ok((manifest.digest().clone(), acknowledged))
    }

    /// Deletes the manifest a reference names, by digest: a tag is resolved
    /// first, so every tag of that digest goes with it (use
    /// [`RegistryClient::delete_tag`] to remove one tag).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] where the registry refuses deletes (ghcr.io
    /// answers 405: delete the package version through the GitHub Packages
    /// API instead), [`Error::ManifestNotFound`], and the transport's errors.
    pub async fn delete_manifest(&self, reference: &Reference) -> Result<()> {
        let digest = self.resolve_digest(reference).await?;
        let url = self.manifest_url(reference, digest.as_str())?;
        match self.send_delete(&url, reference, "manifests").await? {
            Deleted::Done => Ok(()),
            Deleted::Missing => Err(not_found(&reference.with_digest(digest))),
            Deleted::Refused(response) => Err(failure(response, &Method::DELETE, &url).await),
        }
    }

    /// The image manifest for `platform`: the reference itself when it is
    /// an image manifest, else the matching child of its index (containerd's
    /// rules: normalised names, variant fallbacks).
    ///
    /// # Errors
    ///
    /// [`Error::PlatformNotFound`] listing what the index offers, and the
    /// errors of [`RegistryClient::get_manifest`].
    pub async fn get_platform_manifest(
        &self,
        reference: &Reference,
        platform: &Platform,
    ) -> Result<Manifest> {
        let manifest = self.get_manifest(reference).await?;
        if !manifest.is_index() {
            return Ok(manifest);
        }
        let child = child_digest_for(reference, &manifest, platform)?;
        self.get_manifest(&reference.with_digest(child)).await
    }

    /// GET or HEAD of the manifest `reference` names: `None` for a 404.
    async fn manifest_request(
        &self,
        method: Method,
        reference: &Reference,
    ) -> Result<Option<http::Response<ghcr_transport::HttpBody>>> {
        let url = self.manifest_url(reference, reference.manifest_reference())?;
        let response = self
            .call(
                method.clone(),
                &url,
                Scope::pull(reference.repository()),
                "manifests",
            )
            .header(ACCEPT, MediaType::manifest_accept_header())
            .send(Body::empty())
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => {
                drain(response).await;
                Ok(None)
            }
            status if status.is_success() => Ok(Some(response)),
            _ => Err(failure(response, &method, &url).await),
        }
    }

    pub(crate) fn manifest_url(&self, reference: &Reference, target: &str) -> Result<http::Uri> {
        self.url(reference, &format!("manifests/{target}"))
    }
}

/// The digest of an index's child for `platform`.
pub(crate) fn child_digest_for(
    reference: &Reference,
    index: &Manifest,
    platform: &Platform,
) -> Result<Digest> {
    let child = index
        .child_for(platform)
        .ok_or_else(|| platform_not_found(reference, index, platform))?;
    Ok(Digest::try_from(child.digest())?)
}

/// What an index offers, when it lacks `platform`.
pub(crate) fn platform_not_found(
    reference: &Reference,
    index: &Manifest,
    platform: &Platform,
) -> Error {
    let available: Vec<String> = index.platforms().iter().map(ToString::to_string).collect();
    Error::PlatformNotFound {
        reference: reference.to_string(),
        platform: platform.to_string(),
        available: if available.is_empty() {
            "no platforms".into()
        } else {
            available.join(", ")
        },
    }
}

pub(crate) fn not_found(reference: &Reference) -> Error {
    Error::ManifestNotFound {
        reference: reference.to_string(),
    }
}

/// Which registry refused a delete.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refuser {
    /// ghcr.io, or a GitHub registry (GHES `containers.HOST`), known by name
    /// or by the `x-github-request-id` it answers with.
    GitHub,
    /// Any other registry.
    Other,
}

impl Refuser {
    pub(crate) fn of(registry: &str, response: Option<&http::Response<HttpBody>>) -> Self {
        let github_answer =
            response.is_some_and(|r| r.headers().contains_key("x-github-request-id"));
        if is_ghcr(registry) || github_answer {
            Self::GitHub
        } else {
            Self::Other
        }
    }
}

pub(crate) fn unsupported_delete(registry: &str, refuser: Refuser) -> Error {
    Error::Unsupported {
        registry: registry.to_owned(),
        operation: "deleting through the registry API (405)",
        hint: if refuser == Refuser::GitHub {
            "on ghcr.io delete the package version through the GitHub Packages API (`ghcr rm`, ghcr_packages)"
        } else {
            "the registry has deletes switched off (docker-registry: storage.delete.enabled)"
        },
    }
}

/// Reads a body of at most `limit` bytes (a manifest, a tag list, a
/// referrers index): refused at once when its Content-Length is larger,
/// and as soon as more arrives otherwise, before buffering it.
pub(crate) async fn read_limited(
    response: http::Response<HttpBody>,
    limit: usize,
    reference: &Reference,
) -> Result<Bytes> {
    let too_large = || Error::ManifestTooLarge {
        reference: reference.to_string(),
        limit: limit as u64,
    };
    let announced = header(&response, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut body = response.into_body();
    let mut collected = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|source| Error::Interrupted {
            what: format!("manifest {reference}"),
            source,
        })?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                return Err(too_large());
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}
