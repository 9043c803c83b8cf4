//! `RegistryOperations` for `GhcrClient`: each method is one call of the
//! registry client (or, for deletes on GitHub's registry, the packages client).

use bytes::Bytes;
use futures_util::TryStreamExt;
use ghcr_registry::{BlobOutcome, BlobSource, TransferOptions, UploadOptions};
use ghcr_types::{Digest, Manifest, Reference, Tag};

use super::{BoxFuture, RegistryOperations};
use crate::client::GhcrClient;
use crate::error::Result;

impl GhcrClient {
    /// Whether `reference` is on the registry whose packages the GitHub API
    /// of this client manages (ghcr.io by default), where deletes go
    /// through the Packages API.
    pub fn is_packages_registry(&self, reference: &Reference) -> bool {
        reference
            .registry()
            .eq_ignore_ascii_case(self.config().registry())
    }
}

impl RegistryOperations for GhcrClient {
    fn image_exists<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move { Ok(self.registry().image_exists(image).await?) })
    }

    fn pull_manifest<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<Manifest>> {
        Box::pin(async move { Ok(self.registry().get_manifest(image).await?) })
    }

    fn push_manifest<'a>(
        &'a self,
        image: &'a Reference,
        manifest: &'a Manifest,
    ) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async move { Ok(self.registry().put_manifest(image, manifest).await?) })
    }

    fn delete_image<'a>(&'a self, image: &'a Reference) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            #[cfg(feature = "packages")]
            if self.is_packages_registry(image) {
                let owner = self.resolve_owner(image.owner()).await?;
                self.packages()
                    .delete_image(
                        owner.owner_type(),
                        image,
                        ghcr_packages::DeleteTags::OnlyNamed,
                    )
                    .await?;
                return Ok(());
            }
            if image.digest().is_some() {
                self.registry().delete_manifest(image).await?;
            } else {
                let tagged = match image.tag() {
                    Some(_) => image.clone(),
                    None => image.with_tag("latest")?,
                };
                self.registry().delete_tag(&tagged).await?;
            }
            Ok(())
        })
    }

    fn copy_image<'a>(
        &'a self,
        source: &'a Reference,
        target: &'a Reference,
    ) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async move {
            let report = self
                .registry()
                .copy_image(source, target, &TransferOptions::new())
                .await?;
            Ok(report.digest)
        })
    }

    fn list_tags<'a>(&'a self, repository: &'a Reference) -> BoxFuture<'a, Result<Vec<Tag>>> {
        Box::pin(async move { Ok(self.registry().list_tags(repository).await?) })
    }

    fn tag_image<'a>(
        &'a self,
        image: &'a Reference,
        new_tag: &'a Tag,
    ) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async move { Ok(self.registry().tag(image, new_tag).await?) })
    }

    fn delete_tag<'a>(&'a self, reference: &'a Reference) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { Ok(self.registry().delete_tag(reference).await?) })
    }

    fn blob_exists<'a>(
        &'a self,
        repository: &'a Reference,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            Ok(self
                .registry()
                .blob_exists(repository, digest)
                .await?
                .is_some())
        })
    }

    fn upload_blob<'a>(
        &'a self,
        repository: &'a Reference,
        data: Bytes,
    ) -> BoxFuture<'a, Result<Digest>> {
        Box::pin(async move {
            let pushed = self
                .registry()
                .push_blob(repository, BlobSource::bytes(data), &UploadOptions::new())
                .await?;
            Ok(pushed.digest)
        })
    }

    fn mount_blob<'a>(
        &'a self,
        source: &'a Reference,
        target: &'a Reference,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<BlobOutcome>> {
        Box::pin(async move {
            // Read from the source only if the mount is refused.
            let (registry, from, wanted) =
                (self.registry().clone(), source.clone(), digest.clone());
            let bytes =
                futures_util::stream::once(async move { registry.get_blob(&from, &wanted).await })
                    .try_flatten();
            let blob = BlobSource::stream(bytes, None).with_digest(digest.clone());
            let options = UploadOptions::new().mount_from(source.without_tag_or_digest());
            let pushed = self.registry().push_blob(target, blob, &options).await?;
            Ok(pushed.outcome)
        })
    }
}
