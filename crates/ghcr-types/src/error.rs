//! The crate's one error type.

use crate::Digest;

/// Everything that can go wrong while parsing or validating ghcr data.
///
/// Every variant names the input that was rejected and why, so a caller can
/// show the message to a person unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An image reference does not follow the distribution reference grammar.
    #[error("invalid image reference `{input}`: {reason}")]
    #[non_exhaustive]
    InvalidReference {
        /// The text that was parsed.
        input: String,
        /// Which part is wrong and why.
        reason: String,
    },

    /// A digest is not `algorithm:encoded` as the OCI image spec defines it.
    #[error("invalid digest `{input}`: {reason}")]
    #[non_exhaustive]
    InvalidDigest {
        /// The text that was parsed.
        input: String,
        /// Which part is wrong and why.
        reason: String,
    },

    /// A digest uses an algorithm this crate cannot compute.
    #[error(
        "digest algorithm `{algorithm}` cannot be verified here; only sha256 and sha512 are supported"
    )]
    #[non_exhaustive]
    UnsupportedAlgorithm {
        /// The algorithm named by the digest.
        algorithm: String,
    },

    /// Content hashed to a different digest than the one it was expected to have.
    #[error(
        "digest mismatch: expected {expected}, got {actual}; the content was altered or truncated, do not use it"
    )]
    #[non_exhaustive]
    DigestMismatch {
        /// The digest the content should have had.
        expected: Digest,
        /// The digest of the bytes actually seen.
        actual: Digest,
    },

    /// A media type is not `type/subtype[; parameters]`.
    #[error("invalid media type `{input}`: expected type/subtype as in RFC 6838")]
    #[non_exhaustive]
    InvalidMediaType {
        /// The text that was parsed.
        input: String,
    },

    /// A manifest or index could not be understood.
    #[error("invalid manifest: {reason}")]
    #[non_exhaustive]
    InvalidManifest {
        /// What is wrong with it.
        reason: String,
        /// The JSON error, when the bytes did not parse.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// A manifest of a kind this crate refuses to handle, such as Docker schema 1.
    #[error("unsupported manifest type `{media_type}`: {reason}")]
    #[non_exhaustive]
    UnsupportedManifest {
        /// The media type of the manifest.
        media_type: String,
        /// Why it is refused and what to do instead.
        reason: String,
    },

    /// A manifest is larger than registries must accept.
    #[error(
        "manifest is {size} bytes, over the {limit}-byte limit; split it into an index of smaller manifests"
    )]
    #[non_exhaustive]
    ManifestTooLarge {
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// A platform string is not `os/arch[/variant]`.
    #[error("invalid platform `{input}`: {reason}")]
    #[non_exhaustive]
    InvalidPlatform {
        /// The text that was parsed.
        input: String,
        /// Which part is wrong.
        reason: String,
    },

    /// A severity is neither a known word nor a CVSS score.
    #[error(
        "invalid severity `{input}`: use critical, high, medium, low or unknown, a SARIF level or a CVSS score from 0 to 10"
    )]
    #[non_exhaustive]
    InvalidSeverity {
        /// The text that was parsed.
        input: String,
    },

    /// A rate-limit header is missing or not a number.
    #[error("invalid rate-limit header `{header}`: {reason}")]
    #[non_exhaustive]
    InvalidRateLimit {
        /// The header that was read.
        header: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    pub(crate) fn reference(input: &str, reason: impl Into<String>) -> Self {
        Self::InvalidReference {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn digest(input: &str, reason: impl Into<String>) -> Self {
        Self::InvalidDigest {
            input: input.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn manifest(reason: impl Into<String>) -> Self {
        Self::InvalidManifest {
            reason: reason.into(),
            source: None,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "Error grew to {} bytes; box the large variant",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn messages_name_the_input_and_the_reason() {
        let err = Error::reference("Foo/Bar", "repository names must be lowercase");
        assert_eq!(
            err.to_string(),
            "invalid image reference `Foo/Bar`: repository names must be lowercase"
        );
    }
}
