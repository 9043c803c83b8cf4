//! Manifests and indexes that keep the exact bytes they were read from.
//!
//! A manifest's digest is the hash of its bytes as received or as sent, never
//! of re-serialised JSON: re-serialising reorders keys and changes whitespace,
//! and the digest with it.

mod parse;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use bytes::Bytes;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use crate::error::{Error, Result};
use crate::{Digest, MediaType, Platform};

/// Largest manifest accepted: 4 MiB, the size the OCI distribution spec says
/// registries and clients should expect to support.
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;

/// The parsed body of a manifest.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ManifestBody {
    /// An image manifest: a config and layers (OCI, or Docker schema 2).
    Image(Box<ImageManifest>),
    /// An index of manifests (OCI index, or Docker manifest list).
    Index(Box<ImageIndex>),
}

/// A manifest or index with its exact bytes, digest and media type.
///
/// ```
/// use ghcr_types::{Manifest, MediaType};
///
/// let bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
/// let index = Manifest::from_bytes(&bytes[..], Some("application/vnd.oci.image.index.v1+json"))?;
/// assert!(index.is_index());
/// assert_eq!(index.media_type(), &MediaType::OciIndex);
/// assert_eq!(index.digest(), &ghcr_types::Digest::sha256_of(bytes));
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Manifest {
    bytes: Bytes,
    digest: Digest,
    media_type: MediaType,
    body: ManifestBody,
    /// The platform of each child of an index, read from the bytes with our
    /// own `Platform` (oci-spec 0.10 drops `os.version` and `os.features`).
    child_platforms: Vec<Option<Platform>>,
}

impl Manifest {
    /// Parses and validates manifest bytes, as received with `content_type`.
    ///
    /// The kind is taken from the `mediaType` field when present, else from
    /// the content type, else from the shape of the JSON.
    ///
    /// # Errors
    ///
    /// [`Error::ManifestTooLarge`] over [`MAX_MANIFEST_SIZE`],
    /// [`Error::UnsupportedManifest`] for Docker schema 1 or a non-manifest
    /// type, [`Error::InvalidManifest`] for bad JSON, a schema version other
    /// than 2, a body and content type that disagree, or invalid descriptors.
    pub fn from_bytes(bytes: impl Into<Bytes>, content_type: Option<&str>) -> Result<Self> {
        parse::parse(bytes.into(), content_type)
    }

    /// Serialises an image manifest once; the digest is of those bytes.
    ///
    /// # Errors
    ///
    /// As for [`Manifest::from_bytes`]: the result is validated like a received manifest.
    pub fn from_image(manifest: &ImageManifest) -> Result<Self> {
        let bytes = serde_json::to_vec(manifest).map_err(|source| Error::InvalidManifest {
            reason: "the image manifest could not be serialised".into(),
            source: Some(source),
        })?;
        let media_type = manifest
            .media_type()
            .as_ref()
            .map_or(MediaType::OciManifest, MediaType::from);
        Self::from_bytes(bytes, Some(media_type.as_str()))
    }

    /// Serialises an index once; the digest is of those bytes.
    ///
    /// # Errors
    ///
    /// As for [`Manifest::from_bytes`].
    pub fn from_index(index: &ImageIndex) -> Result<Self> {
        let bytes = serde_json::to_vec(index).map_err(|source| Error::InvalidManifest {
            reason: "the index could not be serialised".into(),
            source: Some(source),
        })?;
        let media_type = index
            .media_type()
            .as_ref()
            .map_or(MediaType::OciIndex, MediaType::from);
        Self::from_bytes(bytes, Some(media_type.as_str()))
    }

    /// The exact bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The digest of [`Manifest::bytes`].
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The size of [`Manifest::bytes`].
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The media type to send as Content-Type when pushing.
    pub fn media_type(&self) -> &MediaType {
        &self.media_type
    }

    /// The parsed body.
    pub fn body(&self) -> &ManifestBody {
        &self.body
    }

    /// Whether this is an index of manifests.
    pub fn is_index(&self) -> bool {
        matches!(self.body, ManifestBody::Index(_))
    }

    /// The image manifest, when this is one.
    pub fn as_image(&self) -> Option<&ImageManifest> {
        match &self.body {
            ManifestBody::Image(image) => Some(image),
            ManifestBody::Index(_) => None,
        }
    }

    /// The index, when this is one.
    pub fn as_index(&self) -> Option<&ImageIndex> {
        match &self.body {
            ManifestBody::Index(index) => Some(index),
            ManifestBody::Image(_) => None,
        }
    }

