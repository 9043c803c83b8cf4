//! The sync rows' source repositories, pushed once per run with the
//! library: small images sharing a base layer, and large images of
//! incompressible layers.

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
    /// 20 small tags; 10 tags of 4 x 8 MiB.
    pub(crate) const FULL: Self = Self {
        small_tags: 20,
        large_tags: 10,
        large_layers: 4,
        large_layer: 8 << 20,
    };
    /// The same small row; 4 large tags.
    pub(crate) const QUICK: Self = Self {
        large_tags: 4,
        ..Self::FULL
    };
}

/// The small images' shared base layer, and each one's own layer.
const BASE: usize = 256 << 10;
const UNIQUE: usize = 64 << 10;

/// Tags `v0`.. of small images: the shared base, a layer of their own.
pub(crate) async fn small(
    client: &RegistryClient,
    repo: &Reference,
    tags: usize,
) -> Result<(), String> {
    let base = push(client, repo, random(BASE, 1)).await?;
    for tag in 0..tags {
        let own = push(client, repo, random(UNIQUE, 100 + tag as u64)).await?;
        image(client, repo, tag, &[base.clone(), own]).await?;
    }
    Ok(())
}

/// Tags `v0`.. of `layers` incompressible layers each, none shared.
pub(crate) async fn large(
    client: &RegistryClient,
    repo: &Reference,
    sizes: SyncSizes,
) -> Result<(), String> {
    for tag in 0..sizes.large_tags {
        let mut layers = Vec::with_capacity(sizes.large_layers);
        for layer in 0..sizes.large_layers {
            let seed = 10_000 + (tag * sizes.large_layers + layer) as u64;
            layers.push(push(client, repo, random(sizes.large_layer, seed)).await?);
        }
        image(client, repo, tag, &layers).await?;
    }
    Ok(())
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
