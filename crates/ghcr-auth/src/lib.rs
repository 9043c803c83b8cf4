//! Credentials and registry tokens for ghcr.io and any OCI registry.
//!
//! `ghcr-auth` sits above `ghcr-types` and below `ghcr-transport`. It finds
//! credentials per registry host ([`EnvProvider`], [`DockerConfigProvider`]
//! with credential helpers, [`StaticProvider`], [`AnonymousProvider`], and a
//! [`ChainProvider`] of them), parses `WWW-Authenticate` challenges
//! ([`Challenge`]), names what a token must allow ([`Scope`], [`ScopeSet`]),
//! and fetches, caches and shares bearer tokens ([`TokenManager`]). It does
//! no HTTP of its own: the transport lends it a [`TokenClient`].
//!
//! Secrets live in `secrecy` types; `Debug` of anything holding one prints
//! `[redacted]`, and the headers built from them are marked sensitive.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use ghcr_auth::{Challenge, ChainProvider, CredentialProvider, Credentials, EnvProvider, Scope, ScopeSet, StaticProvider, TokenRealm};
//!
//! // Where credentials come from: the environment first, then fixed ones for a local registry.
//! let provider = ChainProvider::new()
//!     .with(EnvProvider::new().with_lookup(|_| None))
//!     .with(StaticProvider::new(Credentials::basic("dev", "secret")).for_host("localhost:5000"));
//! assert!(provider.credentials("localhost:5000").await?.is_some());
//!
//! // What the registry asked for, and what we will ask for instead.
//! let challenge = &Challenge::parse_all([r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#])?[0];
//! let realm = TokenRealm::from_challenge(challenge).expect("a bearer challenge");
//! assert_eq!(realm.service(), Some("ghcr.io"));
//! let needed = ScopeSet::single(Scope::push("octo-org/app"));
//! assert_eq!(needed.to_string(), "repository:octo-org/app:pull,push");
//! # Ok::<(), ghcr_auth::Error>(())
//! # });
//! ```

mod challenge;
mod credentials;
mod error;
mod provider;
mod scope;
mod token;

pub use challenge::{AuthScheme, Challenge};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use provider::{
    AnonymousProvider, BoxFuture, ChainProvider, CredentialProvider, DockerConfig,
    DockerConfigProvider, EnvProvider, StaticProvider,
};
pub use scope::{Action, Scope, ScopeSet};
pub use token::{
    BearerToken, BoxError, TokenClient, TokenManager, TokenManagerBuilder, TokenRealm,
};

/// Whether `host` (`127.0.0.1:5000`, `[::1]:5000`, `localhost`) is a
/// loopback address, where plain HTTP may be allowed.
///
/// ```
/// assert!(ghcr_auth::is_loopback_host("127.0.0.1:5000"));
/// assert!(ghcr_auth::is_loopback_host("[::1]:8080"));
/// assert!(ghcr_auth::is_loopback_host("localhost"));
/// assert!(!ghcr_auth::is_loopback_host("ghcr.io"));
/// assert!(!ghcr_auth::is_loopback_host("10.0.0.1:5000"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    token::is_loopback(name)
}
