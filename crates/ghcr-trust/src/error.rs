//! The crate's one error type: why a key could not be read, why a
//! signature was refused, or why the signatures could not be looked up.

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
        "the payload is {size} bytes, over the {limit}-byte limit for a simple-signing payload"
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
