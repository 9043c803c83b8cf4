//! Multi-platform images from parts: each platform's image pushed by
//! digest, then the index naming them under the tag, so a failed push
//! never moves the tag.

use ghcr_registry::{ImageParts, PushReport, TransferOptions};
use ghcr_types::{Digest, Manifest, MediaType, Platform, Reference};
use serde_json::json;

use crate::client::GhcrClient;
use crate::error::{Error, Result};

/// What [`GhcrClient::push_multiarch`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MultiArchReport {
    /// The index's digest.
    pub digest: Digest,
    /// The index as pushed.
    pub index: Manifest,
    /// Each platform's push, in the order given.
    pub platforms: Vec<(Platform, PushReport)>,
}

impl MultiArchReport {
    /// Blob bytes actually sent, every platform together.
    pub fn bytes_uploaded(&self) -> u64 {
        self.platforms
            .iter()
            .map(|(_, report)| report.bytes_uploaded())
            .sum()
    }
}

impl GhcrClient {
    /// Pushes one image per platform (by digest, untagged), then an OCI
    /// index of them tagged as `target` says (by digest without a tag).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// # let fake = ghcr_sim::fake::FakeGhcr::builder().user("octo", "token-o").start().await?;
    /// use ghcr::{GhcrClient, GhcrConfig};
    /// use ghcr::registry::{BlobSource, ImageParts, TransferOptions};
    /// use ghcr::types::{MediaType, Platform, Reference};
    ///
    /// # let config = GhcrConfig::builder().registry(fake.registry_host())
    /// #     .allow_plain_http(fake.registry_host()).credentials("octo", "token-o").build()?;
    /// let client = GhcrClient::new(config)?;
    /// let image = |arch: &str| {
    ///     let config = format!(r#"{{"architecture":"{arch}","os":"linux"}}"#);
    ///     ImageParts::new(config.into_bytes())
    ///         .layer(MediaType::OciLayerTar, BlobSource::bytes(format!("{arch} layer").into_bytes()))
    /// };
    /// let target: Reference = format!("{}/octo/app:v1", fake.registry_host()).parse()?;
    /// let report = client
    ///     .push_multiarch(
    ///         &target,
    ///         vec![("linux/amd64".parse()?, image("amd64")), ("linux/arm64".parse()?, image("arm64"))],
    ///         &TransferOptions::new(),
    ///     )
    ///     .await?;
    /// assert_eq!(report.index.platforms().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::EmptyIndex`] for an empty list, and the errors of
    /// `RegistryClient::push_image` and `RegistryClient::put_manifest`;
    /// the index (and so the tag) is written only once every image is up.
    pub async fn push_multiarch(
        &self,
        target: &Reference,
        images: Vec<(Platform, ImageParts)>,
        options: &TransferOptions,
    ) -> Result<MultiArchReport> {
        if images.is_empty() {
            return Err(Error::EmptyIndex {
                target: target.to_string(),
            });
        }
        let repository = target.without_tag_or_digest();
        let mut platforms = Vec::with_capacity(images.len());
        for (platform, parts) in images {
            let report = self
                .registry()
                .push_image(&repository, parts, options)
                .await?;
            platforms.push((platform, report));
        }
        let manifests: Vec<serde_json::Value> = platforms
            .iter()
            .map(|(platform, report)| {
                json!({
                    "mediaType": report.manifest.media_type().as_str(),
                    "digest": report.digest.as_str(),
                    "size": report.manifest.size(),
                    "platform": platform,
                })
            })
            .collect();
        let index = json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OciIndex.as_str(),
            "manifests": manifests,
        });
        let index = Manifest::from_bytes(index.to_string(), Some(MediaType::OciIndex.as_str()))?;
        let digest = self.registry().put_manifest(target, &index).await?;
        Ok(MultiArchReport {
            digest,
            index,
            platforms,
        })
    }
}
