//! Attestations kept by GitHub's attestations API
//! (`GET /users/{u}/attestations/{digest}` and its org and repo forms)
//! instead of, or besides, the registry: `actions/attest` always stores its
//! Sigstore bundle there and pushes it to the registry only with
//! `push-to-registry: true`.

use ghcr_types::Digest;
use time::format_description::well_known::Rfc3339;

use super::{Envelope, Layer, SIGSTORE_BUNDLE_V03, VulnFormat, vulnerability_layer};
use crate::error::{Error, Result};
use crate::fake::Store;

impl Store {
    /// Stores a vulnerability attestation for the image `subject` in
    /// GitHub's attestations API only, as `actions/attest` does without
    /// `push-to-registry`: the registry gets nothing. Returns its predicate
    /// type.
    ///
    /// # Errors
    ///
    /// [`Error::NotInStore`] when the repository lacks the subject.
    pub fn attest_on_github(
        &self,
        repository: &str,
        subject: &Digest,
        format: VulnFormat,
    ) -> Result<String> {
        if self.manifest(repository, subject.as_str()).is_none() {
            return Err(Error::not_in_store(format!(
                "manifest {subject} in {repository}"
            )));
        }
        let now_time = self.shared.clock.now();
        let now = now_time.format(&Rfc3339).unwrap_or_default();
        let name = format!("{}/{repository}", self.shared.registry_host);
        let layer = vulnerability_layer(
            format,
            Envelope::SigstoreBundle,
            &name,
            subject,
            &now,
            now_time.unix_timestamp(),
        )?;
        self.publish_bundle(repository, subject, &layer)?;
        Ok(layer.predicate_type.unwrap_or_default())
    }

    /// Lists a Sigstore bundle layer in the attestations API; other layers
    /// (DSSE envelopes, signatures) are registry-only and left alone.
    pub(super) fn publish_bundle(
        &self,
        repository: &str,
        subject: &Digest,
        layer: &Layer,
    ) -> Result<()> {
        if layer.media_type != SIGSTORE_BUNDLE_V03 {
            return Ok(());
        }
        let bundle = serde_json::from_slice(&layer.bytes).map_err(|error| Error::InvalidSeed {
            what: format!("the attestation bundle for {subject}"),
            reason: error.to_string(),
            source: None,
        })?;
        let predicate_type = layer.predicate_type.as_deref().unwrap_or_default();
        self.publish_attestation(repository, subject, predicate_type, bundle);
        Ok(())
    }
}
