//! OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`),
//! as skopeo's and umoci's `oci:DIR:TAG` read and write them.
//!
//! Everything is written under a temporary name, synced, and renamed once
//! complete, `index.json` last (under a lock), so a layout never names a
//! blob it does not hold.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, MAX_MANIFEST_SIZE, Manifest, MediaType};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::files;

/// The annotation naming an entry of `index.json` (the `TAG` of `oci:DIR:TAG`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub(crate) const LAYOUT_FILE: &str = "oci-layout";
pub(crate) const INDEX_FILE: &str = "index.json";
const LOCK_FILE: &str = ".index.json.lock";

/// A layout folder.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// An existing layout, checked for its `oci-layout` marker.
    pub(crate) async fn open(root: &Path) -> Result<Self> {
        let marker = root.join(LAYOUT_FILE);
        let text = tokio::fs::read(&marker)
            .await
            .map_err(|err| Error::layout(&marker, format!("not an OCI image layout ({err})")))?;
        let version = serde_json::from_slice::<Value>(&text)
            .ok()
            .and_then(|v| v.get("imageLayoutVersion")?.as_str().map(str::to_owned));
        if version.as_deref() != Some("1.0.0") {
            return Err(Error::layout(&marker, "imageLayoutVersion is not 1.0.0"));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// A layout to write into, created when missing.
    pub(crate) async fn create(root: &Path) -> Result<Self> {
        let blobs = root.join("blobs").join("sha256");
        tokio::fs::create_dir_all(&blobs)
            .await
            .map_err(|err| Error::io(&blobs, err))?;
        let layout = Self {
            root: root.to_path_buf(),
        };
        let marker = root.join(LAYOUT_FILE);
        if tokio::fs::metadata(&marker).await.is_err() {
            let text = json!({ "imageLayoutVersion": "1.0.0" }).to_string();
            files::write_atomically(&marker, text.into_bytes()).await?;
        }
        Ok(layout)
    }

    /// `blobs/<alg>/<encoded>`.
    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm_name())
            .join(digest.encoded())
    }

    /// The entries of `index.json`.
    pub(crate) async fn entries(&self) -> Result<Vec<Descriptor>> {
        let path = self.root.join(INDEX_FILE);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|err| Error::io(&path, err))?;
        let index = Manifest::from_bytes(bytes, Some(MediaType::OciIndex.as_str()))
            .map_err(|err| Error::layout(&path, err.to_string()))?;
        if !index.is_index() {
            return Err(Error::layout(&path, "index.json is not an image index"));
        }
        Ok(index.children().to_vec())
    }

    /// The entry named `name`, or the only entry when no name is given.
    pub(crate) async fn select(&self, name: Option<&str>) -> Result<Descriptor> {
        let entries = self.entries().await?;
        select_entry(&entries, name)
            .map_err(|reason| Error::layout(&self.root.join(INDEX_FILE), reason))
    }

    /// A manifest blob, checked against its descriptor.
    pub(crate) async fn read_manifest(&self, descriptor: &Descriptor) -> Result<Manifest> {
        let digest = Digest::try_from(descriptor.digest())?;
        let path = self.blob_path(&digest);
        if descriptor.size() > MAX_MANIFEST_SIZE as u64 {
            return Err(Error::layout(&path, "the manifest is larger than 4 MiB"));
        }
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|err| Error::io(&path, err))?;
        checked_manifest(bytes.into(), descriptor, &digest, &path.display())
    }

    /// Whether the blob is there and complete (size and digest checked).
    pub(crate) async fn has_blob(&self, digest: &Digest, size: u64) -> Result<bool> {
        let path = self.blob_path(digest);
        match tokio::fs::metadata(&path).await {
            Ok(metadata) if metadata.len() == size => {}
            _ => return Ok(false),
        }
        let digest = digest.clone();
        tokio::task::spawn_blocking(move || hash_file(&path, &digest))
            .await
            .map_err(|err| Error::Io {
                path: "a layout blob".into(),
                source: std::io::Error::other(err),
            })?
    }

    /// Writes a small blob (a manifest) under its digest.
    pub(crate) async fn write_blob(&self, digest: &Digest, bytes: Bytes) -> Result<()> {
        let path = self.blob_path(digest);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|err| Error::io(parent, err))?;
        }
        files::write_atomically(&path, bytes.to_vec()).await
    }

    /// Adds `descriptor` to `index.json` as `name` (replacing an entry of
    /// that name), keeping every other entry and field as it was. The
    /// read, merge and write happen under an exclusive lock on
    /// `.index.json.lock` (created, then removed), so pulls into one
    /// layout (from tasks or processes) keep each other's entries.
    pub(crate) async fn add_entry(
        &self,
        descriptor: &Descriptor,
        name: Option<&str>,
    ) -> Result<()> {
        let path = self.root.join(INDEX_FILE);
        let _lock = files::lock(&self.root.join(LOCK_FILE)).await?;
        let mut index: Value = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|err| Error::layout(&path, format!("index.json is not JSON: {err}")))?,
            Err(_) => json!({
                "schemaVersion": 2,
                "mediaType": MediaType::OciIndex.as_str(),
                "manifests": [],
            }),
        };
        let Some(entries) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(Error::layout(&path, "index.json has no manifests list"));
        };
        let mut entry = serde_json::to_value(descriptor).map_err(|err| {
            Error::layout(&path, format!("a descriptor did not serialise: {err}"))
        })?;
        if let Some(name) = name {
            entries.retain(|e| {
                e.get("annotations")
                    .and_then(|a| a.get(REF_NAME))
                    .and_then(Value::as_str)
                    != Some(name)
            });
            entry["annotations"][REF_NAME] = json!(name);
        } else {
            let digest = descriptor.digest().to_string();
            entries.retain(|e| {
                e.get("digest").and_then(Value::as_str) != Some(digest.as_str())
                    || e.get("annotations").is_some()
            });
        }
        entries.push(entry);
        let bytes = serde_json::to_vec(&index)
            .map_err(|err| Error::layout(&path, format!("index.json did not serialise: {err}")))?;
        files::write_atomically(&path, bytes).await
    }
}

