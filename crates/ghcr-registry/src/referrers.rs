//! Referrers: the OCI 1.1 API where a registry serves it, else the
//! `<alg>-<hex>` tag schema (what ghcr.io needs), and keeping that fallback
//! index up to date when a manifest with a `subject` is pushed.

use ghcr_transport::Body;
use ghcr_transport::ghcr_auth::Scope;
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, MAX_MANIFEST_SIZE, Manifest, MediaType, Reference};
use http::header::ACCEPT;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::client::{RegistryClient, with_query};
use crate::error::{Error, Result};
use crate::manifests::read_limited;
use crate::request::{drain, header};

/// Where a list of referrers came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferrersSource {
    /// The registry's `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The `<alg>-<hex>` tag index, for registries without the API.
    FallbackTag,
}

/// The manifests that refer to a subject (signatures, SBOMs, attestations).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Referrers {
    /// The subject's digest.
    pub subject: Digest,
    /// One descriptor per referring manifest, with its `artifactType` and
    /// annotations.
    pub descriptors: Vec<Descriptor>,
    /// Where the list came from.
    pub source: ReferrersSource,
}

impl RegistryClient {
    /// The manifests whose `subject` is the manifest `subject` names,
    /// optionally only those of one `artifact_type`.
    ///
    /// The referrers API is asked first without following redirects
    /// (ghcr.io's redirect leads to a rate-limited web page); anything but a
    /// 200 with an index (a 3xx, 4xx, 5xx, a 429 the transport's waits did
    /// not outlast, another document) means the registry lacks it, and the
    /// `<alg>-<hex>` tag is read instead. No fallback tag means no referrers.
    ///
    /// # Errors
    ///
    /// [`Error::ManifestNotFound`] when a tagged subject does not exist,
    /// and the transport's errors.
    pub async fn referrers(
        &self,
        subject: &Reference,
        artifact_type: Option<&str>,
    ) -> Result<Referrers> {
        let digest = self.resolve_digest(subject).await?;
        let repository = subject.without_tag_or_digest();
        let (mut descriptors, source, filtered) = match self
            .referrers_api(&repository, &digest, artifact_type)
            .await?
        {
            Some((descriptors, filtered)) => (descriptors, ReferrersSource::Api, filtered),
            None => (
                self.fallback_index(&repository, &digest)
                    .await?
                    .map(|index| index.children().to_vec())
                    .unwrap_or_default(),
                ReferrersSource::FallbackTag,
                false,
            ),
        };
        if let Some(wanted) = artifact_type.filter(|_| !filtered) {
            descriptors.retain(|descriptor| {
                descriptor
                    .artifact_type()
                    .as_ref()
                    .is_some_and(|found| found.to_string() == wanted)
            });
        }
        Ok(Referrers {
            subject: digest,
            descriptors,
            source,
        })
    }

