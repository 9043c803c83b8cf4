//! What a lookup hands back under a verification policy: the reports
//! whose signatures verified, and the attestations left out with why.

use ghcr_types::{Digest, VulnerabilityReport};
use serde::Serialize;

/// Where an attestation was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// Attached to the image in the registry.
    Registry,
    /// GitHub's attestations API.
    GithubAttestationsApi,
}

/// A vulnerability attestation left out of every answer and decision
/// because its signature did not verify under the client's policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IgnoredAttestation {
    /// Where it was found.
    pub origin: Origin,
    /// Its artifact manifest in the registry (none for GitHub's API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Digest>,
    /// The digest of the envelope or bundle that was checked.
    pub envelope: Digest,
    /// The predicate type it claims (unverified).
    pub predicate_type: String,
    /// Why it was refused.
    pub reason: String,
}

impl std::fmt::Display for IgnoredAttestation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.attestation {
            Some(manifest) => write!(f, "{manifest}")?,
            None => write!(f, "{} (GitHub's attestations API)", self.envelope)?,
        }
        write!(f, ": {}", self.reason)
    }
}

/// The vulnerability attestations of one image.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Scans {
    /// Reports, newest scan first; under a policy only those that verified.
    pub reports: Vec<VulnerabilityReport>,
    /// Under a policy: the attestations left out, with why.
    pub ignored: Vec<IgnoredAttestation>,
}

/// `; `-separated ignored attestations, for error messages.
pub(crate) fn list(ignored: &[IgnoredAttestation]) -> String {
    let items: Vec<String> = ignored.iter().map(ToString::to_string).collect();
    items.join("; ")
}
