//! Pushing artifacts: each file one layer titled with its name, streamed
//! from disk; the OCI empty config; blobs first, in parallel, and the
//! manifest last, so a failed push never moves a tag.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ghcr_types::oci::Descriptor;
use ghcr_types::{MediaType, Reference};
use serde_json::{Value, json};

use super::{TITLE, title};
use crate::blobs::{BlobSource, PushedBlob};
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::image::PushReport;
use crate::manifests::not_found;
use crate::options::TransferOptions;

/// The OCI empty JSON, an artifact's config (and its one layer when it has
/// no file), as OCI 1.1 recommends.
const EMPTY_JSON: &[u8] = b"{}";

/// One file of an artifact: where it is, its media type and its title.
///
/// ```
/// use ghcr_registry::ArtifactFile;
///
/// let sbom = ArtifactFile::new("dist/sbom.spdx.json")
///     .media_type("application/spdx+json".parse()?);
/// assert_eq!(sbom.path(), std::path::Path::new("dist/sbom.spdx.json"));
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ArtifactFile {
    path: PathBuf,
    media_type: MediaType,
    title: Option<String>,
}

impl ArtifactFile {
    /// The media type of a file that names none, as `oras push` uses.
    pub const DEFAULT_MEDIA_TYPE: MediaType = MediaType::OciLayerTar;

    /// The file at `path`, read when the push starts.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            media_type: Self::DEFAULT_MEDIA_TYPE,
            title: None,
        }
    }

    /// The layer's media type. Default: [`Self::DEFAULT_MEDIA_TYPE`].
    #[must_use]
    pub fn media_type(mut self, media_type: MediaType) -> Self {
        self.media_type = media_type;
        self
    }

    /// The name it is pulled as (its `org.opencontainers.image.title`):
    /// a relative path. Default: the file's name, without its folder.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The title given, else the file's name; the reason when there is none.
    fn resolved_title(&self) -> Result<String, (String, &'static str)> {
        if let Some(title) = &self.title {
            return Ok(title.clone());
        }
        match self.path.file_name().map(|name| name.to_str()) {
            Some(Some(name)) => Ok(name.to_owned()),
            Some(None) => Err((
                self.path.display().to_string(),
                "is not valid UTF-8; give the file a title",
            )),
            None => Err((self.path.display().to_string(), "is empty")),
        }
    }
}

/// An artifact to push: its files, `artifactType`, annotations and the
/// manifest it refers to.
///
/// ```
/// use ghcr_registry::{ArtifactFile, ArtifactPush};
///
/// let push = ArtifactPush::new()
///     .file(ArtifactFile::new("report.sarif").media_type("application/sarif+json".parse()?))
///     .artifact_type("application/vnd.example.scan.v1".parse()?)
///     .annotation("org.opencontainers.image.created", "2026-12-03T00:00:00Z");
/// assert_eq!(push.file_count(), 1);
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ArtifactPush {
    files: Vec<ArtifactFile>,
    artifact_type: MediaType,
    annotations: BTreeMap<String, String>,
    subject: Option<Descriptor>,
}

impl Default for ArtifactPush {
    fn default() -> Self {
        Self::new()
    }
}

impl ArtifactPush {
    /// The `artifactType` of an artifact that names none, as `oras push`
    /// uses: OCI requires one when the config is the empty JSON.
    pub const DEFAULT_ARTIFACT_TYPE: &'static str = "application/vnd.unknown.artifact.v1";

    /// An artifact without files yet.
    pub fn new() -> Self {
        Self {
            files: Vec::new(),
            artifact_type: MediaType::Other(Self::DEFAULT_ARTIFACT_TYPE.to_owned()),
            annotations: BTreeMap::new(),
            subject: None,
        }
    }

    /// Adds a file, one layer (in order). Without any, the artifact has
    /// the empty JSON as its one layer.
    #[must_use]
    pub fn file(mut self, file: ArtifactFile) -> Self {
        self.files.push(file);
        self
    }

    /// The manifest's `artifactType`. Default: [`Self::DEFAULT_ARTIFACT_TYPE`].
    #[must_use]
    pub fn artifact_type(mut self, media_type: MediaType) -> Self {
        self.artifact_type = media_type;
        self
    }

    /// Adds a manifest annotation. Default: none.
    #[must_use]
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The manifest this artifact refers to (OCI 1.1 `subject`), making it
    /// one of its referrers; see [`RegistryClient::manifest_descriptor`].
    /// Default: none.
    #[must_use]
    pub fn subject(mut self, subject: Descriptor) -> Self {
        self.subject = Some(subject);
        self
    }