/// A manifest read from `place`, checked against its descriptor: size,
/// parse, and digest.
pub(crate) fn checked_manifest(
    bytes: Bytes,
    descriptor: &Descriptor,
    digest: &Digest,
    place: &dyn std::fmt::Display,
) -> Result<Manifest> {
    if bytes.len() as u64 != descriptor.size() {
        return Err(Error::SizeMismatch {
            digest: digest.clone(),
            expected: descriptor.size(),
            actual: bytes.len() as u64,
        });
    }
    let manifest = Manifest::from_bytes(bytes, Some(descriptor.media_type().as_ref()))?;
    if let Err(ghcr_types::Error::DigestMismatch { actual, .. }) = manifest.verify(digest) {
        return Err(Error::mismatch(place.to_string(), digest, actual));
    }
    Ok(manifest)
}

/// The entry of an `index.json` named `name` (its
/// `org.opencontainers.image.ref.name`), or the only entry when no name is
/// given; else what is wrong, with the names there are.
pub(crate) fn select_entry(
    entries: &[Descriptor],
    name: Option<&str>,
) -> std::result::Result<Descriptor, String> {
    let name_of = |d: &Descriptor| {
        d.annotations()
            .as_ref()
            .and_then(|a| a.get(REF_NAME))
            .cloned()
    };
    let found = match name {
        Some(name) => entries
            .iter()
            .find(|d| name_of(d).as_deref() == Some(name))
            .cloned(),
        None if entries.len() == 1 => entries.first().cloned(),
        None => None,
    };
    found.ok_or_else(|| {
        let names: Vec<String> = entries.iter().filter_map(name_of).collect();
        format!(
            "{} is not among its {} entries; name one of: {}",
            name.map_or_else(|| "no name given and it".to_owned(), |n| format!("`{n}`")),
            entries.len(),
            if names.is_empty() {
                "(none are named)".to_owned()
            } else {
                names.join(", ")
            }
        )
    })
}

/// Hashes a file in 1 MiB reads; whether it has `digest`.
fn hash_file(path: &Path, digest: &Digest) -> Result<bool> {
    let Some(algorithm) = digest.algorithm() else {
        return Ok(false);
    };
    let mut file = std::fs::File::open(path).map_err(|err| Error::io(path, err))?;
    let (actual, _) = files::copy_hashed(&mut file, &mut std::io::sink(), algorithm)
        .map_err(|err| Error::io(path, err))?;
    Ok(actual == *digest)
}

#[cfg(test)]
mod tests;
