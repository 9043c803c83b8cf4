//! The benchmark's images: OCI layouts of incompressible layers, written
//! once per run.

use std::io::Write;
use std::path::Path;

use ghcr_types::{Algorithm, Digest, DigestHasher};
use serde_json::json;

/// One image written as a layout.
pub(crate) struct Image {
    /// Its layout folder.
    pub(crate) dir: std::path::PathBuf,
    /// Blob bytes (config and layers).
    pub(crate) bytes: u64,
    /// The first layer's digest and file, for curl.
    pub(crate) first_layer: (Digest, std::path::PathBuf),
}

/// Writes a layout with `layers` layers of `layer_size` bytes, tagged `v1`.
pub(crate) fn write(
    dir: &Path,
    layers: usize,
    layer_size: usize,
    seed: u64,
) -> Result<Image, String> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| e.to_string())?;
    let mut descriptors = Vec::new();
    let mut total = 0u64;
    let mut first = None;
    for layer in 0..layers {
        let (digest, path) = write_random(&blobs, layer_size, seed + layer as u64)?;
        descriptors.push(json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest.as_str(),
            "size": layer_size,
        }));
        total += layer_size as u64;
        first.get_or_insert((digest, path));
    }
    let written = write_manifest(&blobs, &descriptors)?;
    total += written.config_size as u64;
    write_index(dir, &[written.entry("v1")])?;
    Ok(Image {
        dir: dir.to_path_buf(),
        bytes: total,
        first_layer: first.ok_or("an image needs a layer")?,
    })
}

/// An image manifest written into a layout's blobs.
pub(crate) struct Written {
    digest: Digest,
    size: usize,
    /// Bytes of its config blob.
    pub(crate) config_size: usize,
}

impl Written {
    /// Its entry in `index.json`, tagged `tag`.
    pub(crate) fn entry(&self, tag: &str) -> serde_json::Value {
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": self.digest.as_str(),
            "size": self.size,
            "annotations": { "org.opencontainers.image.ref.name": tag },
        })
    }
}

/// Writes a config naming the layers' digests as diff IDs, and the image
/// manifest of `layers` (their descriptors), into `blobs`.
pub(crate) fn write_manifest(
    blobs: &Path,
    layers: &[serde_json::Value],
) -> Result<Written, String> {
    let diff_ids: Vec<_> = layers.iter().map(|d| d["digest"].clone()).collect();
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    })
    .to_string();
    let config_digest = write_blob(blobs, config.as_bytes())?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest.as_str(),
            "size": config.len(),
        },
        "layers": layers,
    })
    .to_string();
    Ok(Written {
        digest: write_blob(blobs, manifest.as_bytes())?,
        size: manifest.len(),
        config_size: config.len(),
    })
}

/// Writes the layout's `index.json` of `entries` and its `oci-layout`.
pub(crate) fn write_index(dir: &Path, entries: &[serde_json::Value]) -> Result<(), String> {
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    std::fs::write(dir.join("index.json"), index.to_string()).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .map_err(|e| e.to_string())
}

pub(crate) fn write_blob(blobs: &Path, bytes: &[u8]) -> Result<Digest, String> {
    let digest = Digest::sha256_of(bytes);
    std::fs::write(blobs.join(digest.encoded()), bytes).map_err(|e| e.to_string())?;
    Ok(digest)
}

/// xorshift bytes: incompressible, hashed while written.
pub(crate) fn write_random(
    blobs: &Path,
    size: usize,
    seed: u64,
) -> Result<(Digest, std::path::PathBuf), String> {
    let temporary = blobs.join(format!(".layer-{seed}"));
    let mut file = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(&temporary).map_err(|e| e.to_string())?,
    );
    let mut hasher = DigestHasher::new(Algorithm::Sha256);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let piece = &block[..left.min(block.len())];
        hasher.update(piece);
        file.write_all(piece).map_err(|e| e.to_string())?;
        left -= piece.len();
    }
    file.flush().map_err(|e| e.to_string())?;
    let digest = hasher.finish();
    let path = blobs.join(digest.encoded());
    std::fs::rename(&temporary, &path).map_err(|e| e.to_string())?;
    Ok((digest, path))
}