    /// A descriptor pointing at this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new((&self.media_type).into(), self.size(), &self.digest)
    }

    /// The config descriptor of an image manifest.
    pub fn config(&self) -> Option<&Descriptor> {
        self.as_image().map(ImageManifest::config)
    }

    /// The layers of an image manifest; empty for an index.
    pub fn layers(&self) -> &[Descriptor] {
        self.as_image()
            .map_or(&[], |image| image.layers().as_slice())
    }

    /// The manifests an index lists; empty for an image manifest.
    pub fn children(&self) -> &[Descriptor] {
        self.as_index()
            .map_or(&[], |index| index.manifests().as_slice())
    }

    /// The platforms an index offers images for. Children without a
    /// platform and attestation manifests (buildx lists them as
    /// `unknown/unknown` with `vnd.docker.reference.type:
    /// attestation-manifest`) are left out; see
    /// [`Manifest::children_with_platforms`] for every child.
    pub fn platforms(&self) -> Vec<Platform> {
        self.children_with_platforms()
            .filter(|(child, _)| !is_attestation_manifest(child))
            .filter_map(|(_, platform)| platform)
            .filter(|p| !(p.os == "unknown" && p.architecture == "unknown"))
            .cloned()
            .collect()
    }

    /// Each child of an index with its platform, when it has one.
    pub fn children_with_platforms(
        &self,
    ) -> impl Iterator<Item = (&Descriptor, Option<&Platform>)> {
        self.children()
            .iter()
            .zip(self.child_platforms.iter().map(Option::as_ref))
    }

    /// The child of an index for `platform` (see [`Platform::select`]).
    pub fn child_for(&self, platform: &Platform) -> Option<&Descriptor> {
        platform.select(
            self.children_with_platforms()
                .filter_map(|(child, offered)| offered.map(|offered| (offered, child))),
        )
    }

    /// Bytes the manifest references: config plus layers for an image, the
    /// children's manifest sizes for an index (not their layers, which need
    /// fetching). Sizes come from the network, so the sum saturates at
    /// `u64::MAX` instead of overflowing.
    pub fn referenced_size(&self) -> u64 {
        let descriptors: Box<dyn Iterator<Item = &Descriptor>> = match &self.body {
            ManifestBody::Image(image) => {
                Box::new(std::iter::once(image.config()).chain(image.layers()))
            }
            ManifestBody::Index(index) => Box::new(index.manifests().iter()),
        };
        descriptors.fold(0, |total, descriptor| {
            total.saturating_add(descriptor.size())
        })
    }

    /// The manifest this one refers to (OCI 1.1 `subject`).
    pub fn subject(&self) -> Option<&Descriptor> {
        match &self.body {
            ManifestBody::Image(image) => image.subject().as_ref(),
            ManifestBody::Index(index) => index.subject().as_ref(),
        }
    }

    /// The artifact type: the `artifactType` field, or for an image manifest
    /// without one, its config media type when that is not an image config.
    pub fn artifact_type(&self) -> Option<MediaType> {
        match &self.body {
            ManifestBody::Image(image) => image
                .artifact_type()
                .as_ref()
                .map(MediaType::from)
                .or_else(|| {
                    let config = MediaType::from(image.config().media_type());
                    (!matches!(
                        config,
                        MediaType::OciConfig | MediaType::DockerConfig | MediaType::OciEmptyJson
                    ))
                    .then_some(config)
                }),
            ManifestBody::Index(index) => index.artifact_type().as_ref().map(MediaType::from),
        }
    }

    /// The manifest's annotations.
    pub fn annotations(&self) -> Option<&HashMap<String, String>> {
        match &self.body {
            ManifestBody::Image(image) => image.annotations().as_ref(),
            ManifestBody::Index(index) => index.annotations().as_ref(),
        }
    }

    /// Every digest this manifest points at directly: config, layers and
    /// subject, or children and subject.
    pub fn referenced_digests(&self) -> Vec<Digest> {
        let mut descriptors: Vec<&Descriptor> = match &self.body {
            ManifestBody::Image(image) => std::iter::once(image.config())
                .chain(image.layers())
                .collect(),
            ManifestBody::Index(index) => index.manifests().iter().collect(),
        };
        descriptors.extend(self.subject());
        // Descriptors were validated when the manifest was parsed.
        descriptors
            .into_iter()
            .filter_map(|descriptor| Digest::try_from(descriptor.digest()).ok())
            .collect()
    }

    /// Checks that the bytes hash to `expected`.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when they do not, [`Error::UnsupportedAlgorithm`]
    /// when `expected` uses an algorithm that cannot be computed.
    pub fn verify(&self, expected: &Digest) -> Result<()> {
        if expected.algorithm() == self.digest.algorithm() {
            return if expected == &self.digest {
                Ok(())
            } else {
                Err(Error::DigestMismatch {
                    expected: expected.clone(),
                    actual: self.digest.clone(),
                })
            };
        }
        expected.verify(&self.bytes)
    }
}

/// Whether an index child is buildx's attestation manifest for a sibling.
fn is_attestation_manifest(child: &Descriptor) -> bool {
    child
        .annotations()
        .as_ref()
        .and_then(|annotations| annotations.get("vnd.docker.reference.type"))
        .is_some_and(|kind| kind == "attestation-manifest")
}

impl PartialEq for Manifest {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.media_type == other.media_type
    }
}

impl Eq for Manifest {}