    /// The API's answer and whether it applied the filter; `None` when the
    /// registry does not serve it.
    async fn referrers_api(
        &self,
        repository: &Reference,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<(Vec<Descriptor>, bool)>> {
        let mut url = self.url(repository, &format!("referrers/{digest}"))?;
        if let Some(artifact_type) = artifact_type {
            url = with_query(&url, &[("artifactType", artifact_type)])?;
        }
        let sent = self
            .call(
                Method::GET,
                &url,
                Scope::pull(repository.repository()),
                "referrers",
            )
            .header(ACCEPT, MediaType::OciIndex.as_str())
            .no_redirect()
            .send(Body::empty())
            .await;
        let response = match sent {
            Ok(response) => response,
            // Still 429 once the transport gave up waiting: not an index
            // either, so the tag is read instead.
            Err(Error::Transport(error))
                if error.status() == Some(StatusCode::TOO_MANY_REQUESTS) =>
            {
                tracing::debug!(%error, "the referrers API stays rate limited; reading the fallback tag");
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        if response.status() != StatusCode::OK {
            tracing::debug!(
                status = response.status().as_u16(),
                "no referrers API; reading the fallback tag"
            );
            drain(response).await;
            return Ok(None);
        }
        let filtered = header(&response, "oci-filters-applied")
            .is_some_and(|applied| applied.split(',').any(|f| f.trim() == "artifactType"));
        let content_type = header(&response, "content-type").map(str::to_owned);
        let bytes = read_limited(response, MAX_MANIFEST_SIZE, repository).await?;
        match Manifest::from_bytes(bytes, content_type.as_deref()) {
            Ok(index) if index.is_index() => Ok(Some((index.children().to_vec(), filtered))),
            _ => Ok(None),
        }
    }

    /// The `<alg>-<hex>` tag's index, when there is one.
    async fn fallback_index(
        &self,
        repository: &Reference,
        subject: &Digest,
    ) -> Result<Option<Manifest>> {
        let tagged = repository.with_tag(&subject.referrers_tag())?;
        match self.get_manifest(&tagged).await {
            Ok(index) if index.is_index() => Ok(Some(index)),
            Ok(_) => Err(Error::protocol(
                &self.manifest_url(&tagged, &subject.referrers_tag())?,
                "the referrers fallback tag holds an image manifest, not an index",
            )),
            Err(Error::ManifestNotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Adds `manifest` to its subject's fallback index unless the registry
    /// took note of the subject itself (it then answers `OCI-Subject`).
    ///
    /// The index is read, extended and written back: two pushes racing on
    /// one subject can lose an entry; push them one after the other.
    pub(crate) async fn record_referrer(
        &self,
        reference: &Reference,
        subject: &Descriptor,
        manifest: &Manifest,
        acknowledged: bool,
    ) -> Result<()> {
        if acknowledged {
            return Ok(());
        }
        let subject = Digest::try_from(subject.digest())?;
        let repository = reference.without_tag_or_digest();
        let existing = self.fallback_index(&repository, &subject).await?;
        let mut index: Value = match &existing {
            Some(index) => serde_json::from_slice(index.bytes()).unwrap_or_else(|_| empty_index()),
            None => empty_index(),
        };
        let Some(entries) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(Error::protocol(
                &self.url(&repository, "manifests")?,
                "the referrers fallback index has no manifests list",
            ));
        };
        let digest = manifest.digest().as_str();
        if entries
            .iter()
            .any(|entry| entry.get("digest").and_then(Value::as_str) == Some(digest))
        {
            return Ok(());
        }
        entries.push(referrer_entry(manifest));
        let bytes = serde_json::to_vec(&index).map_err(|err| Error::Protocol {
            url: repository.to_string(),
            reason: format!("the referrers index could not be written: {err}"),
        })?;
        let updated = Manifest::from_bytes(bytes, Some(MediaType::OciIndex.as_str()))?;
        let tagged = repository.with_tag(&subject.referrers_tag())?;
        self.put_manifest_only(&tagged, &updated).await?;
        Ok(())
    }
}

fn empty_index() -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciIndex.as_str(),
        "manifests": [],
    })
}

/// The descriptor of a referrer: type, digest, size, artifact type and
/// annotations, as the referrers API lists it.
fn referrer_entry(manifest: &Manifest) -> Value {
    let mut entry = json!({
        "mediaType": manifest.media_type().as_str(),
        "digest": manifest.digest().as_str(),
        "size": manifest.size(),
    });
    if let Some(artifact_type) = manifest.artifact_type() {
        entry["artifactType"] = json!(artifact_type.as_str());
    }
    if let Some(annotations) = manifest.annotations().filter(|a| !a.is_empty()) {
        entry["annotations"] = json!(annotations);
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_type_and_annotations() {
        let bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[],"annotations":{"k":"v"}}"#;
        let manifest = Manifest::from_bytes(&bytes[..], None).unwrap();
        let entry = referrer_entry(&manifest);
        assert_eq!(entry["artifactType"], "application/spdx+json");
        assert_eq!(entry["annotations"]["k"], "v");
        assert_eq!(entry["size"], bytes.len());
        assert_eq!(entry["digest"], Digest::sha256_of(bytes).as_str());
    }
}
