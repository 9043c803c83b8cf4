//! The crate's one error type: configuration problems, and the errors of
//! the crates below, kept whole so callers can match on them.

/// What can go wrong configuring or using a [`crate::GhcrClient`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is out of range or malformed. It names the environment
    /// variable that carries it, so the fix is the same either way.
    #[error("invalid {setting} (environment variable {variable}): {reason}")]
    #[non_exhaustive]
    Config {
        /// The builder setting (`chunk_size`).
        setting: &'static str,
        /// The environment variable (`GHCR_CHUNK_SIZE`).
        variable: &'static str,
        /// What is wrong and what is accepted.
        reason: String,
    },

    /// A multi-platform image was asked for with no platform image.
    #[error("the index for {target} needs at least one platform image")]
    #[non_exhaustive]
    EmptyIndex {
        /// Where it was to be pushed.
        target: String,
    },

    /// The request pipeline failed or could not be built.
    #[error(transparent)]
    Transport(#[from] ghcr_transport::Error),

    /// An OCI registry operation failed.
    #[cfg(feature = "registry")]
    #[error(transparent)]
    Registry(#[from] ghcr_registry::Error),

    /// A GitHub Packages API operation failed.
    #[cfg(feature = "packages")]
    #[error(transparent)]
    Packages(#[from] ghcr_packages::Error),

    /// Data did not validate (a reference, a digest).
    #[error(transparent)]
    Data(#[from] ghcr_types::Error),

    /// Recording or replaying (GHCR_SIMULATION_MODE) failed.
    #[cfg(feature = "sim")]
    #[error(transparent)]
    Simulation(#[from] ghcr_sim::Error),
}

impl Error {
    pub(crate) fn config(
        setting: &'static str,
        variable: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self::Config {
            setting,
            variable,
            reason: reason.into(),
        }
    }

    /// Whether the thing asked for does not exist (or may not be seen).
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Transport(error) => matches!(error, ghcr_transport::Error::NotFound { .. }),
            #[cfg(feature = "registry")]
            Self::Registry(error) => error.is_not_found(),
            #[cfg(feature = "packages")]
            Self::Packages(error) => error.is_not_found(),
            _ => false,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(
            std::mem::size_of::<Error>() <= 128,
            "Error grew to {} bytes; box the large variant",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn config_errors_name_setting_and_variable() {
        let error = Error::config("chunk_size", "GHCR_CHUNK_SIZE", "must be at most 4 MiB");
        assert_eq!(
            error.to_string(),
            "invalid chunk_size (environment variable GHCR_CHUNK_SIZE): must be at most 4 MiB"
        );
        assert!(!error.is_not_found());
    }
}
