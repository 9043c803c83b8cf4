//! Asking several providers in turn, and asking none.

use std::sync::Arc;

use super::{BoxFuture, CredentialProvider};
use crate::{Credentials, Result};

/// No credentials for anyone: public images through anonymous tokens.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnonymousProvider;

impl CredentialProvider for AnonymousProvider {
    fn credentials<'a>(&'a self, _host: &'a str) -> BoxFuture<'a, Result<Option<Credentials>>> {
        Box::pin(async { Ok(None) })
    }
}

/// The first provider that has credentials for the host wins.
///
/// A provider that fails (a broken helper) stops the chain with its error
/// rather than silently falling through to weaker credentials.
#[derive(Debug, Clone, Default)]
pub struct ChainProvider {
    providers: Vec<Arc<dyn CredentialProvider>>,
}

impl ChainProvider {
    /// An empty chain (anonymous until providers are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a provider, asked after the ones already in the chain.
    #[must_use]
    pub fn with(mut self, provider: impl CredentialProvider + 'static) -> Self {
        self.providers.push(Arc::new(provider));
        self
    }

    /// Appends a shared provider.
    #[must_use]
    pub fn with_shared(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.providers.push(provider);
        self
    }
}

impl CredentialProvider for ChainProvider {
    fn credentials<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Option<Credentials>>> {
        Box::pin(async move {
            for provider in &self.providers {
                if let Some(found) = provider.credentials(host).await? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticProvider;

    #[tokio::test]
    async fn first_provider_with_credentials_for_the_host_wins() {
        let chain = ChainProvider::new()
            .with(AnonymousProvider)
            .with(StaticProvider::new(Credentials::basic("a", "1")).for_host("ghcr.io"))
            .with(StaticProvider::new(Credentials::basic("b", "2")));
        let ghcr = chain.credentials("ghcr.io").await.unwrap().unwrap();
        assert_eq!(ghcr.username(), Some("a"));
        let other = chain.credentials("localhost:5000").await.unwrap().unwrap();
        assert_eq!(other.username(), Some("b"));
        assert!(
            ChainProvider::new()
                .credentials("ghcr.io")
                .await
                .unwrap()
                .is_none()
        );
    }
}
