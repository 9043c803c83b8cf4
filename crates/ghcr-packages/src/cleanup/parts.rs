//! What a plan keeps of each manifest it reads: the digests the manifest
//! lists and what its descriptors say they are, never the body.
//!
//! A plan lives through its whole execution (which walks the same graph
//! again when a deletion fails or the package changes), and at
//! organization scale it reads tens of thousands of indexes. Keeping each
//! parsed [`Manifest`] (its bytes, its parsed descriptors, annotations and
//! platforms) made memory grow with the manifests read; a [`Part`] is a
//! digest and a media type, so memory grows with the digests the kept
//! indexes list, which the plan needs anyway.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use ghcr_registry::RegistryClient;
use ghcr_types::{Digest, Manifest, MediaType, Reference};

use crate::error::Result;

/// A manifest an index (or referrers index) lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// Its digest.
    pub(crate) digest: Digest,
    /// What the listing descriptor says it is.
    pub(crate) media_type: MediaType,
}

/// The parts of one manifest: empty for an image manifest.
pub(crate) type Parts = Arc<[Part]>;

/// The parts `manifest` lists; descriptors whose digest does not parse are
/// left out, as the walk always did.
pub(crate) fn parts_of(manifest: &Manifest) -> Parts {
    manifest
        .children()
        .iter()
        .filter_map(|child| {
            Some(Part {
                digest: Digest::try_from(child.digest()).ok()?,
                media_type: MediaType::from(child.media_type()),
            })
        })
        .collect()
}

/// Where a plan reads the parts of manifests from.
pub(crate) trait PartsSource: Sync {
    /// The parts of the manifest with this digest.
    fn parts(&self, digest: &Digest) -> impl Future<Output = Result<Parts>> + Send;
}

/// A per-run cache of the parts of one repository's manifests: each
/// manifest is read from the registry at most once (on GitHub every
/// manifest GET counts as a download of the version) and dropped as soon as
/// its parts are taken.
#[derive(Debug)]
pub(crate) struct PartsCache {
    registry: RegistryClient,
    repository: Reference,
    parts: Mutex<HashMap<Digest, Parts>>,
}

impl PartsCache {
    pub(crate) fn new(registry: RegistryClient, repository: Reference) -> Self {
        Self {
            registry,
            repository,
            parts: Mutex::default(),
        }
    }

    fn cached(&self, digest: &Digest) -> Option<Parts> {
        self.parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
            .cloned()
    }

    /// What the cache holds: manifests read, and the bytes of the digests
    /// and media types kept for them (the strings and the slots).
    #[cfg(test)]
    pub(crate) fn held(&self) -> Held {
        let parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = parts
            .iter()
            .map(|(digest, list)| {
                digest.as_str().len()
                    + list
                        .iter()
                        .map(|part| {
                            std::mem::size_of::<Part>()
                                + part.digest.as_str().len()
                                + part.media_type.as_str().len()
                        })
                        .sum::<usize>()
            })
            .sum();
        Held {
            manifests: parts.len(),
            bytes,
        }
    }
}

/// What a [`PartsCache`] holds.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    /// Manifests read.
    pub(crate) manifests: usize,
    /// Bytes of what is kept of them.
    pub(crate) bytes: usize,
}

impl PartsSource for PartsCache {
    async fn parts(&self, digest: &Digest) -> Result<Parts> {
        if let Some(parts) = self.cached(digest) {
            return Ok(parts);
        }
        let manifest = self
            .registry
            .get_manifest(&self.repository.with_digest(digest.clone()))
            .await?;
        let parts = parts_of(&manifest);
        drop(manifest);
        self.parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest.clone(), parts.clone());
        Ok(parts)
    }
}

#[cfg(test)]
impl PartsSource for crate::manifests::memory::Memory {
    async fn parts(&self, digest: &Digest) -> Result<Parts> {
        use crate::manifests::ManifestSource as _;

        Ok(parts_of(&self.manifest(digest).await?))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use ghcr_sim::fake::FakeGhcr;
    use ghcr_transport::Transport;
    use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
    use ghcr_types::Owner;
    use serde_json::json;

    use crate::{PackagesClient, RetentionPolicy};

    /// A kept index padded with a 256 KiB annotation: after planning, the
    /// plan holds its three parts (a few hundred bytes), not its body, and
    /// still keeps what it lists.
    #[tokio::test]
    async fn a_plan_keeps_the_digests_an_index_lists_not_its_body() {
        let fake = FakeGhcr::builder()
            .user("octo", "token-octo")
            .start()
            .await
            .unwrap();
        let store = fake.store();
        let image = |layer: &str| {
            let pushed = store
                .push_image("octo/app", None, &[Bytes::from(layer.to_owned())])
                .unwrap();
            json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": pushed.manifest.as_str(),
                "size": pushed.bytes.len(),
            })
        };
        let children = [image("amd64"), image("arm64"), image("provenance")];
        let padding = "x".repeat(256 * 1024);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": children,
            "annotations": {"org.example.padding": padding},
        })
        .to_string();
        let body_len = index.len();
        store
            .push_manifest(
                "octo/app",
                "v1",
                Bytes::from(index),
                "application/vnd.oci.image.index.v1+json",
            )
            .unwrap();
        store
            .push_image("octo/app", None, &[Bytes::from_static(b"orphan")])
            .unwrap();

        let credentials = StaticProvider::new(Credentials::basic("octo", "token-octo"))
            .for_host(fake.registry_host());
        let transport = Transport::builder()
            .allow_plain_http(fake.registry_host())
            .credentials(Arc::new(credentials))
            .build()
            .unwrap();
        let client = PackagesClient::builder(transport)
            .api_base(&fake.api_base())
            .registry_host(fake.registry_host())
            .build()
            .unwrap();
        let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
        let plan = client
            .plan_cleanup(&Owner::user("octo"), "app", &policy)
            .await
            .unwrap();

        assert_eq!(plan.to_delete().count(), 1, "only the orphan goes: {plan}");
        assert_eq!(plan.to_keep().count(), 4, "{plan}");
        let held = plan.manifests.held();
        assert_eq!(held.manifests, 1, "only the kept index was read");
        assert!(
            held.bytes < 1024,
            "{} bytes held for a manifest of {body_len}",
            held.bytes
        );
        fake.shutdown().await;
    }
}
