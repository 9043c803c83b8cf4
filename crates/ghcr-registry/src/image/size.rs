//! How much an image weighs: per platform for an index, and in total with
//! shared blobs counted once.

use ghcr_types::{Digest, Manifest, Platform, Reference};

use crate::client::RegistryClient;
use crate::error::Result;

/// The size of one image manifest's content.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlatformSize {
    /// Its platform, as the index lists it (`None` for a plain image or an
    /// attestation manifest).
    pub platform: Option<Platform>,
    /// The manifest's digest.
    pub digest: Digest,
    /// Manifest, config and layers, in bytes.
    pub size: u64,
}

/// The size of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageSize {
    /// The digest the reference names.
    pub digest: Digest,
    /// Every manifest and blob, shared blobs counted once, in bytes
    /// (`u64::MAX` when the sizes a registry claims add up to more).
    pub total: u64,
    /// Per image manifest: one for an image, one per child for an index.
    pub platforms: Vec<PlatformSize>,
}

impl RegistryClient {
    /// The size of an image (FR-IMG-006): per platform for an index.
    ///
    /// # Errors
    ///
    /// Those of [`RegistryClient::get_manifest`].
    pub async fn image_size(&self, reference: &Reference) -> Result<ImageSize> {
        let top = self.get_manifest(reference).await?;
        let tree = self.fetch_tree(reference, top).await?;
        // Descriptor sizes come from the registry: sums saturate.
        let manifests = tree
            .children
            .iter()
            .map(Manifest::size)
            .fold(tree.top.size(), u64::saturating_add);
        let platforms = if tree.top.is_index() {
            tree.top
                .children_with_platforms()
                .filter_map(|(descriptor, platform)| {
                    let digest = Digest::try_from(descriptor.digest()).ok()?;
                    let child = tree.children.iter().find(|m| *m.digest() == digest)?;
                    Some(PlatformSize {
                        platform: platform.cloned(),
                        size: child.size().saturating_add(child.referenced_size()),
                        digest,
                    })
                })
                .collect()
        } else {
            vec![PlatformSize {
                platform: None,
                digest: tree.top.digest().clone(),
                size: tree.top.size().saturating_add(tree.top.referenced_size()),
            }]
        };
        Ok(ImageSize {
            digest: tree.top.digest().clone(),
            total: manifests.saturating_add(tree.blob_bytes()),
            platforms,
        })
    }
}
