//! Pushing images: blobs first, in parallel, skipping what the registry
//! has and mounting what a named repository has; manifests last, children
//! before their index, so a failed push never moves a tag.

use std::path::Path;

use ghcr_types::{Digest, Manifest, MediaType, Reference};
use serde_json::{Value, json};

use super::{ImageParts, Tree, narrow};
use crate::blobs::{BlobOutcome, BlobSource, PushedBlob};
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::options::TransferOptions;

/// What a push did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PushReport {
    /// The digest of the top manifest (the index for a multi-arch image).
    pub digest: Digest,
    /// The top manifest as pushed.
    pub manifest: Manifest,
    /// Every blob, with how it got there.
    pub blobs: Vec<PushedBlob>,
}

impl PushReport {
    /// Blob bytes actually sent (skipped and mounted blobs send none).
    pub fn bytes_uploaded(&self) -> u64 {
        self.blobs
            .iter()
            .filter(|b| b.outcome == BlobOutcome::Uploaded)
            .map(|b| b.size)
            .sum()
    }
}

impl RegistryClient {
    /// Pushes an image from its parts and tags it as `target` says (by
    /// digest when `target` has no tag).
    ///
    /// # Errors
    ///
    /// The errors of [`RegistryClient::push_blob`] and
    /// [`RegistryClient::put_manifest`]; no manifest is written unless
    /// every blob is up.
    pub async fn push_image(
        &self,
        target: &Reference,
        image: ImageParts,
        options: &TransferOptions,
    ) -> Result<PushReport> {
        let repository = target.without_tag_or_digest();
        let upload = options.upload_options();
        let mut sources = vec![(
            0,
            image.config_media_type.clone(),
            BlobSource::bytes(image.config),
        )];
        sources.extend(
            image
                .layers
                .into_iter()
                .enumerate()
                .map(|(i, (media_type, source))| (i + 1, media_type, source)),
        );
        let mut pushed = self
            .in_parallel(
                sources,
                options.concurrency,
                |(index, media_type, source)| {
                    let repository = &repository;
                    let upload = &upload;
                    async move {
                        let blob = self.push_blob(repository, source, upload).await?;
                        Ok((index, media_type, blob))
                    }
                },
            )
            .await?;
        pushed.sort_by_key(|(index, ..)| *index);
        let descriptor = |(_, media_type, blob): &(usize, MediaType, PushedBlob)| json!({ "mediaType": media_type.as_str(), "digest": blob.digest.as_str(), "size": blob.size });
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OciManifest.as_str(),
        });
        if let Some(artifact_type) = &image.artifact_type {
            manifest["artifactType"] = json!(artifact_type.as_str());
        }
        let (config, layers) = pushed.split_first().ok_or_else(|| Error::Protocol {
            url: target.to_string(),
            reason: "the image lost its config".into(),
        })?;
        manifest["config"] = descriptor(config);
        manifest["layers"] = Value::Array(layers.iter().map(descriptor).collect());
        if let Some(subject) = &image.subject {
            manifest["subject"] = serde_json::to_value(subject).map_err(|err| Error::Protocol {
                url: target.to_string(),
                reason: format!("the subject descriptor could not be written: {err}"),
            })?;
        }
        if !image.annotations.is_empty() {
            manifest["annotations"] = json!(image.annotations);
        }
        let bytes = serde_json::to_vec(&manifest).map_err(|err| Error::Protocol {
            url: target.to_string(),
            reason: format!("the manifest could not be written: {err}"),
        })?;
        let manifest = Manifest::from_bytes(bytes, Some(MediaType::OciManifest.as_str()))?;
        let tree = Tree {
            top: manifest,
            children: Vec::new(),
            blobs: Vec::new(),
        };
        let digest = self.put_tree_manifests(target, &tree).await?;
        Ok(PushReport {
            digest,
            manifest: tree.top,
            blobs: pushed.into_iter().map(|(_, _, blob)| blob).collect(),
        })
    }

    /// Pushes blobs into `target`'s repository, in parallel.
    pub(crate) async fn push_sources(
        &self,
        target: &Reference,
        sources: Vec<BlobSource>,
        options: &TransferOptions,
    ) -> Result<Vec<PushedBlob>> {
        let repository = target.without_tag_or_digest();
        let upload = options.upload_options();
        self.in_parallel(sources, options.concurrency, |source| {
            let repository = &repository;
            let upload = &upload;
            async move { self.push_blob(repository, source, upload).await }
        })
        .await
    }

    /// Pushes the image an OCI layout names `name` (the only one when
    /// `None`), with every platform of an index, and tags it as `target`
    /// says. Digests are kept: manifests go up as the exact bytes on disk.
    ///
    /// # Errors
    ///
    /// [`Error::Layout`] for a missing or malformed layout or entry,
    /// [`Error::Io`] for a missing blob file, [`Error::DigestMismatch`] for
    /// a blob that is not what its name says, and the errors of
    /// [`RegistryClient::push_blob`] and [`RegistryClient::put_manifest`].
    pub async fn push_layout(
        &self,
        layout: &Path,
        name: Option<&str>,
        target: &Reference,
        options: &TransferOptions,
    ) -> Result<PushReport> {
        let layout = Layout::open(layout).await?;
        let entry = layout.select(name).await?;
        let top = layout.read_manifest(&entry).await?;
        let (top, _) = narrow(top, options.platform.as_ref(), target, |child| {
            let layout = &layout;
            async move { layout.read_manifest(&child).await }
        })
        .await?;
        let tree = Tree::walk(top, |child| {
            let layout = &layout;
            async move { layout.read_manifest(&child).await }
        })
        .await?;
        let sources = tree
            .blobs
            .iter()
            .map(|blob| {
                BlobSource::file(layout.blob_path(&blob.digest))
                    .with_digest(blob.digest.clone())
                    .with_size(blob.size)
            })
            .collect();
        let blobs = self.push_sources(target, sources, options).await?;
        let digest = self.put_tree_manifests(target, &tree).await?;
        Ok(PushReport {
            digest,
            manifest: tree.top,
            blobs,
        })
    }
}
