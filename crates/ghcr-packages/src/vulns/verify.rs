//! Whether a found vulnerability attestation is signed by a signer the
//! client's [`Policy`] trusts: the one place an attestation found in the
//! registry (a cosign `.att` DSSE layer, an in-toto DSSE layer, a Sigstore
//! bundle layer) or in GitHub's attestations API (a Sigstore bundle) is
//! verified. No I/O.
//!
//! A DSSE envelope, and the envelope inside a bundle whose verification
//! material is a public key (hint), verify with
//! [`ghcr_trust::verify_envelope`]: a policy key's signature over the
//! envelope's PAE, an in-toto Statement naming the image. A bundle signed
//! with a certificate (keyless) goes to [`verify_keyless_bundle`], which
//! verifies it against the policy's identities and trusted root. A bare
//! statement has nothing to verify. The report is then built from the
//! statement the verification returned, never from the unverified parse.

use ghcr_trust::{Attested, Policy, Signer};
use ghcr_types::{Digest, ReportSigner};
use serde_json::Value;

use super::dsse::Statement;

/// How a found attestation is wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wrapping {
    /// A DSSE envelope (`application/vnd.dsse.envelope.v1+json`).
    Envelope,
    /// A Sigstore bundle (`application/vnd.dev.sigstore.bundle…`).
    Bundle,
    /// A bare in-toto statement (`application/vnd.in-toto+json`).
    Statement,
}

/// An attestation that verified: who signed it, and the signed statement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Verified {
    pub(crate) signer: ReportSigner,
    pub(crate) statement: Statement,
}

/// Why an attestation was left out under a policy.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    /// The envelope did not verify (another key, changed payload, another
    /// subject, no signatures, …).
    #[error(transparent)]
    Signature(ghcr_trust::Error),
    /// The envelope's signature is not an ECDSA signature at all: a
    /// placeholder, or garbage.
    #[error(
        "its DSSE signature is not base64 of an ASN.1 DER ECDSA signature ({0}): it is unsigned or forged"
    )]
    MalformedSignature(String),
    /// A statement outside any envelope.
    #[error("it is a bare in-toto statement: nothing signs it")]
    Unsigned,
    /// A bundle that names neither a key nor a certificate.
    #[error("the Sigstore bundle has no verification material (a public key or a certificate)")]
    NoVerificationMaterial,
    /// The bytes are not what their media type says.
    #[error("the attestation is not readable JSON of its kind: {0}")]
    Unreadable(String),
    /// A signer a report cannot name yet.
    #[error("it verified, but its signer ({0}) cannot be named in a report")]
    SignerKind(String),
}

impl From<ghcr_trust::Error> for Refusal {
    fn from(error: ghcr_trust::Error) -> Self {
        match error {
            ghcr_trust::Error::MalformedSignature { reason, .. } => {
                Self::MalformedSignature(reason)
            }
            other => Self::Signature(other),
        }
    }
}

/// Verifies one found attestation (`bytes` as found, wrapped as
/// `wrapping`) about `subject` under `policy`.
pub(crate) fn verify_found(
    wrapping: Wrapping,
    bytes: &[u8],
    subject: &Digest,
    policy: &Policy,
) -> Result<Verified, Refusal> {
    match wrapping {
        Wrapping::Envelope => verified(ghcr_trust::verify_envelope(bytes, subject, policy, None)?),
        Wrapping::Bundle => {
            let bundle: Value = serde_json::from_slice(bytes)
                .map_err(|error| Refusal::Unreadable(error.to_string()))?;
            verify_bundle(&bundle, subject, policy)
        }
        Wrapping::Statement => Err(Refusal::Unsigned),
    }
}

/// A Sigstore bundle: keyed (a `publicKey` hint) or keyless (a certificate).
fn verify_bundle(bundle: &Value, subject: &Digest, policy: &Policy) -> Result<Verified, Refusal> {
    let material = bundle.get("verificationMaterial");
    let has = |key: &str| {
        material
            .and_then(|material| material.get(key))
            .is_some_and(|value| !value.is_null())
    };
    if has("certificate") || has("x509CertificateChain") {
        return verify_keyless_bundle(bundle, subject, policy);
    }
    if !has("publicKey") {
        return Err(Refusal::NoVerificationMaterial);
    }
    let envelope = bundle
        .get("dsseEnvelope")
        .ok_or_else(|| Refusal::Unreadable("the Sigstore bundle has no dsseEnvelope".into()))?;
    let envelope =
        serde_json::to_vec(envelope).map_err(|error| Refusal::Unreadable(error.to_string()))?;
    verified(ghcr_trust::verify_envelope(
        &envelope, subject, policy, None,
    )?)
}

/// A bundle signed with a Fulcio certificate, verified by
/// [`ghcr_trust::verify_bundle`]: the certificate chain to the policy's
/// trusted root, the transparency log's entry (or a signed timestamp), the
/// signature over the envelope, the statement's subject, and the policy's
/// identities.
pub(crate) fn verify_keyless_bundle(
    bundle: &Value,
    subject: &Digest,
    policy: &Policy,
) -> Result<Verified, Refusal> {
    let bytes =
        serde_json::to_vec(bundle).map_err(|error| Refusal::Unreadable(error.to_string()))?;
    verified(ghcr_trust::verify_bundle(&bytes, subject, policy, None)?)
}

/// The report's view of what verified.
fn verified(attested: Attested) -> Result<Verified, Refusal> {
    let signer = match attested.signer {
        Signer::Key { fingerprint } => ReportSigner::Key { fingerprint },
        Signer::Keyless(id) => ReportSigner::Certificate {
            repository: id.repository().map(str::to_owned),
            workflow: id.workflow().map(str::to_owned),
            identity: id.identity,
            issuer: id.issuer,
        },
        other => return Err(Refusal::SignerKind(format!("{other:?}"))),
    };
    let statement = attested.statement;
    let subjects = statement
        .subject
        .iter()
        .flat_map(|subject| {
            subject
                .digest
                .iter()
                .map(|(algorithm, hex)| format!("{algorithm}:{hex}"))
        })
        .collect();
    Ok(Verified {
        signer,
        statement: Statement {
            predicate_type: statement.predicate_type,
            predicate: statement.predicate,
            subjects,
        },
    })
}

#[cfg(test)]
mod tests;