    /// How many files were added.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

impl RegistryClient {
    /// The descriptor of the manifest `reference` names (a HEAD), for
    /// [`ArtifactPush::subject`].
    ///
    /// # Errors
    ///
    /// [`Error::ManifestNotFound`] and the transport's errors.
    pub async fn manifest_descriptor(&self, reference: &Reference) -> Result<Descriptor> {
        let info = self
            .head_manifest(reference)
            .await?
            .ok_or_else(|| not_found(reference))?;
        Ok(Descriptor::new(
            (&info.media_type).into(),
            info.size,
            &info.digest,
        ))
    }

    /// Pushes an artifact and tags it as `target` says (by digest when
    /// `target` has no tag, as an attached referrer usually is).
    ///
    /// Each file is streamed from disk as one layer with its title; the
    /// config is the OCI empty JSON. A manifest with a subject is also
    /// added to the subject's referrers fallback tag where the registry
    /// lacks the API (see [`RegistryClient::put_manifest`]).
    ///
    /// # Errors
    ///
    /// [`Error::UnsafeTitle`] before anything is sent when a title could
    /// leave the folder it is pulled into or is used twice, [`Error::Io`]
    /// for a file that cannot be read, and the errors of
    /// [`RegistryClient::push_blob`] and [`RegistryClient::put_manifest`];
    /// no manifest is written unless every blob is up.
    pub async fn push_artifact(
        &self,
        target: &Reference,
        artifact: ArtifactPush,
        options: &TransferOptions,
    ) -> Result<PushReport> {
        let refuse = |(title, reason): (String, &'static str)| Error::UnsafeTitle {
            reference: target.to_string(),
            title,
            reason,
        };
        let titles = artifact
            .files
            .iter()
            .map(|file| file.resolved_title().map_err(refuse))
            .collect::<Result<Vec<_>>>()?;
        title::check_all(titles.iter().map(String::as_str))
            .map_err(|(title, reason)| refuse((title.to_owned(), reason)))?;

        let repository = target.without_tag_or_digest();
        let upload = options.upload_options();
        let mut sources = vec![(0, BlobSource::bytes(EMPTY_JSON))];
        sources.extend(
            artifact
                .files
                .iter()
                .enumerate()
                .map(|(i, file)| (i + 1, BlobSource::file(file.path.clone()))),
        );
        let mut pushed = self
            .in_parallel(sources, options.concurrency, |(index, source)| {
                let repository = &repository;
                let upload = &upload;
                async move { Ok((index, self.push_blob(repository, source, upload).await?)) }
            })
            .await?;
        pushed.sort_by_key(|(index, _)| *index);
        let blobs: Vec<PushedBlob> = pushed.into_iter().map(|(_, blob)| blob).collect();

        let manifest = artifact_manifest(target, &artifact, &titles, &blobs)?;
        // A pinned digest that is not the manifest's is refused by the PUT.
        let place = if target.tag().is_some() || target.digest().is_some() {
            target.clone()
        } else {
            repository.with_digest(manifest.digest().clone())
        };
        let digest = self.put_manifest(&place, &manifest).await?;
        Ok(PushReport {
            digest,
            manifest,
            blobs,
        })
    }
}

/// The manifest of an artifact whose blobs are up: `blobs[0]` the empty
/// config, then one per file, in order.
fn artifact_manifest(
    target: &Reference,
    artifact: &ArtifactPush,
    titles: &[String],
    blobs: &[PushedBlob],
) -> Result<ghcr_types::Manifest> {
    let unwritable = |what: &str, err: serde_json::Error| Error::Protocol {
        url: target.to_string(),
        reason: format!("the {what} could not be written: {err}"),
    };
    let (config, files) = blobs.split_first().ok_or_else(|| Error::Protocol {
        url: target.to_string(),
        reason: "the artifact lost its config".into(),
    })?;
    let empty = json!({
        "mediaType": MediaType::OciEmptyJson.as_str(),
        "digest": config.digest.as_str(),
        "size": config.size,
    });
    let layers: Vec<Value> = if files.is_empty() {
        vec![empty.clone()]
    } else {
        files
            .iter()
            .zip(&artifact.files)
            .zip(titles)
            .map(|((blob, file), title)| {
                json!({
                    "mediaType": file.media_type.as_str(),
                    "digest": blob.digest.as_str(),
                    "size": blob.size,
                    "annotations": { TITLE: title },
                })
            })
            .collect()
    };
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciManifest.as_str(),
        "artifactType": artifact.artifact_type.as_str(),
        "config": empty,
        "layers": layers,
    });
    if let Some(subject) = &artifact.subject {
        manifest["subject"] =
            serde_json::to_value(subject).map_err(|err| unwritable("subject descriptor", err))?;
    }
    if !artifact.annotations.is_empty() {
        manifest["annotations"] = json!(artifact.annotations);
    }
    let bytes = serde_json::to_vec(&manifest).map_err(|err| unwritable("manifest", err))?;
    Ok(ghcr_types::Manifest::from_bytes(
        bytes,
        Some(MediaType::OciManifest.as_str()),
    )?)
}
