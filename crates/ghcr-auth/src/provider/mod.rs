//! Where credentials come from, looked up per registry host.

mod chain;
mod docker_config;
mod env;
mod helper;
mod static_provider;

pub use chain::{AnonymousProvider, ChainProvider};
pub use docker_config::{DockerConfig, DockerConfigProvider};
pub use env::EnvProvider;
pub use static_provider::StaticProvider;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::{Credentials, Result};

/// A boxed future, so that providers can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of credentials for registry hosts.
///
/// `Ok(None)` means "nothing for this host": a [`ChainProvider`] then asks
/// the next provider. Errors are for sources that exist but are broken (an
/// unreadable config file, a failing credential helper).
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// Credentials for `host` (`ghcr.io`, `localhost:5000`, `api.github.com`).
    fn credentials<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Option<Credentials>>>;
}

/// Normalises a registry key as Docker writes it (`https://ghcr.io/v1/`) to a host.
pub(crate) fn host_of(key: &str) -> &str {
    let without_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    without_scheme.split('/').next().unwrap_or(without_scheme)
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_of_normalises_docker_keys() {
        for (key, host) in [
            ("ghcr.io", "ghcr.io"),
            ("https://ghcr.io", "ghcr.io"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("http://localhost:5000/", "localhost:5000"),
        ] {
            assert_eq!(super::host_of(key), host);
        }
    }
}
