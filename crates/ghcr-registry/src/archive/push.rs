//! Pushing a tarball's image without unpacking it: a plain tar's members
//! are sent in place (in parallel, each re-readable when an upload
//! resumes); a gzip tar is decompressed once, in order, each member
//! streamed to its upload as it comes. Manifests go up last, so a failed
//! push never moves a tag.

use std::io::{BufReader, Read};
use std::path::Path;

use bytes::Bytes;
use ghcr_types::Reference;
use tokio::sync::mpsc;

use super::catalog::{Catalog, Compression, Member};
use super::image::ArchiveImages;
use crate::blobs::{BlobSource, PushedBlob};
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::image::{BlobRef, PushReport, Tree, narrow};
use crate::options::TransferOptions;

/// Pieces a gzip member is streamed in.
const PIECE: usize = 1024 * 1024;

impl RegistryClient {
    /// Pushes the image a tarball holds (a `docker save` archive or an OCI
    /// layout tarball, plain or gzip-compressed: told apart by content),
    /// named `name` inside it (a tag, or a docker `repo:tag`; the only one
    /// when `None`), and tags it as `target` says. OCI layouts keep their
    /// digests and platforms (narrowed by the options' platform); a docker
    /// image gets an OCI manifest over its config and layers as stored.
    ///
    /// Every member the image needs is checked (present, right size, no
    /// name leaving the tarball) before anything is sent, each blob is
    /// verified against its digest on the way, and manifests go last.
    ///
    /// # Errors
    ///
    /// [`Error::Archive`] for an unreadable, truncated, hostile or
    /// incomplete tarball, [`Error::DigestMismatch`] for a member that is
    /// not what its name says, and the errors of
    /// [`RegistryClient::push_blob`] and [`RegistryClient::put_manifest`].
    pub async fn push_archive(
        &self,
        archive: &Path,
        name: Option<&str>,
        target: &Reference,
        options: &TransferOptions,
    ) -> Result<PushReport> {
        let images = open(archive).await?;
        let entry = images.select(name)?;
        let top = images.read_manifest(&entry)?;
        let (top, _) = narrow(top, options.platform.as_ref(), target, |child| {
            std::future::ready(images.read_manifest(&child))
        })
        .await?;
        if let Some(platform) = options.platform.as_ref().filter(|_| !top.is_index()) {
            images.check_platform(&top, platform)?;
        }
        let tree = Tree::walk(top, |child| {
            std::future::ready(images.read_manifest(&child))
        })
        .await?;
        let located = tree
            .blobs
            .iter()
            .map(|blob| Ok((blob.clone(), images.locate(blob)?.clone())))
            .collect::<Result<Vec<(BlobRef, Member)>>>()?;
        let blobs = match images.catalog.compression {
            Compression::None => {
                self.push_in_place(&images.catalog.path, located, target, options)
                    .await?
            }
            Compression::Gzip => {
                self.push_in_order(&images.catalog, located, target, options)
                    .await?
            }
        };
        let digest = self.put_tree_manifests(target, &tree).await?;
        Ok(PushReport {
            digest,
            manifest: tree.top,
            blobs,
        })
    }

    /// Members of a plain tar, read in place, in parallel.
    async fn push_in_place(
        &self,
        path: &Path,
        located: Vec<(BlobRef, Member)>,
        target: &Reference,
        options: &TransferOptions,
    ) -> Result<Vec<PushedBlob>> {
        let sources = located
            .into_iter()
            .map(|(blob, member)| {
                match member.content {
                    Some(bytes) => BlobSource::bytes(bytes),
                    None => BlobSource::file_range(path, member.offset, member.size),
                }
                .with_digest(blob.digest)
                .with_size(blob.size)
            })
            .collect();
        self.push_sources(target, sources, options).await
    }

    /// Members of a gzip tar, in the order they are stored, from one
    /// decompression on the blocking pool.
    async fn push_in_order(
        &self,
        catalog: &Catalog,
        mut located: Vec<(BlobRef, Member)>,
        target: &Reference,
        options: &TransferOptions,
    ) -> Result<Vec<PushedBlob>> {
        let repository = target.without_tag_or_digest();
        let upload = options.upload_options();
        located.sort_by_key(|(_, member)| member.offset);
        let (streamed, in_memory): (Vec<_>, Vec<_>) = located
            .into_iter()
            .partition(|(_, member)| member.content.is_none());
        let in_memory = in_memory
            .into_iter()
            .map(|(blob, member)| {
                BlobSource::bytes(member.content.unwrap_or_default())
                    .with_digest(blob.digest)
                    .with_size(blob.size)
            })
            .collect();
        let mut pushed = self.push_sources(target, in_memory, options).await?;
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for (_, member) in &streamed {
            let (sender, receiver) = mpsc::channel::<std::io::Result<Bytes>>(4);
            senders.push((member.offset, member.size, sender));
            receivers.push(receiver);
        }
        let path = catalog.path.clone();
        let reader = tokio::task::spawn_blocking(move || feed_members(&path, &senders));
        for ((blob, _), receiver) in streamed.into_iter().zip(receivers) {
            let pieces = futures_util::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|piece| (piece, receiver))
            });
            let source = BlobSource::stream(pieces, Some(blob.size)).with_digest(blob.digest);
            pushed.push(self.push_blob(&repository, source, &upload).await?);
        }
        reader
            .await
            .map_err(|err| Error::io(&catalog.path, std::io::Error::other(err)))?;
        Ok(pushed)
    }
}

/// Catalogues a tarball on the blocking pool and reads its images.
pub(super) async fn open(archive: &Path) -> Result<ArchiveImages> {
    let path = archive.to_path_buf();
    let catalog = tokio::task::spawn_blocking(move || Catalog::read(&path))
        .await
        .map_err(|err| Error::io(archive, std::io::Error::other(err)))??;
    ArchiveImages::open(catalog)
}

/// Decompresses the gzip tar at `path` once, sending each wanted member
/// (by offset, in order) to its sender in pieces. A member whose upload
/// was skipped (the registry had it) has a closed sender and is passed
/// over; a read error goes to the member being sent.
fn feed_members(path: &Path, senders: &[(u64, u64, mpsc::Sender<std::io::Result<Bytes>>)]) {
    let mut stream = match std::fs::File::open(path) {
        Ok(file) => flate2::read::GzDecoder::new(BufReader::new(file)),
        Err(err) => {
            if let Some((_, _, sender)) = senders.first() {
                let _ = sender.blocking_send(Err(err));
            }
            return;
        }
    };
    let mut at = 0u64;
    for (index, (offset, size, sender)) in senders.iter().enumerate() {
        if senders.iter().skip(index).all(|(_, _, s)| s.is_closed()) {
            // Nothing further is wanted (the push stopped, or had it all).
            return;
        }
        let (offset, size) = (*offset, *size);
        let skipped = std::io::copy(
            &mut (&mut stream).take(offset.saturating_sub(at)),
            &mut std::io::sink(),
        );
        if let Err(err) = skipped {
            let _ = sender.blocking_send(Err(err));
            return;
        }
        at = offset;
        let mut left = size;
        let mut open = true;
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(PIECE).min(PIECE);
            let mut piece = vec![0u8; want];
            if let Err(err) = stream.read_exact(&mut piece) {
                let _ = sender.blocking_send(Err(err));
                return;
            }
            left -= want as u64;
            at += want as u64;
            if open && sender.blocking_send(Ok(Bytes::from(piece))).is_err() {
                // The upload did not need the bytes: read past them.
                open = false;
            }
        }
    }
}
