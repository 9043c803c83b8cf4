//! Manifests read from the registry at most once per run: on GitHub every
//! manifest GET counts as a download of the version.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use ghcr_registry::RegistryClient;
use ghcr_types::{Digest, Manifest, Reference};

use crate::error::Result;

/// Where cleanup and vulnerability lookups read manifests from.
pub(crate) trait ManifestSource: Sync {
    /// The manifest with this digest.
    fn manifest(&self, digest: &Digest) -> impl Future<Output = Result<Manifest>> + Send;
}

/// A per-run cache of one repository's manifests.
#[derive(Debug)]
pub(crate) struct ManifestCache {
    registry: RegistryClient,
    repository: Reference,
    manifests: Mutex<HashMap<Digest, Manifest>>,
}

impl ManifestCache {
    pub(crate) fn new(registry: RegistryClient, repository: Reference) -> Self {
        Self {
            registry,
            repository,
            manifests: Mutex::default(),
        }
    }

    /// The registry client.
    pub(crate) fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// The repository, without tag or digest.
    pub(crate) fn repository(&self) -> &Reference {
        &self.repository
    }

    fn cached(&self, digest: &Digest) -> Option<Manifest> {
        self.manifests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
            .cloned()
    }

    /// A blob of the repository (an attestation layer), verified, at most `limit` bytes.
    pub(crate) async fn blob(&self, digest: &Digest, limit: usize) -> Result<Bytes> {
        Ok(self
            .registry
            .get_blob_bytes(&self.repository, digest, limit)
            .await?)
    }

    /// A manifest by tag, not cached (tags move); cached by its digest.
    pub(crate) async fn by_tag(&self, tag: &str) -> Result<Option<Manifest>> {
        match self
            .registry
            .get_manifest(&self.repository.with_tag(tag)?)
            .await
        {
            Ok(manifest) => {
                self.remember(&manifest);
                Ok(Some(manifest))
            }
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn remember(&self, manifest: &Manifest) {
        self.manifests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(manifest.digest().clone(), manifest.clone());
    }
}

impl ManifestSource for ManifestCache {
    async fn manifest(&self, digest: &Digest) -> Result<Manifest> {
        if let Some(manifest) = self.cached(digest) {
            return Ok(manifest);
        }
        let manifest = self
            .registry
            .get_manifest(&self.repository.with_digest(digest.clone()))
            .await?;
        self.remember(&manifest);
        Ok(manifest)
    }
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory manifest source for tests of pure decisions.

    use std::collections::HashMap;
    use std::sync::Mutex;

    use ghcr_types::{Digest, Manifest};

    use super::ManifestSource;
    use crate::error::{Error, Result};

    /// Manifests by digest, counting reads.
    #[derive(Debug, Default)]
    pub(crate) struct Memory {
        pub(crate) manifests: HashMap<Digest, Manifest>,
        pub(crate) reads: Mutex<Vec<Digest>>,
    }

    impl Memory {
        pub(crate) fn add(&mut self, json: &serde_json::Value) -> Digest {
            let manifest = Manifest::from_bytes(json.to_string().into_bytes(), None)
                .unwrap_or_else(|error| panic!("test manifest {json}: {error}"));
            let digest = manifest.digest().clone();
            self.manifests.insert(digest.clone(), manifest);
            digest
        }
    }

    impl ManifestSource for Memory {
        async fn manifest(&self, digest: &Digest) -> Result<Manifest> {
            self.reads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(digest.clone());
            self.manifests
                .get(digest)
                .cloned()
                .ok_or_else(|| Error::InvalidResponse {
                    operation: format!("read {digest}"),
                    reason: "not in the test source".into(),
                })
        }
    }
}
