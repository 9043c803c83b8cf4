//! The crate's one error type.

use ghcr_types::Digest;

/// What can go wrong in a registry operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request pipeline failed or the registry refused (auth, rate
    /// limits, network, unexpected statuses).
    #[error(transparent)]
    Transport(#[from] ghcr_transport::Error),

    /// Data did not validate: a reference, a media type or a manifest.
    #[error(transparent)]
    Data(ghcr_types::Error),

    /// Content hashed to another digest than expected.
    #[error(
        "digest mismatch for {what}: expected {expected}, got {actual}; the content was altered or truncated and was not kept"
    )]
    #[non_exhaustive]
    DigestMismatch {
        /// What was being transferred (a blob or manifest and where from).
        what: String,
        /// The digest the content should have had.
        expected: Digest,
        /// The digest of the bytes actually seen.
        actual: Digest,
    },

    /// The registry refused an upload's bytes: they do not hash to the
    /// digest its commit carried (`DIGEST_INVALID`).
    #[error(
        "the registry refused {what}: its bytes do not hash to {expected}; the source changed or is corrupt (re-create it), nothing was committed"
    )]
    #[non_exhaustive]
    DigestRefused {
        /// The blob and where it went.
        what: String,
        /// The digest the source was given.
        expected: Digest,
    },

    /// Content had another length than its descriptor says.
    #[error(
        "{digest} should be {expected} bytes but {actual} arrived; the transfer was cut or the registry is wrong, nothing was kept"
    )]
    #[non_exhaustive]
    SizeMismatch {
        /// The blob.
        digest: Digest,
        /// The descriptor's size.
        expected: u64,
        /// What arrived (or was about to be sent).
        actual: u64,
    },

    /// The registry sent us to another origin, which was not followed.
    #[error(
        "{registry} sent {what} leading to {host}, another origin, and nothing was sent there: {reason}"
    )]
    #[non_exhaustive]
    ForeignOrigin {
        /// What pointed there (an upload `Location`, a tag `Link`).
        what: &'static str,
        /// The registry the operation named.
        registry: String,
        /// Where it pointed (`host[:port]`).
        host: String,
        /// Why it was refused, and how to allow it.
        reason: String,
    },

    /// A registry's answers went past one of the client's fixed limits.
    #[error(
        "{at}: more than {limit} {what}; the registry's answers go past this client's limit, so it stopped"
    )]
    #[non_exhaustive]
    LimitExceeded {
        /// What was counted (`tags`, `tag list pages`, `children of one index`).
        what: &'static str,
        /// The limit.
        limit: u64,
        /// Where (a repository or URL, without query).
        at: String,
    },

    /// The manifest or tag does not exist.
    #[error("{reference} does not exist (or this account may not read it)")]
    #[non_exhaustive]
    ManifestNotFound {
        /// What was asked for.
        reference: String,
    },

    /// A manifest body grew past the limit while it was read.
    #[error(
        "manifest {reference} is larger than {limit} bytes; registries and clients only promise 4 MiB, split it into an index"
    )]
    #[non_exhaustive]
    ManifestTooLarge {
        /// What was read.
        reference: String,
        /// The limit in bytes.
        limit: u64,
    },

    /// The blob does not exist in the repository.
    #[error("blob {digest} does not exist in {repository} (or this account may not read it)")]
    #[non_exhaustive]
    BlobNotFound {
        /// The repository, with its registry.
        repository: String,
        /// The blob.
        digest: Digest,
    },

    /// The registry does not offer the operation.
    #[error("{registry} does not support {operation}; {hint}")]
    #[non_exhaustive]
    Unsupported {
        /// The registry host.
        registry: String,
        /// What was attempted.
        operation: &'static str,
        /// What to do instead.
        hint: &'static str,
    },

    /// An upload stopped and could neither be resumed nor restarted.
    #[error(
        "upload of {what} to {repository} stopped at byte {offset}; run the push again, blobs already pushed are skipped"
    )]
    #[non_exhaustive]
    UploadInterrupted {
        /// The repository, with its registry.
        repository: String,
        /// The blob (its digest when known).
        what: String,
        /// The bytes the registry confirmed.
        offset: u64,
        /// Why it stopped.
        #[source]
        source: Box<Error>,
    },

    /// A response body stopped before its end.
    #[error("the transfer of {what} was cut before its end; try again")]
    #[non_exhaustive]
    Interrupted {
        /// What was being transferred.
        what: String,
        /// The connection's error.
        #[source]
        source: ghcr_transport::BoxError,
    },

    /// The registry answered something the protocol does not allow.
    #[error("{url}: {reason}")]
    #[non_exhaustive]
    Protocol {
        /// Where, without query.
        url: String,
        /// What was wrong.
        reason: String,
    },

    /// An index has no manifest for the platform.
    #[error("{reference} has no image for {platform}; it offers: {available}")]
    #[non_exhaustive]
    PlatformNotFound {
        /// The index.
        reference: String,
        /// What was asked for.
        platform: String,
        /// What the index offers, comma-separated.
        available: String,
    },

    /// An OCI image layout on disk is missing or malformed.
    #[error("OCI layout {path}: {reason}")]
    #[non_exhaustive]
    Layout {
        /// The layout folder or file.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// A tarball (`docker save` output, an OCI layout archive) is
    /// unreadable, unsafe or incomplete.
    #[error("tarball {path}: {reason}")]
    #[non_exhaustive]
    Archive {
        /// The tarball.
        path: String,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    #[non_exhaustive]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A reference cannot be used for this operation (a digest that
    /// contradicts the content, a tag where a digest is needed, …).
    #[error("{reference} cannot be used here: {reason}")]
    #[non_exhaustive]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// Why.
        reason: String,
    },

    /// An artifact file's title could not be written safely inside a
    /// folder: it could leave it, is repeated, or is empty.
    #[error(
        "artifact {reference}: file title {title:?} {reason}; titles must be relative paths inside the folder, each used once, so nothing was written"
    )]
    #[non_exhaustive]
    UnsafeTitle {
        /// The artifact.
        reference: String,
        /// The title as given (in the manifest, or a file's name).
        title: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A tag filter is not a valid regular expression.
    #[error("tag filter `{pattern}` is not a valid regular expression")]
    #[non_exhaustive]
    InvalidFilter {
        /// The pattern.
        pattern: String,
        /// What the regex parser said.
        #[source]
        source: Box<regex::Error>,
    },

    /// A semantic-version range (sync's `semver`) does not parse.
    #[error(
        "semver range `{range}` is not valid; write Cargo's comparators, like `>=1.2, <2`, `^3` or `~1.4`"
    )]
    #[non_exhaustive]
    InvalidVersionRange {
        /// The range as given.
        range: String,
        /// What the parser said.
        #[source]
        source: Box<semver::Error>,
    },

    /// A client setting cannot work.
    #[error("registry client setting `{setting}`: {reason}")]
    #[non_exhaustive]
    Config {
        /// The setting.
        setting: &'static str,
        /// What is wrong and what to use instead.
        reason: String,
    },
}

