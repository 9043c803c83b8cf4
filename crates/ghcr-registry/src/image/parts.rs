//! An image to push from its parts: a config and layers, each a blob source.

use std::collections::BTreeMap;

use bytes::Bytes;
use ghcr_types::MediaType;
use ghcr_types::oci::Descriptor;

use crate::blobs::BlobSource;

/// An image assembled from a config and layers; the manifest (OCI) is
/// written by [`crate::RegistryClient::push_image`] once every blob is up,
/// so layers whose digest is not known yet get it computed on the way.
///
/// ```
/// use ghcr_registry::{BlobSource, ImageParts};
/// use ghcr_types::MediaType;
///
/// let image = ImageParts::new(&br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#[..])
///     .layer(MediaType::OciLayerGzip, BlobSource::file("layer.tar.gz"))
///     .annotation("org.opencontainers.image.source", "https://github.com/octo-org/app");
/// assert_eq!(image.layer_count(), 1);
/// ```
#[derive(Debug)]
pub struct ImageParts {
    pub(crate) config: Bytes,
    pub(crate) config_media_type: MediaType,
    pub(crate) layers: Vec<(MediaType, BlobSource)>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) artifact_type: Option<MediaType>,
    pub(crate) subject: Option<Descriptor>,
}

impl ImageParts {
    /// An image with this config and no layers yet.
    pub fn new(config: impl Into<Bytes>) -> Self {
        Self {
            config: config.into(),
            config_media_type: MediaType::OciConfig,
            layers: Vec::new(),
            annotations: BTreeMap::new(),
            artifact_type: None,
            subject: None,
        }
    }

    /// An artifact (a signature, an SBOM, an attestation): the empty JSON
    /// config and `artifact_type`; add its files as layers.
    pub fn artifact(artifact_type: MediaType) -> Self {
        Self::new(&b"{}"[..])
            .config_media_type(MediaType::OciEmptyJson)
            .artifact_type(artifact_type)
    }

    /// The config's media type. Default: [`MediaType::OciConfig`].
    #[must_use]
    pub fn config_media_type(mut self, media_type: MediaType) -> Self {
        self.config_media_type = media_type;
        self
    }

    /// Adds a layer (in order, base first).
    #[must_use]
    pub fn layer(mut self, media_type: MediaType, source: BlobSource) -> Self {
        self.layers.push((media_type, source));
        self
    }

    /// Adds a manifest annotation. Default: none.
    #[must_use]
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The manifest's `artifactType`, for artifacts. Default: none.
    #[must_use]
    pub fn artifact_type(mut self, media_type: MediaType) -> Self {
        self.artifact_type = Some(media_type);
        self
    }

    /// The manifest this one refers to (OCI 1.1 `subject`), making it a
    /// referrer of that manifest (see [`crate::RegistryClient::referrers`]).
    /// Default: none.
    #[must_use]
    pub fn subject(mut self, subject: Descriptor) -> Self {
        self.subject = Some(subject);
        self
    }

    /// How many layers were added.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }
}
