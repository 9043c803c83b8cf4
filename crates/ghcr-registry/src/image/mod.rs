//! Whole images: push (from parts or an OCI layout), pull into an OCI
//! layout, copy, size and existence. An image is walked into a [`Tree`]:
//! its manifests, children first, and its blobs, each once.

mod parts;
mod pull;
mod push;
mod size;

pub use parts::ImageParts;
pub use pull::PullReport;
pub use push::PushReport;
pub use size::{ImageSize, PlatformSize};

use std::collections::HashSet;
use std::future::Future;

use futures_util::{StreamExt, TryStreamExt};
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, Manifest, MediaType, Platform, Reference};

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::manifests::platform_not_found;

/// Indexes nest at most this deep.
const MAX_DEPTH: usize = 8;

/// One index lists at most this many children (real ones list tens).
const MAX_CHILDREN: usize = 4096;

/// One image tree holds at most this many manifests, whatever the nesting
/// (the depth cap alone would allow `MAX_CHILDREN` to the 8th).
const MAX_MANIFESTS: usize = 16_384;

/// A blob an image needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BlobRef {
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    pub(crate) media_type: MediaType,
}

impl BlobRef {
    fn of(descriptor: &Descriptor) -> Result<Self> {
        Ok(Self {
            digest: Digest::try_from(descriptor.digest())?,
            size: descriptor.size(),
            media_type: MediaType::from(descriptor.media_type()),
        })
    }
}

/// An image and everything it needs.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The manifest at the top.
    pub(crate) top: Manifest,
    /// Every manifest below the top, children before their parents.
    pub(crate) children: Vec<Manifest>,
    /// Configs and layers of every image manifest, each once. Foreign
    /// (non-distributable) layers are left out: registries do not hold them.
    pub(crate) blobs: Vec<BlobRef>,
}

impl Tree {
    /// Walks `top`, loading each child manifest with `load`.
    pub(crate) async fn walk<F, Fut>(top: Manifest, load: F) -> Result<Self>
    where
        F: Fn(Descriptor) -> Fut,
        Fut: Future<Output = Result<Manifest>>,
    {
        let mut tree = Self {
            top,
            children: Vec::new(),
            blobs: Vec::new(),
        };
        let mut seen = HashSet::new();
        let top = tree.top.clone();
        tree.visit(&top, &load, &mut seen, 0).await?;
        Ok(tree)
    }

    async fn visit<F, Fut>(
        &mut self,
        manifest: &Manifest,
        load: &F,
        seen: &mut HashSet<Digest>,
        depth: usize,
    ) -> Result<()>
    where
        F: Fn(Descriptor) -> Fut,
        Fut: Future<Output = Result<Manifest>>,
    {
        if let Some(image) = manifest.as_image() {
            for descriptor in std::iter::once(image.config()).chain(image.layers()) {
                let blob = BlobRef::of(descriptor)?;
                if !blob.media_type.is_foreign_layer() && seen.insert(blob.digest.clone()) {
                    self.blobs.push(blob);
                }
            }
            return Ok(());
        }
        if depth >= MAX_DEPTH {
            return Err(Error::Protocol {
                url: manifest.digest().to_string(),
                reason: format!("indexes nest deeper than {MAX_DEPTH} levels"),
            });
        }
        let children = manifest.children();
        if children.len() > MAX_CHILDREN {
            return Err(Error::LimitExceeded {
                what: "children of one index",
                limit: MAX_CHILDREN as u64,
                at: manifest.digest().to_string(),
            });
        }
        for child in children {
            let blob = BlobRef::of(child)?;
            if !seen.insert(blob.digest.clone()) {
                continue;
            }
            if !blob.media_type.is_manifest() {
                // An index may point at a plain blob (an artifact).
                self.blobs.push(blob);
                continue;
            }
            if self.children.len() >= MAX_MANIFESTS {
                return Err(Error::LimitExceeded {
                    what: "manifests in one image",
                    limit: MAX_MANIFESTS as u64,
                    at: self.top.digest().to_string(),
                });
            }
            let loaded = load(child.clone()).await?;
            Box::pin(self.visit(&loaded, load, seen, depth + 1)).await?;
            self.children.push(loaded);
        }
        Ok(())
    }

