//! Reads what the rows need from an OCI layout or a manifest: the
//! manifest named `v1` (or another name) and the blobs it points at.

use std::path::{Path, PathBuf};

use oci_client::manifest::OciDescriptor;
use serde_json::Value;

/// A manifest's raw bytes, its media type and its blobs (config first).
pub(crate) struct Image {
    pub(crate) manifest: Vec<u8>,
    pub(crate) media_type: String,
    pub(crate) blobs: Vec<OciDescriptor>,
}

/// The manifest tagged `name` (else the first) in the layout at `dir`.
pub(crate) fn read_named(dir: &Path, name: &str) -> Result<Image, String> {
    let index: Value = serde_json::from_slice(&read_file(&dir.join("index.json"))?)
        .map_err(|e| format!("index.json: {e}"))?;
    let entries = index["manifests"]
        .as_array()
        .ok_or("index.json has no manifests")?;
    let entry = entries
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == name)
        .or_else(|| entries.first())
        .ok_or("index.json lists no manifest")?;
    let digest = entry["digest"]
        .as_str()
        .ok_or("a manifest without a digest")?;
    let manifest = read_file(&blob_path(dir, digest)?)?;
    parse(manifest)
}

/// The blobs of a manifest's bytes.
pub(crate) fn parse(manifest: Vec<u8>) -> Result<Image, String> {
    let value: Value =
        serde_json::from_slice(&manifest).map_err(|e| format!("the manifest: {e}"))?;
    let media_type = value["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_owned();
    let mut blobs = vec![descriptor(&value["config"])?];
    for layer in value["layers"]
        .as_array()
        .ok_or("a manifest without layers")?
    {
        blobs.push(descriptor(layer)?);
    }
    Ok(Image {
        manifest,
        media_type,
        blobs,
    })
}

fn descriptor(value: &Value) -> Result<OciDescriptor, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("a descriptor: {e}"))
}

/// `dir/blobs/<algorithm>/<hex>`.
pub(crate) fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf, String> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| format!("`{digest}` is not a digest"))?;
    Ok(dir.join("blobs").join(algorithm).join(hex))
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}
