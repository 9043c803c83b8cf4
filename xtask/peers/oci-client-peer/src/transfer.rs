//! The transfer rows: push a layout, pull into a folder, copy between
//! repositories, each blob through oci-client's own call for it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{StreamExt, TryStreamExt};
use http::HeaderValue;
use oci_client::Reference;
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE, OciDescriptor};
use tokio_util::io::ReaderStream;

use crate::layout::{self, Image};
use crate::{CONCURRENCY, Peer};

/// The read size of each pushed file: the stream's chunks.
const CHUNK: usize = 1 << 20;

/// What a manifest GET accepts.
pub(crate) const ACCEPTED: [&str; 2] = [OCI_IMAGE_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE];

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn size(blob: &OciDescriptor) -> Result<u64, String> {
    u64::try_from(blob.size).map_err(text)
}

/// Each blob the registry lacks, streamed from its file in one PUT, then
/// the manifest's bytes as they are in the layout.
pub(crate) async fn push(peer: &Peer, dir: &Path, image: &Reference) -> Result<String, String> {
    let (moved, sent) = push_named(peer, dir, "v1", image).await?;
    Ok(format!("{moved} {sent}"))
}

/// The layout's manifest `name` pushed as [`push`] does: blob bytes moved
/// and request body bytes sent.
pub(crate) async fn push_named(
    peer: &Peer,
    dir: &Path,
    name: &str,
    image: &Reference,
) -> Result<(u64, u64), String> {
    peer.sign_in(image).await;
    let layout = layout::read_named(dir, name)?;
    let sent = Arc::new(AtomicU64::new(0));
    let moved = futures_util::stream::iter(&layout.blobs)
        .map(|blob| push_blob(peer, dir, image, blob, sent.clone()))
        .buffer_unordered(CONCURRENCY)
        .try_fold(0, |all, one| async move { Ok(all + one) })
        .await?;
    let manifest = put_manifest(peer, image, &layout).await?;
    Ok((moved, sent.load(Ordering::Relaxed) + manifest))
}

async fn push_blob(
    peer: &Peer,
    dir: &Path,
    image: &Reference,
    blob: &OciDescriptor,
    sent: Arc<AtomicU64>,
) -> Result<u64, String> {
    if peer
        .client
        .blob_exists(image, &blob.digest)
        .await
        .map_err(text)?
    {
        return Ok(0);
    }
    let path = layout::blob_path(dir, &blob.digest)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let stream = ReaderStream::with_capacity(file, CHUNK)
        .map_ok(move |bytes| {
            sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            bytes
        })
        .map_err(OciDistributionError::from);
    let size = size(blob)?;
    peer.client
        .push_blob_stream(image, stream, &blob.digest, Some(size))
        .await
        .map_err(text)?;
    Ok(size)
}

/// The manifest's bytes under the reference's tag; the bytes sent.
async fn put_manifest(peer: &Peer, image: &Reference, layout: &Image) -> Result<u64, String> {
    let content_type = HeaderValue::from_str(&layout.media_type).map_err(text)?;
    peer.client
        .push_manifest_raw(image, layout.manifest.clone(), content_type)
        .await
        .map_err(text)?;
    Ok(layout.manifest.len() as u64)
}

/// The manifest, then every blob verified (by `pull_blob`) into
/// `dir/blobs/`, and an `index.json` naming the manifest.
pub(crate) async fn pull(peer: &Peer, image: &Reference, dir: &Path) -> Result<String, String> {
    let moved = pull_counted(peer, image, dir).await?;
    Ok(format!("{moved} 0"))
}

/// [`pull`]'s work: the blob bytes moved.
pub(crate) async fn pull_counted(
    peer: &Peer,
    image: &Reference,
    dir: &Path,
) -> Result<u64, String> {
    let (manifest, digest) = peer
        .client
        .pull_manifest_raw(image, &peer.auth, &ACCEPTED)
        .await
        .map_err(text)?;
    let pulled = layout::parse(manifest.to_vec())?;
    let blobs = dir.join("blobs/sha256");
    tokio::fs::create_dir_all(&blobs).await.map_err(text)?;
    let moved = futures_util::stream::iter(&pulled.blobs)
        .map(|blob| pull_blob(peer, image, blob, dir))
        .buffer_unordered(CONCURRENCY)
        .try_fold(0, |all, one| async move { Ok(all + one) })
        .await?;
    tokio::fs::write(layout::blob_path(dir, &digest)?, &manifest)
        .await
        .map_err(text)?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": pulled.media_type,
            "digest": digest,
            "size": manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": "v1" },
        }],
    });
    tokio::fs::write(dir.join("index.json"), index.to_string())
        .await
        .map_err(text)?;
    Ok(moved)
}

async fn pull_blob(
    peer: &Peer,
    image: &Reference,
    blob: &OciDescriptor,
    dir: &Path,
) -> Result<u64, String> {
    let path = layout::blob_path(dir, &blob.digest)?;
    let file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let out = tokio::io::BufWriter::with_capacity(CHUNK, file);
    peer.client
        .pull_blob(image, blob, out)
        .await
        .map_err(text)?;
    size(blob)
}

/// Every blob mounted from `source` into `target`, then the manifest.
pub(crate) async fn copy(
    peer: &Peer,
    source: &Reference,
    target: &Reference,
) -> Result<String, String> {
    let (manifest, _) = peer
        .client
        .pull_manifest_raw(source, &peer.auth, &ACCEPTED)
        .await
        .map_err(text)?;
    peer.sign_in(target).await;
    let image = layout::parse(manifest.to_vec())?;
    let moved = futures_util::stream::iter(&image.blobs)
        .map(|blob| async move {
            peer.client
                .mount_blob(target, source, &blob.digest)
                .await
                .map_err(text)?;
            size(blob)
        })
        .buffer_unordered(CONCURRENCY)
        .try_fold(0, |all, one| async move { Ok(all + one) })
        .await?;
    let sent = put_manifest(peer, target, &image).await?;
    Ok(format!("{moved} {sent}"))
}
