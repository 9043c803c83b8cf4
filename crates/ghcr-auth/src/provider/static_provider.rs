//! Credentials given by the caller.

use ghcr_types::docker_hub::same_registry;

use super::{BoxFuture, CredentialProvider};
use crate::{Credentials, Result};

/// Fixed credentials, for every host or only the hosts named.
///
/// ```
/// # tokio_test_block(async {
/// use ghcr_auth::{CredentialProvider, Credentials, StaticProvider};
///
/// let provider = StaticProvider::new(Credentials::basic("octocat", "ghp_token")).for_host("ghcr.io");
/// assert!(provider.credentials("ghcr.io").await?.is_some());
/// assert!(provider.credentials("registry.example").await?.is_none());
/// # Ok::<(), ghcr_auth::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StaticProvider {
    credentials: Credentials,
    hosts: Vec<String>,
}

impl StaticProvider {
    /// Offers `credentials` to every host.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            hosts: Vec::new(),
        }
    }

    /// Restricts the credentials to `host` (call again to add hosts).
    #[must_use]
    pub fn for_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into());
        self
    }
}

impl CredentialProvider for StaticProvider {
    fn credentials<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Option<Credentials>>> {
        let matches = self.hosts.is_empty() || self.hosts.iter().any(|h| same_registry(h, host));
        let found = matches.then(|| self.credentials.clone());
        Box::pin(async move { Ok(found) })
    }
}
