//! The sync rows' source repositories, pushed once per run with the
//! library, several blobs and images at once: small images sharing a base
//! layer, and large images of incompressible layers.

use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use ghcr_registry::{BlobSource, RegistryClient, UploadOptions};
use ghcr_types::{Digest, Manifest, MediaType, Reference};
use serde_json::json;

/// How big the sync rows' images are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SyncSizes {
    /// Tags of small images (row a).
    pub(crate) small_tags: usize,
    /// Tags of large images (rows b and c).
    pub(crate) large_tags: usize,
    /// Layers of each large image.
    pub(crate) large_layers: usize,
    /// Bytes of each large layer (above the 4 MiB chunk size, so each is
    /// streamed, not sent from memory).
    pub(crate) large_layer: usize,
}

impl SyncSizes {
    /// Issue 14's rows: 200 small tags; 10 tags of 4 x 64 MiB.
    pub(crate) const FULL: Self = Self {
        small_tags: 200,
        large_tags: 10,
        large_layers: 4,
        large_layer: 64 << 20,
    };
    /// The same shapes, smaller: 20 small tags; 2 tags of 4 x 8 MiB.
    pub(crate) const QUICK: Self = Self {
        small_tags: 20,
        large_tags: 2,
        large_layers: 4,
        large_layer: 8 << 20,
    };
}

/// Each small image: 4 layers of 64 KiB, the first the base all share.
pub(crate) const SMALL_LAYERS: usize = 4;
pub(crate) const SMALL_LAYER: usize = 64 << 10;

/// Images (small) or layers (large) pushed at once.
const SMALL_AT_ONCE: usize = 8;
const LARGE_AT_ONCE: usize = 4;

/// A client for seeding: its memory budget holds `LARGE_AT_ONCE` large
/// layers sent from memory (the default 16 MiB would take them one by one).
pub(crate) fn client(transport: ghcr_transport::Transport) -> Result<RegistryClient, String> {
    RegistryClient::builder(transport)
        .memory_budget(512 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Tags `v0`.. of small images: the shared base and 3 layers of their own.
pub(crate) async fn small(
    client: &RegistryClient,
    repo: &Reference,
    tags: usize,
) -> Result<(), String> {
    let base = push(client, repo, random(SMALL_LAYER, 1)).await?;
    let base = &base;
    stream::iter(0..tags)
        .map(|tag| async move {
            let mut layers = vec![base.clone()];
            for layer in 1..SMALL_LAYERS {
                let seed = 100 + (tag * SMALL_LAYERS + layer) as u64;
                layers.push(push(client, repo, random(SMALL_LAYER, seed)).await?);
            }
            image(client, repo, tag, &layers).await
        })
        .buffer_unordered(SMALL_AT_ONCE)
        .try_collect::<()>()
        .await
}

/// Tags `v0`.. of `layers` incompressible layers each, none shared.
pub(crate) async fn large(
    client: &RegistryClient,
    repo: &Reference,
    sizes: SyncSizes,
) -> Result<(), String> {
    let (each, count) = (sizes.large_layers, sizes.large_tags * sizes.large_layers);
    let layers: Vec<(usize, Layer)> = stream::iter(0..count)
        .map(|n| async move {
            let bytes = random(sizes.large_layer, 10_000 + n as u64);
            Ok::<_, String>((n, push(client, repo, bytes).await?))
        })
        .buffer_unordered(LARGE_AT_ONCE)
        .try_collect()
        .await?;
    let mut layers = layers;
    layers.sort_by_key(|(n, _)| *n);
    let layers: Vec<Layer> = layers.into_iter().map(|(_, layer)| layer).collect();
    stream::iter(layers.chunks(each).enumerate())
        .map(|(tag, layers)| image(client, repo, tag, layers))
        .buffer_unordered(SMALL_AT_ONCE)
        .try_collect::<()>()
        .await
}

/// A layer's digest and size.
type Layer = (Digest, usize);

async fn push(client: &RegistryClient, repo: &Reference, bytes: Vec<u8>) -> Result<Layer, String> {
    let size = bytes.len();
    let pushed = client
        .push_blob(repo, BlobSource::bytes(bytes), &UploadOptions::new())
        .await
        .map_err(|e| e.to_string())?;
    Ok((pushed.digest, size))
}

/// A config naming the tag (so each image is its own), the manifest, `v{tag}`.
async fn image(
    client: &RegistryClient,
    repo: &Reference,
    tag: usize,
    layers: &[Layer],
) -> Result<(), String> {
    let descriptors: Vec<_> = layers
        .iter()
        .map(|(digest, size)| {
            json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest.as_str(),
                "size": size,
            })
        })
        .collect();
    let diff_ids: Vec<_> = descriptors.iter().map(|d| d["digest"].clone()).collect();
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": { "bench.tag": tag.to_string() } },
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    })
    .to_string()
    .into_bytes();
    let config_size = config.len();
    let (config_digest, _) = push(client, repo, config).await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest.as_str(),
            "size": config_size,
        },
        "layers": descriptors,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let manifest = Manifest::from_bytes(bytes, Some(MediaType::OciManifest.as_str()))
        .map_err(|e| e.to_string())?;
    let tagged = repo
        .with_tag(&format!("v{tag}"))
        .map_err(|e| e.to_string())?;
    client
        .put_manifest(&tagged, &manifest)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// xorshift bytes: incompressible, the same for the same seed.
fn random(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(size + 8);
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}
