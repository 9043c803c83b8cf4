//! Pulling artifacts into a folder: every title checked before anything is
//! written, then each titled layer downloaded, verified, and only then
//! renamed over whatever file had its name.

use std::path::{Path, PathBuf};

use ghcr_types::{Digest, Manifest, MediaType, Reference};

use super::{TITLE, title};
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::options::TransferOptions;

/// A file an artifact pull wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PulledFile {
    /// Its title in the manifest.
    pub title: String,
    /// Where it was written: the folder joined with the title.
    pub path: PathBuf,
    /// The layer's digest, which the bytes were checked against.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The layer's media type.
    pub media_type: MediaType,
}

/// What an artifact pull did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ArtifactPullReport {
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest.
    pub manifest: Manifest,
    /// The files written, in the manifest's order.
    pub files: Vec<PulledFile>,
    /// Layers without a title, which were not written.
    pub skipped: Vec<Digest>,
}

impl ArtifactPullReport {
    /// The bytes of the files written.
    pub fn bytes_downloaded(&self) -> u64 {
        self.files
            .iter()
            .fold(0, |total, file| total.saturating_add(file.size))
    }
}

impl RegistryClient {
    /// Pulls the files of the artifact `reference` names into `dir`
    /// (created when missing), each as `dir/<title>`, as `oras pull` does.
    ///
    /// Every title is checked before anything is written: an absolute
    /// path, a `..`, `.` or empty component, a NUL byte or a backslash, a
    /// title used twice, and a path through a symbolic link in `dir` are
    /// refused. Each layer is then hashed as it arrives into a temporary
    /// file renamed to its title only once its digest checks out, so an
    /// existing file is replaced only by a verified one. Layers without a
    /// title are skipped (see [`ArtifactPullReport::skipped`]); the config
    /// is not downloaded; a folder packed by `oras push DIR` is written as
    /// its tarball.
    ///
    /// # Errors
    ///
    /// [`Error::UnsafeTitle`], [`Error::InvalidReference`] for an index,
    /// [`Error::DigestMismatch`], [`Error::SizeMismatch`], [`Error::Io`],
    /// and the errors of [`RegistryClient::get_manifest`].
    pub async fn pull_artifact(
        &self,
        reference: &Reference,
        dir: &Path,
        options: &TransferOptions,
    ) -> Result<ArtifactPullReport> {
        let manifest = self.get_manifest(reference).await?;
        let Some(image) = manifest.as_image() else {
            return Err(Error::reference(
                reference,
                "it names an index, not an artifact; pull one of its manifests by digest",
            ));
        };
        let mut wanted = Vec::new();
        let mut skipped = Vec::new();
        for layer in image.layers() {
            let digest = Digest::try_from(layer.digest())?;
            match layer.annotations().as_ref().and_then(|a| a.get(TITLE)) {
                Some(title) => wanted.push(PulledFile {
                    title: title.clone(),
                    path: dir.join(title),
                    digest,
                    size: layer.size(),
                    media_type: MediaType::from(layer.media_type()),
                }),
                None => skipped.push(digest),
            }
        }
        let refuse = |title: &str, reason| Error::UnsafeTitle {
            reference: reference.to_string(),
            title: title.to_owned(),
            reason,
        };
        title::check_all(wanted.iter().map(|file| file.title.as_str()))
            .map_err(|(title, reason)| refuse(title, reason))?;
        for file in &wanted {
            if through_link(dir, &file.title)? {
                return Err(refuse(
                    &file.title,
                    "leads through a symbolic link in the folder",
                ));
            }
        }

        for file in &wanted {
            if let Some(parent) = file.path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|err| Error::io(parent, err))?;
            }
        }
        let repository = reference.without_tag_or_digest();
        self.in_parallel(
            wanted.iter().collect(),
            options.concurrency,
            |file: &PulledFile| {
                let repository = &repository;
                async move {
                    self.download_blob(
                        repository,
                        &file.digest,
                        Some(file.size),
                        &file.path,
                        &options.progress,
                    )
                    .await
                }
            },
        )
        .await?;
        Ok(ArtifactPullReport {
            digest: manifest.digest().clone(),
            manifest,
            files: wanted,
            skipped,
        })
    }
}

/// Whether a folder on the way from `dir` to `dir/<title>` is a symbolic
/// link (which could point out of `dir`).
fn through_link(dir: &Path, title: &str) -> Result<bool> {
    let mut path = dir.to_path_buf();
    let mut parts = title.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(found) if found.file_type().is_symlink() => return Ok(true),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(err) => return Err(Error::io(&path, err)),
        }
    }
    Ok(false)
}
