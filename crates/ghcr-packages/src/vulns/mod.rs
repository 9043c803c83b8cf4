//! Vulnerability reports read from what really exists (FR-VULN): GitHub
//! has no vulnerability endpoint for packages, so reports come from scan
//! attestations attached to the image digest.
//!
//! - Discovery (`attestations.rs`): the referrers API or the `sha256-<hex>`
//!   referrers tag, cosign's legacy `.att` tag, and optionally GitHub's
//!   attestations API (`github.rs`).
//! - Envelopes: DSSE (`dsse.rs`) and Sigstore bundles (`bundle.rs`).
//! - Predicates: cosign's vuln predicate (`cosign.rs`) carrying a Trivy JSON
//!   report (`trivy.rs`) or a SARIF log (`sarif.rs`), and in-toto vulns
//!   v0.1 (`intoto.rs`).
//!
//! - Verification (`verify.rs`), when the client has a policy
//!   ([`crate::PackagesClientBuilder::verify_with`]): each attestation's
//!   envelope is checked before its report counts; the others are listed
//!   as ignored (`scans.rs`).
//!
//! Every report records its provenance; `signature_verified` is true
//! only for a report whose attestation verified under the policy.

mod attestations;
mod bundle;
mod cosign;
mod dsse;
mod github;
mod intoto;
mod json;
mod lookup;
#[cfg(test)]
mod proptests;
mod read;
mod sarif;
mod scans;
mod trivy;
mod verify;

pub use cosign::COSIGN_VULN_PREDICATE;
pub use github::AttestationsApi;
pub use intoto::IN_TOTO_VULNS_PREDICATE;
pub use lookup::{VulnerableVersion, VulnerableVersions};
pub use read::parse_vulnerability_attestation;
pub(crate) use scans::list as list_ignored;
pub use scans::{IgnoredAttestation, Origin, Scans};
