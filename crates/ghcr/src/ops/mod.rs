//! The design's operation traits (refinement 2.1), adapted to what ghcr.io
//! really offers: typed references, digests and owners, vulnerability
//! reports read from attestations, no visibility changes.
//!
//! They are object-safe (methods return a [`BoxFuture`], as
//! `ghcr_auth::CredentialProvider` does), so a caller can hold an
//! `Arc<dyn RegistryOperations>` and hand it a [`crate::GhcrClient`] in
//! production and its own double in tests.

#[cfg(feature = "packages")]
mod packages;
#[cfg(feature = "registry")]
mod registry;

pub use ghcr_auth::BoxFuture;

#[cfg(feature = "registry")]
use bytes::Bytes;
#[cfg(feature = "registry")]
use ghcr_types::{Digest, Manifest, Reference, Tag};

#[cfg(feature = "registry")]
use crate::error::Result;

/// Image, tag and blob operations on any OCI registry.
///
/// ```
/// use std::sync::Arc;
/// use ghcr::{GhcrClient, GhcrConfig, RegistryOperations};
///
/// // Code that needs the operations takes the trait, not the client.
/// fn needs_a_registry(registry: Arc<dyn RegistryOperations>) -> Arc<dyn RegistryOperations> {
///     registry
/// }
/// let client = GhcrClient::new(GhcrConfig::builder().build()?)?;
/// let _ = needs_a_registry(Arc::new(client));
/// # Ok::<(), ghcr::Error>(())
/// ```
#[cfg(feature = "registry")]
pub trait RegistryOperations: Send + Sync {
    /// Whether the manifest `image` names exists.
    fn image_exists<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<bool>>;

    /// The manifest `image` names, verified against its digest.
    fn pull_manifest<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<Manifest>>;

    /// Uploads a manifest under `image`'s tag (or its digest) and returns
    /// the digest of the bytes sent; its blobs must be there already.
    fn push_manifest<'a>(
        &'a self,
        image: &'a Reference,
        manifest: &'a Manifest,
    ) -> BoxFuture<'a, Result<Digest>>;

    /// Deletes what `image` names: on the configured GitHub registry its
    /// package version through the Packages API (refused when that would
    /// delete tags not named), elsewhere the manifest or the tag.
    fn delete_image<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<()>>;

    /// Copies an image (every platform) and returns its digest, the same at
    /// both ends.
    fn copy_image<'a>(
        &'a self,
        source: &'a Reference,
        target: &'a Reference,
    ) -> BoxFuture<'a, Result<Digest>>;

    /// Every tag of a repository.
    fn list_tags<'a>(&'a self, repository: &'a Reference) -> BoxFuture<'a, Result<Vec<Tag>>>;

    /// Tags the image `image` names with `new_tag` and returns its digest.
    fn tag_image<'a>(
        &'a self,
        image: &'a Reference,
        new_tag: &'a Tag,
    ) -> BoxFuture<'a, Result<Digest>>;

    /// Removes one tag, keeping the image (not possible on ghcr.io, which
    /// deletes whole versions: see [`RegistryOperations::delete_image`]).
    fn delete_tag<'a>(&'a self, reference: &'a Reference) -> BoxFuture<'a, Result<()>>;

    /// Whether the repository has the blob.
    fn blob_exists<'a>(
        &'a self,
        repository: &'a Reference,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Uploads bytes as a blob and returns their digest.
    fn upload_blob<'a>(
        &'a self,
        repository: &'a Reference,
        data: Bytes,
    ) -> BoxFuture<'a, Result<Digest>>;

    /// Makes a blob of `source` available in `target` on the same registry:
    /// mounted when the registry allows it, else copied through. Returns
    /// how it got there.
    fn mount_blob<'a>(
        &'a self,
        source: &'a Reference,
        target: &'a Reference,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<ghcr_registry::BlobOutcome>>;
}

/// Package version operations of the GitHub Packages API.
#[cfg(feature = "packages")]
pub trait PackageOperations: Send + Sync {
    /// The package's versions in `state`, newest first.
    fn list_versions<'a>(
        &'a self,
        owner: &'a ghcr_types::Owner,
        package: &'a str,
        state: ghcr_packages::VersionState,
    ) -> BoxFuture<'a, Result<Vec<ghcr_types::PackageVersion>>>;

    /// Deletes a version (a digest with all its tags); restorable 30 days.
    fn delete_version<'a>(
        &'a self,
        owner: &'a ghcr_types::Owner,
        package: &'a str,
        id: ghcr_types::PackageVersionId,
    ) -> BoxFuture<'a, Result<()>>;

    /// Restores a version deleted within the last 30 days.
    fn restore_version<'a>(
        &'a self,
        owner: &'a ghcr_types::Owner,
        package: &'a str,
        id: ghcr_types::PackageVersionId,
    ) -> BoxFuture<'a, Result<()>>;

    /// The newest vulnerability scan attached to a version's image, read
    /// from its attestations (GitHub has no vulnerability endpoint).
    fn get_vulnerabilities<'a>(
        &'a self,
        owner: &'a ghcr_types::Owner,
        package: &'a str,
        id: ghcr_types::PackageVersionId,
    ) -> BoxFuture<'a, Result<ghcr_types::VulnerabilityReport>>;
}
