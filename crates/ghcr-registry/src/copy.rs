//! Copying images (FR-IMG-004): within a registry by mounting each blob,
//! across registries by streaming each blob from source to target; every
//! digest kept, an index copied with all its children, manifests last.

use bytes::Bytes;
use futures_util::Stream;
use ghcr_types::{Digest, Manifest, Reference};

use crate::blobs::pull::BlobReader;
use crate::blobs::{BlobSource, PushedBlob, UploadOptions};
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::options::TransferOptions;
use crate::progress::Progress;

/// What a copy did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CopyReport {
    /// The digest of the copied top manifest (the same at both ends).
    pub digest: Digest,
    /// That manifest.
    pub manifest: Manifest,
    /// Every blob, with how it got to the target.
    pub blobs: Vec<PushedBlob>,
}

impl RegistryClient {
    /// Copies the image `source` names to `target`, on the same registry or
    /// another one this client can reach. `target` without a tag takes the
    /// source's tag, or is written by digest.
    ///
    /// Blobs the target has are skipped after a HEAD. On one registry the
    /// rest are mounted from the source repository; a registry that will
    /// not mount (202), and any other registry, gets the bytes streamed
    /// from the source as they arrive, hashed once on the way and checked
    /// before the upload is committed. Memory stays bounded per blob.
    ///
    /// # Errors
    ///
    /// [`Error::PlatformNotFound`], [`Error::DigestMismatch`] when the
    /// source serves other bytes than its digest, and the errors of the
    /// reads and pushes involved.
    pub async fn copy_image(
        &self,
        source: &Reference,
        target: &Reference,
        options: &TransferOptions,
    ) -> Result<CopyReport> {
        let from = source.without_tag_or_digest();
        let to = target.without_tag_or_digest();
        let (top, _) = self.get_narrowed(source, options.platform.as_ref()).await?;
        let tree = self.fetch_tree(source, top).await?;
        let mut upload = UploadOptions::new().progress(options.progress.clone());
        if from.registry() == to.registry() && from.repository() != to.repository() {
            upload = upload.mount_from(from.clone());
        }
        let blobs = self
            .in_parallel(tree.blobs.clone(), options.concurrency, |blob| {
                let bytes = lazy_blob(self.clone(), from.clone(), blob.digest.clone(), blob.size);
                let source = BlobSource::stream(bytes, Some(blob.size)).with_digest(blob.digest);
                let (to, upload) = (&to, &upload);
                async move { self.push_blob(to, source, upload).await }
            })
            .await?;
        if let Some(digest) = target.digest().filter(|d| *d != tree.top.digest()) {
            return Err(Error::reference(
                target,
                format!("it pins {digest}, but the source is {}", tree.top.digest()),
            ));
        }
        let destination = match target
            .tag()
            .or(source.tag().filter(|_| target.digest().is_none()))
        {
            Some(tag) => to.with_tag(tag.as_str())?,
            None => to.clone(),
        };
        let digest = self.put_tree_manifests(&destination, &tree).await?;
        Ok(CopyReport {
            digest,
            manifest: tree.top,
            blobs,
        })
    }
}

/// A source blob's bytes, requested only when first polled (a blob the
/// target has, or mounts, is never read). Not verified here: the upload
/// hashes the bytes once and checks them before committing.
fn lazy_blob(
    client: RegistryClient,
    repository: Reference,
    digest: Digest,
    size: u64,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    futures_util::stream::try_unfold(None, move |reader: Option<BlobReader>| {
        let (client, repository, digest) = (client.clone(), repository.clone(), digest.clone());
        async move {
            let mut reader = match reader {
                Some(reader) => reader,
                None => BlobReader::open(
                    &client,
                    &repository,
                    &digest,
                    0,
                    Some(size),
                    Progress::none(),
                )
                .await?
                .unverified(),
            };
            Ok(reader.next().await?.map(|bytes| (bytes, Some(reader))))
        }
    })
}
