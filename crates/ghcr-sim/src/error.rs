//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while recording, replaying or running the
/// fake registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A replayed request matches no recorded interaction.
    #[error(
        "no recorded interaction matches {request}{}; re-record the fixture with `cargo xtask record` if the code under test changed its requests",
        nearest.as_ref().map(|n| format!(" (nearest recorded: {n})")).unwrap_or_default()
    )]
    #[non_exhaustive]
    SimulationMismatch {
        /// The request, as `METHOD path?query`.
        request: String,
        /// The closest recorded request, when the cassette has any.
        nearest: Option<String>,
    },

    /// Strict replay ended with recorded interactions that were never requested.
    #[error(
        "{count} recorded interaction(s) were not replayed, the first being {first}; the code under test made fewer requests than when the fixture was recorded"
    )]
    #[non_exhaustive]
    Unconsumed {
        /// How many interactions were left.
        count: usize,
        /// The first of them, as `METHOD path?query`.
        first: String,
    },

    /// A cassette or side file could not be read or written.
    #[error("could not access {path}: check that the fixture folder exists and is writable")]
    #[non_exhaustive]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A cassette is not valid JSON of the documented shape.
    #[error("{path} is not a valid cassette: {reason}; re-record it with `cargo xtask record`")]
    #[non_exhaustive]
    InvalidCassette {
        /// The cassette file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// The JSON error, when it did not parse.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// A cassette was written by a format version this crate cannot read.
    #[error(
        "{path} has cassette format version {found}, this crate reads version {supported}; re-record it with `cargo xtask record`"
    )]
    #[non_exhaustive]
    UnsupportedVersion {
        /// The cassette file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this crate writes and reads.
        supported: u64,
    },

    /// A side file's content does not hash to its recorded digest (FR-SIM-003).
    #[error(
        "side file {path} was altered: its content hashes to {actual}, the cassette expects {expected}; restore it from version control or re-record"
    )]
    #[non_exhaustive]
    BodyHashMismatch {
        /// The side file.
        path: PathBuf,
        /// The digest the cassette names.
        expected: ghcr_types::Digest,
        /// The digest of the bytes on disk.
        actual: ghcr_types::Digest,
    },

    /// A fixture was replayed but never recorded.
    #[error("fixture `{name}` has no cassette at {path}; record it with `cargo xtask record`")]
    #[non_exhaustive]
    FixtureNotFound {
        /// The fixture's name.
        name: String,
        /// Where its cassette was looked for.
        path: PathBuf,
    },

    /// A setting (an environment variable, a builder value) is not usable.
    #[error("invalid setting `{setting}`: {reason}")]
    #[non_exhaustive]
    InvalidSetting {
        /// The variable or setter.
        setting: String,
        /// Why the value is refused and what is accepted.
        reason: String,
    },

    /// The fake registry could not listen on its address.
    #[error("the fake registry could not listen on {addr}; pick another address or port")]
    #[non_exhaustive]
    Bind {
        /// The address asked for.
        addr: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// Content given to the fake's store is not acceptable (a manifest that
    /// does not parse, a digest that does not match).
    #[error("cannot seed {what}: {reason}")]
    #[non_exhaustive]
    InvalidSeed {
        /// What was being stored.
        what: String,
        /// Why it was refused.
        reason: String,
        /// The parse error, when there is one.
        #[source]
        source: Option<Box<ghcr_types::Error>>,
    },

    /// The fake's store holds no such repository, tag or version.
    #[error("the fake registry has no {what}; push it (or seed it through the store) first")]
    #[non_exhaustive]
    NotInStore {
        /// What was looked up.
        what: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn setting(setting: &str, reason: impl Into<String>) -> Self {
        Self::InvalidSetting {
            setting: setting.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_in_store(what: impl Into<String>) -> Self {
        Self::NotInStore { what: what.into() }
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
            std::mem::size_of::<Error>() <= 96,
            "Error grew to {} bytes; box the large variant",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn mismatch_names_the_request_and_the_nearest() {
        let err = Error::SimulationMismatch {
            request: "GET /v2/o/a/tags/list".into(),
            nearest: Some("GET /v2/o/a/tags/list?n=10".into()),
        };
        let text = err.to_string();
        assert!(text.starts_with("no recorded interaction matches GET /v2/o/a/tags/list (nearest recorded: GET /v2/o/a/tags/list?n=10)"), "{text}");
        let none = Error::SimulationMismatch {
            request: "GET /v2/".into(),
            nearest: None,
        };
        assert!(!none.to_string().contains("nearest"));
    }
}