impl From<ghcr_types::Error> for Error {
    fn from(error: ghcr_types::Error) -> Self {
        match error {
            ghcr_types::Error::DigestMismatch {
                expected, actual, ..
            } => Self::DigestMismatch {
                what: "content".into(),
                expected,
                actual,
            },
            other => Self::Data(other),
        }
    }
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn archive(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Archive {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn layout(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Layout {
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn protocol(url: &http::Uri, reason: impl Into<String>) -> Self {
        Self::Protocol {
            url: ghcr_transport::redact_url(url),
            reason: reason.into(),
        }
    }

    pub(crate) fn reference(reference: &impl ToString, reason: impl Into<String>) -> Self {
        Self::InvalidReference {
            reference: reference.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn mismatch(what: impl Into<String>, expected: &Digest, actual: Digest) -> Self {
        Self::DigestMismatch {
            what: what.into(),
            expected: expected.clone(),
            actual,
        }
    }

    /// Whether content failed verification (altered or truncated).
    pub fn is_digest_mismatch(&self) -> bool {
        match self {
            Self::DigestMismatch { .. }
            | Self::SizeMismatch { .. }
            | Self::DigestRefused { .. } => true,
            Self::UploadInterrupted { source, .. } => source.is_digest_mismatch(),
            _ => false,
        }
    }

    /// Whether the thing asked for does not exist (or may not be read).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::ManifestNotFound { .. }
                | Self::BlobNotFound { .. }
                | Self::Transport(ghcr_transport::Error::NotFound { .. })
        )
    }

    /// The HTTP status behind the error, when a registry answered one.
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            Self::Transport(error) => error.status(),
            Self::UploadInterrupted { source, .. } => source.status(),
            Self::ManifestNotFound { .. } | Self::BlobNotFound { .. } => {
                Some(http::StatusCode::NOT_FOUND)
            }
            _ => None,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 112,
            "Error grew to {} bytes; box the large variant",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn a_types_mismatch_becomes_our_variant() {
        let expected = Digest::sha256_of(b"a");
        let actual = Digest::sha256_of(b"b");
        let error: Error = expected.verify(b"b").unwrap_err().into();
        assert!(error.is_digest_mismatch());
        let text = error.to_string();
        assert!(
            text.contains(expected.as_str()) && text.contains(actual.as_str()),
            "{text}"
        );
    }

    #[test]
    fn interrupted_uploads_keep_the_cause() {
        let error = Error::UploadInterrupted {
            repository: "127.0.0.1:5000/a/b".into(),
            what: "blob".into(),
            offset: 7,
            source: Box::new(Error::SizeMismatch {
                digest: Digest::sha256_of(b""),
                expected: 1,
                actual: 2,
            }),
        };
        assert!(error.is_digest_mismatch());
        assert!(error.to_string().contains("byte 7"));
    }
}
