//! OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`),
//! as skopeo's and umoci's `oci:DIR:TAG` read and write them.
//!
//! Everything is written under a temporary name, synced, and renamed once
//! complete; the blob folders are synced once, before `index.json` is
//! written (last, under a lock), so a layout never names a blob it does
//! not hold, even after a crash.

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

    /// A layout to write into: its folders are created when missing; the
    /// `oci-layout` marker is [`Layout::mark`]'s.
    pub(crate) async fn create(root: &Path) -> Result<Self> {
        let blobs = root.join("blobs").join("sha256");
        tokio::fs::create_dir_all(&blobs)
            .await
            .map_err(|err| Error::io(&blobs, err))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Writes the `oci-layout` marker when it is missing; it can run while
    /// blobs are written. Its folder is synced by [`Layout::add_entry`].
    pub(crate) async fn mark(&self) -> Result<()> {
        let marker = self.root.join(LAYOUT_FILE);
        if tokio::fs::metadata(&marker).await.is_err() {
            let text = json!({ "imageLayoutVersion": "1.0.0" }).to_string();
            // Synced, renamed; the folder is synced with `index.json`'s.
            files::write_unsynced(&marker, text.into_bytes()).await?;
        }
        Ok(())
    }

    /// The path for a blob, its folder created when it is not the
    /// `blobs/sha256` that [`Layout::create`] made.
    pub(crate) async fn blob_target(&self, digest: &Digest) -> Result<PathBuf> {
        let path = self.blob_path(digest);
        if let Some(parent) = path.parent()
            && digest.algorithm_name() != "sha256"
        {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|err| Error::io(parent, err))?;
        }
        Ok(path)
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

    /// Writes a small blob (a manifest) under its digest: the file synced
    /// and renamed; its folder is synced by [`Layout::add_entry`].
    pub(crate) async fn write_blob(&self, digest: &Digest, bytes: Bytes) -> Result<()> {
        let path = self.blob_target(digest).await?;
        files::write_unsynced(&path, bytes.to_vec()).await
    }

    /// Adds `descriptor` to `index.json` as `name` (replacing an entry of
    /// that name), keeping every other entry and field as it was. The
    /// read, merge and write happen under an exclusive lock on the layout's
    /// folder (on Unix; elsewhere on `.index.json.lock`, created, then
    /// removed), so pulls into one layout (from tasks or processes) keep
    /// each other's entries. The
    /// blob folders are synced before the new `index.json` is renamed into
    /// place: an entry never names a blob that a crash could take away.
    pub(crate) async fn add_entry(
        &self,
        descriptor: &Descriptor,
        name: Option<&str>,
    ) -> Result<()> {
        // The layout's folder itself where the system can lock one (no
        // file to create and remove on every pull), else a lock file.
        let held = if cfg!(unix) {
            self.root.clone()
        } else {
            self.root.join(LOCK_FILE)
        };
        let _lock = files::lock(&held).await?;
        let root = self.root.clone();
        let descriptor = descriptor.clone();
        let name = name.map(str::to_owned);
        // One blocking call for the whole commit: it is on the critical
        // path of every pull.
        tokio::task::spawn_blocking(move || commit_entry(&root, &descriptor, name.as_deref()))
            .await
            .map_err(|err| Error::io(Path::new("index.json"), std::io::Error::other(err)))?
    }
}

/// Reads, merges and writes `index.json` (see [`Layout::add_entry`]); the
/// new file and the blob folders are synced at once, then the rename, then
/// the layout's folder.
fn commit_entry(root: &Path, descriptor: &Descriptor, name: Option<&str>) -> Result<()> {
    let path = root.join(INDEX_FILE);
    let current = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(Error::io(&path, err)),
    };
    let bytes = merged_index(current.as_deref(), descriptor, name, &path)?;
    let partial = files::Partial::beside(&path);
    let written = std::fs::File::create_new(partial.path()).and_then(|mut file| {
        use std::io::Write as _;
        file.write_all(&bytes)?;
        Ok(file)
    });
    let file = written.map_err(|err| Error::io(partial.path(), err))?;
    let blobs = root.join("blobs");
    std::thread::scope(|scope| {
        let folders = scope.spawn(|| sync_folders_in(&blobs));
        let synced = file
            .sync_all()
            .map_err(|err| Error::io(partial.path(), err));
        let folders = folders
            .join()
            .unwrap_or_else(|_| Err(Error::io(&blobs, std::io::Error::other("a sync panicked"))));
        synced.and(folders)
    })?;
    partial.place_blocking(&path)?;
    files::sync_parent(&path)
}

/// Syncs every folder in `blobs` (`blobs/sha256`, …), so blobs renamed
/// into place without a folder sync survive a crash.
fn sync_folders_in(blobs: &Path) -> Result<()> {
    let folders = std::fs::read_dir(blobs).map_err(|err| Error::io(blobs, err))?;
    for folder in folders {
        let folder = folder.map_err(|err| Error::io(blobs, err))?.path();
        if folder.is_dir() {
            files::sync_folder(&folder)?;
        }
    }
    Ok(())
}

/// `current` (an `index.json`, or none yet) with `descriptor` added as
/// `name`: an entry of that name is replaced; without a name, an unnamed
/// entry of the same digest is.
fn merged_index(
    current: Option<&[u8]>,
    descriptor: &Descriptor,
    name: Option<&str>,
    path: &Path,
) -> Result<Vec<u8>> {
    let mut index: Value = match current {
        Some(bytes) => serde_json::from_slice(bytes)
            .map_err(|err| Error::layout(path, format!("index.json is not JSON: {err}")))?,
        None => json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OciIndex.as_str(),
            "manifests": [],
        }),
    };
    let Some(entries) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
        return Err(Error::layout(path, "index.json has no manifests list"));
    };
    let mut entry = serde_json::to_value(descriptor)
        .map_err(|err| Error::layout(path, format!("a descriptor did not serialise: {err}")))?;
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
    serde_json::to_vec(&index)
        .map_err(|err| Error::layout(path, format!("index.json did not serialise: {err}")))
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
