//! The crate's one error type.

/// What can go wrong while finding credentials or fetching a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `WWW-Authenticate` header could not be parsed.
    #[error("malformed WWW-Authenticate header at byte {position}: {reason}")]
    #[non_exhaustive]
    MalformedChallenge {
        /// Where parsing stopped.
        position: usize,
        /// What was expected there.
        reason: &'static str,
    },

    /// The `WWW-Authenticate` headers are longer than any real challenge.
    #[error(
        "WWW-Authenticate challenge of {length} bytes or more refused: the limit is {limit} bytes; the server (or a proxy) is sending a broken header"
    )]
    #[non_exhaustive]
    ChallengeTooLong {
        /// How many bytes had been seen when parsing stopped.
        length: usize,
        /// The limit.
        limit: usize,
    },

    /// A token scope is not `type:name:actions`.
    #[error(
        "invalid token scope `{input}`: expected type:name:actions, like repository:octo/app:pull"
    )]
    #[non_exhaustive]
    InvalidScope {
        /// The text that was parsed.
        input: String,
    },

    /// The token endpoint refused the credentials or the scope.
    #[error(
        "{registry} refused a token for `{scope}`: {message}; check the username and token (a PAT needs read:packages to pull, write:packages to push)"
    )]
    #[non_exhaustive]
    AuthFailed {
        /// The registry the token was for.
        registry: String,
        /// The scopes asked for.
        scope: String,
        /// The registry's own message.
        message: String,
    },

    /// The token endpoint answered something other than a token.
    #[error("the token endpoint {realm} answered {status}: {message}")]
    #[non_exhaustive]
    TokenEndpoint {
        /// The realm, without its query.
        realm: String,
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        message: String,
    },

    /// The token endpoint did not deliver a token in time.
    #[error(
        "the token endpoint {realm} gave no token within {} s; it is stalled or the network is slow, try again (or raise GHCR_TIMEOUT_SECS)",
        after.as_secs_f64()
    )]
    #[non_exhaustive]
    TokenTimeout {
        /// The realm, without its query.
        realm: String,
        /// The deadline.
        after: std::time::Duration,
    },

    /// The challenge named a realm we refuse to send credentials to.
    #[error("refusing token realm `{realm}`: {reason}")]
    #[non_exhaustive]
    UnsafeRealm {
        /// The realm, without its query.
        realm: String,
        /// Why it is refused.
        reason: &'static str,
    },

    /// The token endpoint could not be reached.
    #[error("could not reach the token endpoint {realm}")]
    #[non_exhaustive]
    TokenRequest {
        /// The realm, without its query.
        realm: String,
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A Docker config file could not be read or understood.
    #[error("docker config {path}: {reason}")]
    #[non_exhaustive]
    DockerConfig {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A Docker credential helper failed.
    #[error("credential helper `docker-credential-{helper}` failed for {registry}: {reason}")]
    #[non_exhaustive]
    CredentialHelper {
        /// The helper's suffix (`desktop`, `pass`, …).
        helper: String,
        /// The registry asked for.
        registry: String,
        /// What went wrong, without any secret.
        reason: String,
    },
}

impl Error {
    /// A copy for the callers that waited on the same token fetch; `None`
    /// when the error carries the client's (which cannot be copied).
    pub(crate) fn shareable(&self) -> Option<Self> {
        Some(match self {
            Self::MalformedChallenge { position, reason } => Self::MalformedChallenge {
                position: *position,
                reason,
            },
            Self::ChallengeTooLong { length, limit } => Self::ChallengeTooLong {
                length: *length,
                limit: *limit,
            },
            Self::InvalidScope { input } => Self::InvalidScope {
                input: input.clone(),
            },
            Self::AuthFailed {
                registry,
                scope,
                message,
            } => Self::AuthFailed {
                registry: registry.clone(),
                scope: scope.clone(),
                message: message.clone(),
            },
            Self::TokenEndpoint {
                realm,
                status,
                message,
            } => Self::TokenEndpoint {
                realm: realm.clone(),
                status: *status,
                message: message.clone(),
            },
            Self::TokenTimeout { realm, after } => Self::TokenTimeout {
                realm: realm.clone(),
                after: *after,
            },
            Self::UnsafeRealm { realm, reason } => Self::UnsafeRealm {
                realm: realm.clone(),
                reason,
            },
            Self::DockerConfig { path, reason } => Self::DockerConfig {
                path: path.clone(),
                reason: reason.clone(),
            },
            Self::CredentialHelper {
                helper,
                registry,
                reason,
            } => Self::CredentialHelper {
                helper: helper.clone(),
                registry: registry.clone(),
                reason: reason.clone(),
            },
            Self::TokenRequest { .. } => return None,
        })
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
            std::mem::size_of::<Error>() <= 80,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
