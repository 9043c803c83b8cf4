//! Pulling into an OCI image layout: every blob verified and written under
//! a temporary name, manifests beside them, `index.json` last, once all of
//! them are on disk.

use std::path::Path;

use ghcr_types::{Digest, Manifest, Reference};

use crate::client::RegistryClient;
use crate::error::Result;
use crate::layout::Layout;
use crate::options::TransferOptions;
use crate::progress::{ProgressEvent, SkipReason};

/// What a pull did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PullReport {
    /// The digest of the manifest the layout's entry names.
    pub digest: Digest,
    /// That manifest.
    pub manifest: Manifest,
    /// Blobs the image needs.
    pub blobs: usize,
    /// Blobs already in the layout (verified), not downloaded again.
    pub blobs_reused: usize,
    /// Blob bytes downloaded.
    pub bytes_downloaded: u64,
}

impl RegistryClient {
    /// Pulls an image into the OCI image layout at `dir` (created when
    /// missing; other entries of an existing layout are kept).
    ///
    /// Each blob is hashed as it arrives and written to a temporary file
    /// renamed only once its digest checks out; manifests are verified
    /// too, and `index.json` is written last. A failed pull leaves no
    /// half-written blob and no entry naming a missing one.
    ///
    /// # Errors
    ///
    /// [`Error::PlatformNotFound`], [`Error::DigestMismatch`],
    /// [`Error::SizeMismatch`], [`Error::Io`], and the errors of
    /// [`RegistryClient::get_manifest`].
    ///
    /// [`Error::PlatformNotFound`]: crate::Error::PlatformNotFound
    /// [`Error::DigestMismatch`]: crate::Error::DigestMismatch
    /// [`Error::SizeMismatch`]: crate::Error::SizeMismatch
    /// [`Error::Io`]: crate::Error::Io
    pub async fn pull_to_layout(
        &self,
        reference: &Reference,
        dir: &Path,
        options: &TransferOptions,
    ) -> Result<PullReport> {
        let repository = reference.without_tag_or_digest();
        let (top, entry) = self
            .get_narrowed(reference, options.platform.as_ref())
            .await?;
        let tree = self.fetch_tree(reference, top).await?;
        let layout = Layout::create(dir).await?;
        // The blobs, the manifests and the marker are written at once;
        // each is synced before its rename, and `add_entry` syncs their
        // folders before `index.json` names any of them.
        let blobs = self.in_parallel(tree.blobs.clone(), options.concurrency, |blob| {
            let layout = &layout;
            let repository = &repository;
            async move {
                if layout.has_blob(&blob.digest, blob.size).await? {
                    options.progress.emit(ProgressEvent::Skipped {
                        digest: blob.digest.clone(),
                        size: blob.size,
                        reason: SkipReason::Exists,
                    });
                    return Ok(None);
                }
                let path = layout.blob_target(&blob.digest).await?;
                let size = self
                    .download_unsynced(
                        repository,
                        &blob.digest,
                        Some(blob.size),
                        &path,
                        &options.progress,
                    )
                    .await?;
                Ok(Some(size))
            }
        });
        let manifests = async {
            for manifest in tree.children.iter().chain(std::iter::once(&tree.top)) {
                layout
                    .write_blob(manifest.digest(), manifest.bytes().clone())
                    .await?;
            }
            Ok(())
        };
        let (fetched, (), ()) = tokio::try_join!(blobs, manifests, layout.mark())?;
        let name = options
            .name
            .clone()
            .or_else(|| reference.tag().map(ToString::to_string));
        layout.add_entry(&entry, name.as_deref()).await?;
        Ok(PullReport {
            digest: tree.top.digest().clone(),
            blobs: fetched.len(),
            blobs_reused: fetched.iter().filter(|f| f.is_none()).count(),
            bytes_downloaded: fetched.iter().flatten().sum(),
            manifest: tree.top,
        })
    }
}
