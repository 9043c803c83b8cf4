//! The crate's one error type: why a key could not be read, why a
//! signature or attestation was refused, or why the signatures could not be looked up.

use ghcr_types::Digest;

/// What can go wrong reading a key or verifying a signature.
///
/// A refused signature is one of these values, kept beside the others in
/// a [`crate::Verification`]: one bad signature does not hide a good one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key file is not an ECDSA P-256 public key in PEM.
    #[error(
        "{what} is not an ECDSA P-256 public key in PEM (`-----BEGIN PUBLIC KEY-----`, as `cosign generate-key-pair` writes cosign.pub): {reason}"
    )]
    #[non_exhaustive]
    InvalidKey {
        /// Where the key came from (a file name).
        what: String,
        /// What the PEM or SPKI decoder said.
        reason: String,
    },

    /// The policy has nothing to verify with.
    #[error("the policy names no public key; give one (`--key cosign.pub`)")]
    NoKeys,

    /// A layer of a signature manifest is not a simple-signing payload.
    #[error(
        "layer {layer} is a `{media_type}`, not a cosign simple-signing payload (`{expected}`); it was not checked",
        expected = crate::SIMPLE_SIGNING_MEDIA_TYPE
    )]
    #[non_exhaustive]
    NotSimpleSigning {
        /// The layer's digest.
        layer: Digest,
        /// Its media type.
        media_type: String,
    },

    /// The layer carries no signature annotation.
    #[error(
        "layer {layer} has no `{annotation}` annotation: it is not signed (a keyless bundle, or a payload pushed without its signature)",
        annotation = crate::SIGNATURE_ANNOTATION
    )]
    #[non_exhaustive]
    MissingSignature {
        /// The layer's digest.
        layer: Digest,
    },

    /// The signature annotation is not base64 of a DER ECDSA signature.
    #[error(
        "the signature annotation is not base64 of an ASN.1 DER ECDSA P-256 signature ({reason}); the signature manifest is damaged or not cosign's"
    )]
    #[non_exhaustive]
    MalformedSignature {
        /// Which decoding step failed.
        reason: String,
    },

    /// The payload's bytes hash to another digest than their layer says.
    #[error(
        "the payload hashes to {actual}, not to its layer's {expected}: it was altered after signing"
    )]
    #[non_exhaustive]
    LayerDigestMismatch {
        /// The layer descriptor's digest.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },

    /// The payload is larger than any simple-signing payload should be.
    #[error(
        "the payload is {size} bytes, over the {limit}-byte limit for a signature payload or attestation envelope"
    )]
    #[non_exhaustive]
    PayloadTooLarge {
        /// Its size.
        size: u64,
        /// [`crate::MAX_PAYLOAD_SIZE`].
        limit: usize,
    },

    /// No key of the policy verifies the signature over the payload.
    #[error(
        "the signature does not verify with {}: signed by another key, or the payload was changed",
        keys_phrase(*keys)
    )]
    #[non_exhaustive]
    SignatureMismatch {
        /// How many keys were tried.
        keys: usize,
    },

    /// The signed payload is not a simple-signing document.
    #[error("the signed payload is not a cosign simple-signing document: {source}")]
    #[non_exhaustive]
    InvalidPayload {
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },

    /// The signed payload is of another kind than an image signature.
    #[error(
        "the signed payload's `critical.type` is `{found}`, not `{expected}`",
        expected = crate::SIMPLE_SIGNING_TYPE
    )]
    #[non_exhaustive]
    WrongPayloadType {
        /// The type found.
        found: String,
    },

    /// The signature is valid but for another image.
    #[error(
        "the signature is valid but signs {signed}, not {image}: it belongs to another image (moved or copied here)"
    )]
    #[non_exhaustive]
    OtherImage {
        /// The `docker-manifest-digest` the payload signs.
        signed: String,
        /// The digest of the image being verified.
        image: Digest,
    },

    /// A layer of an attestation manifest is not a DSSE envelope.
    #[error(
        "layer {layer} is a `{media_type}`, not a DSSE envelope (`{expected}`); it was not checked",
        expected = crate::DSSE_MEDIA_TYPE
    )]
    #[non_exhaustive]
    NotDsse {
        /// The layer's digest.
        layer: Digest,
        /// Its media type.
        media_type: String,
    },

    /// The layer's bytes are not a DSSE envelope.
    #[error("the attestation is not a DSSE envelope: {reason}")]
    #[non_exhaustive]
    InvalidEnvelope {
        /// What is wrong with it.
        reason: String,
    },

    /// The envelope is validly signed but carries something else than an
    /// in-toto statement.
    #[error(
        "the envelope's `payloadType` is `{found}`, not `{expected}`",
        expected = crate::IN_TOTO_PAYLOAD_TYPE
    )]
    #[non_exhaustive]
    WrongEnvelopeType {
        /// The type found.
        found: String,
    },

    /// The signed envelope payload is not an in-toto Statement.
    #[error("the signed payload is not an in-toto Statement: {source}")]
    #[non_exhaustive]
    InvalidStatement {
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },

    /// The statement's `_type` is not one of the in-toto Statement types.
    #[error("the statement's `_type` is `{found}`, not in-toto's Statement v0.1 or v1")]
    #[non_exhaustive]
    WrongStatementType {
        /// The type found.
        found: String,
    },

    /// The attestation is valid but about other artifacts.
    #[error(
        "the attestation is valid but its subjects are {subjects}, not {image}: it is about another image (moved or copied here)"
    )]
    #[non_exhaustive]
    SubjectMismatch {
        /// The subjects' sha256 digests.
        subjects: String,
        /// The digest of the image being verified.
        image: Digest,
    },

    /// The attestation verified but is of another predicate type than
    /// asked for.
    #[error("the attestation is valid but its predicate type is `{found}`, not `{wanted}`")]
    #[non_exhaustive]
    OtherPredicateType {
        /// `predicateType` found.
        found: String,
        /// The one asked for (`--predicate-type`).
        wanted: String,
    },

    /// The policy has no keyless identity to verify a bundle with.
    #[error(
        "the policy names no keyless identity; give one (`--certificate-identity` with `--certificate-oidc-issuer`, or `--owner`/`--repo`)"
    )]
    NoIdentities,

    /// An identity policy does not name a signer.
    #[error("the identity policy is incomplete: it needs {missing}")]
    #[non_exhaustive]
    IncompleteIdentity {
        /// What is missing.
        missing: &'static str,
    },

    /// `--certificate-identity-regexp` is no regular expression.
    #[error("`{pattern}` is not a regular expression")]
    #[non_exhaustive]
    InvalidIdentityPattern {
        /// The pattern.
        pattern: String,
        /// What the regex parser said.
        #[source]
        source: Box<regex::Error>,
    },

    /// The trusted root does not parse.
    #[error("the trusted root is not a Sigstore trusted_root.json: {reason}")]
    #[non_exhaustive]
    InvalidTrustedRoot {
        /// What is wrong with it.
        reason: String,
    },

    /// The bytes are not a Sigstore bundle.
    #[error("the attestation is not a Sigstore bundle: {reason}")]
    #[non_exhaustive]
    InvalidBundle {
        /// What is wrong with it.
        reason: String,
    },

    /// A bundle of a kind not verified yet.
    #[error("the bundle was not checked: {reason}")]
    #[non_exhaustive]
    UnsupportedBundle {
        /// What is not supported.
        reason: String,
    },

    /// The bundle's signature does not verify with its certificate's key.
    #[error(
        "the bundle's signature does not verify with its certificate's key: the content was changed after signing"
    )]
    CertificateSignatureMismatch,

    /// The transparency-log entry is not this bundle's.
    #[error("the transparency-log entry does not match the bundle: {reason}")]
    #[non_exhaustive]
    LogEntryMismatch {
        /// What differs.
        reason: String,
    },

    /// The transparency log does not vouch for the entry.
    #[error("the transparency-log entry is not proven: {reason}")]
    #[non_exhaustive]
    TransparencyLog {
        /// Which check failed.
        reason: String,
    },

    /// The signing certificate does not chain to a trusted CA.
    #[error("the signing certificate is not trusted: {reason}")]
    #[non_exhaustive]
    UntrustedCertificate {
        /// Which check failed.
        reason: String,
    },

    /// The signing certificate was not valid when the log integrated it.
    #[error(
        "the signing certificate was valid from {not_before} to {not_after}, not at {signed_at} when the log recorded the signature"
    )]
    #[non_exhaustive]
    CertificateNotValid {
        /// Its notBefore.
        not_before: String,
        /// Its notAfter.
        not_after: String,
        /// The logged time.
        signed_at: String,
    },

    /// The signing certificate is not for code signing.
    #[error("the signing certificate cannot sign code: {reason}")]
    #[non_exhaustive]
    CertificateUsage {
        /// Which check failed.
        reason: String,
    },

    /// The signer is not one the policy accepts.
    #[error("the signer is not one the policy accepts: {reason}")]
    #[non_exhaustive]
    IdentityMismatch {
        /// The first part that differs.
        reason: String,
    },

    /// A message-signature bundle where an attestation was expected.
    #[error("the bundle signs a message digest, not a DSSE attestation")]
    NotAnAttestation,

    /// A DSSE bundle where a message signature was expected.
    #[error("the bundle holds a DSSE attestation, not a message signature")]
    NotAMessageSignature,

    /// The bundle validly signs another artifact.
    #[error("the bundle is valid but signs {signed}, not {artifact}")]
    #[non_exhaustive]
    OtherArtifact {
        /// The digest signed.
        signed: String,
        /// The artifact being verified.
        artifact: Digest,
    },

    /// A reference or digest did not validate.
    #[error(transparent)]
    Data(#[from] ghcr_types::Error),

    /// Looking the signatures up failed.
    #[error("looking up the signatures failed")]
    Registry(#[from] ghcr_registry::Error),
}

fn keys_phrase(keys: usize) -> String {
    match keys {
        1 => "the policy's key".to_owned(),
        n => format!("any of the policy's {n} keys"),
    }
}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_is_small_and_thread_safe() {
        fn send_sync_static<T: Send + Sync + 'static>() {}
        send_sync_static::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 160,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