    /// The bytes of every blob; sizes come from the registry, so the sum
    /// saturates instead of overflowing.
    pub(crate) fn blob_bytes(&self) -> u64 {
        self.blobs
            .iter()
            .fold(0, |total, blob| total.saturating_add(blob.size))
    }
}

/// For a `platform`, the matching child of an index (and the index's
/// descriptor of it, which names the platform); else `top` itself.
pub(crate) async fn narrow<F, Fut>(
    top: Manifest,
    platform: Option<&Platform>,
    named: &Reference,
    load: F,
) -> Result<(Manifest, Descriptor)>
where
    F: FnOnce(Descriptor) -> Fut,
    Fut: Future<Output = Result<Manifest>>,
{
    let Some(platform) = platform.filter(|_| top.is_index()) else {
        let descriptor = top.descriptor();
        return Ok((top, descriptor));
    };
    let chosen = top
        .child_for(platform)
        .cloned()
        .ok_or_else(|| platform_not_found(named, &top, platform))?;
    Ok((load(chosen.clone()).await?, chosen))
}

impl RegistryClient {
    /// The manifest `reference` names, narrowed to `platform` (see [`narrow`]).
    pub(crate) async fn get_narrowed(
        &self,
        reference: &Reference,
        platform: Option<&Platform>,
    ) -> Result<(Manifest, Descriptor)> {
        let top = self.get_manifest(reference).await?;
        let repository = reference.without_tag_or_digest();
        narrow(top, platform, reference, |child| async move {
            let digest = Digest::try_from(child.digest())?;
            self.get_manifest(&repository.with_digest(digest)).await
        })
        .await
    }

    /// Fetches an image's tree from the registry.
    pub(crate) async fn fetch_tree(&self, reference: &Reference, top: Manifest) -> Result<Tree> {
        let repository = reference.without_tag_or_digest();
        Tree::walk(top, |child| {
            let repository = repository.clone();
            async move {
                let digest = Digest::try_from(child.digest())?;
                self.get_manifest(&repository.with_digest(digest)).await
            }
        })
        .await
    }

    /// Runs `work` on each item, `concurrency` at a time; the first error
    /// stops the rest.
    pub(crate) async fn in_parallel<T, R, F, Fut>(
        &self,
        items: Vec<T>,
        concurrency: Option<usize>,
        work: F,
    ) -> Result<Vec<R>>
    where
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        let limit = concurrency.unwrap_or(self.settings.concurrency).max(1);
        futures_util::stream::iter(items)
            .map(work)
            .buffer_unordered(limit)
            .try_collect()
            .await
    }

    /// Whether the manifest a reference names exists.
    ///
    /// # Errors
    ///
    /// The transport's errors.
    pub async fn image_exists(&self, reference: &Reference) -> Result<bool> {
        Ok(self.head_manifest(reference).await?.is_some())
    }

    /// Puts the manifests of a tree: children by digest first, then the top
    /// under `target`'s tag (or by digest). Returns the top's digest.
    pub(crate) async fn put_tree_manifests(
        &self,
        target: &Reference,
        tree: &Tree,
    ) -> Result<Digest> {
        let repository = target.without_tag_or_digest();
        for child in &tree.children {
            self.put_manifest(&repository.with_digest(child.digest().clone()), child)
                .await?;
        }
        let top = match target.tag() {
            Some(tag) => repository.with_tag(tag.as_str())?,
            None => repository.with_digest(tree.top.digest().clone()),
        };
        self.put_manifest(&top, &tree.top).await
    }
}

#[cfg(test)]
mod tests;
