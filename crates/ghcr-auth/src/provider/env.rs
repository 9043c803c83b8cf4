//! Credentials from environment variables, as CI systems provide them.

use std::fmt;
use std::sync::Arc;

use ghcr_types::docker_hub::same_registry;

use super::{BoxFuture, CredentialProvider};
use crate::{Credentials, Result};

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Reads `GHCR_USERNAME`/`GHCR_TOKEN`, else `GITHUB_TOKEN` or `GH_TOKEN` with
/// `GITHUB_ACTOR` (or a placeholder user, which ghcr.io accepts) as the user.
///
/// The variables hold a GitHub token, so they are offered only to GitHub's
/// hosts (`ghcr.io` and `api.github.com` unless told otherwise): a token must
/// not reach another registry's token endpoint because it was in the
/// environment.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use ghcr_auth::{CredentialProvider, EnvProvider};
///
/// let provider = EnvProvider::new().with_lookup(|name| match name {
///     "GITHUB_TOKEN" => Some("ghs_example".to_owned()),
///     "GITHUB_ACTOR" => Some("octocat".to_owned()),
///     _ => None,
/// });
/// let creds = provider.credentials("ghcr.io").await?.expect("found");
/// assert_eq!(creds.username(), Some("octocat"));
/// assert!(provider.credentials("registry.example").await?.is_none());
/// # Ok::<(), ghcr_auth::Error>(())
/// # });
/// ```
#[derive(Clone)]
pub struct EnvProvider {
    hosts: Vec<String>,
    lookup: Lookup,
}

impl EnvProvider {
    /// The user name sent with a token when no variable names one.
    pub const PLACEHOLDER_USER: &'static str = "ghcr-rs";

    /// Reads the process environment, for `ghcr.io` and `api.github.com`.
    pub fn new() -> Self {
        Self {
            hosts: vec!["ghcr.io".to_owned(), "api.github.com".to_owned()],
            lookup: Arc::new(|name| std::env::var(name).ok().filter(|v| !v.is_empty())),
        }
    }

    /// Offers the credentials to exactly these hosts instead (a GitHub
    /// Enterprise Server's `containers.HOST` and `HOST`, say).
    #[must_use]
    pub fn for_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Reads variables through `lookup` instead of the process environment.
    #[must_use]
    pub fn with_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    fn find(&self) -> Option<Credentials> {
        let var = |name: &str| (self.lookup)(name).filter(|v| !v.is_empty());
        let user = || var("GITHUB_ACTOR").unwrap_or_else(|| Self::PLACEHOLDER_USER.to_owned());
        if let Some(token) = var("GHCR_TOKEN") {
            let username = var("GHCR_USERNAME").unwrap_or_else(user);
            return Some(Credentials::basic(username, token));
        }
        let token = var("GITHUB_TOKEN").or_else(|| var("GH_TOKEN"))?;
        Some(Credentials::basic(user(), token))
    }
}

impl Default for EnvProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for EnvProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvProvider")
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl CredentialProvider for EnvProvider {
    fn credentials<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Option<Credentials>>> {
        let found = if self.hosts.iter().any(|h| same_registry(h, host)) {
            self.find()
        } else {
            None
        };
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the provider offers ghcr.io when only `vars` are set.
    async fn found(vars: &'static [(&'static str, &'static str)]) -> Option<Credentials> {
        EnvProvider::new()
            .with_lookup(move |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .credentials("ghcr.io")
            .await
            .unwrap()
    }

    async fn user_for(vars: &'static [(&'static str, &'static str)]) -> Option<String> {
        found(vars).await.map(|c| c.username().unwrap().to_owned())
    }

    #[tokio::test]
    async fn precedence_of_variables() {
        assert_eq!(
            user_for(&[("GHCR_USERNAME", "u"), ("GHCR_TOKEN", "t")])
                .await
                .as_deref(),
            Some("u")
        );
        assert_eq!(
            user_for(&[("GHCR_TOKEN", "t"), ("GITHUB_ACTOR", "actor")])
                .await
                .as_deref(),
            Some("actor")
        );
        assert_eq!(
            user_for(&[("GITHUB_TOKEN", "t")]).await.as_deref(),
            Some(EnvProvider::PLACEHOLDER_USER)
        );
        assert_eq!(
            user_for(&[("GH_TOKEN", "t"), ("GITHUB_ACTOR", "a")])
                .await
                .as_deref(),
            Some("a")
        );
        assert_eq!(user_for(&[("GHCR_USERNAME", "u")]).await, None);
        assert_eq!(user_for(&[("GITHUB_TOKEN", "")]).await, None);
    }

    #[tokio::test]
    async fn precedence_of_tokens() {
        let token_for = |vars| async move {
            let header = found(vars).await?.api_bearer_authorization()?;
            Some(
                header
                    .to_str()
                    .unwrap()
                    .trim_start_matches("Bearer ")
                    .to_owned(),
            )
        };
        let all = &[
            ("GHCR_TOKEN", "ghcr"),
            ("GITHUB_TOKEN", "github"),
            ("GH_TOKEN", "gh"),
        ];
        assert_eq!(token_for(all).await.as_deref(), Some("ghcr"));
        assert_eq!(
            token_for(&[("GITHUB_TOKEN", "github"), ("GH_TOKEN", "gh")])
                .await
                .as_deref(),
            Some("github")
        );
        assert_eq!(
            token_for(&[("GITHUB_TOKEN", ""), ("GH_TOKEN", "gh")])
                .await
                .as_deref(),
            Some("gh")
        );
    }

    #[tokio::test]
    async fn only_offered_to_the_configured_hosts_and_debug_hides_tokens() {
        let provider = EnvProvider::new()
            .for_hosts(["containers.ghe.example"])
            .with_lookup(|name| (name == "GHCR_TOKEN").then(|| "ghp_hidden".to_owned()));
        assert!(provider.credentials("ghcr.io").await.unwrap().is_none());
        assert!(
            provider
                .credentials("containers.ghe.example")
                .await
                .unwrap()
                .is_some()
        );
        assert!(!format!("{provider:?}").contains("ghp_hidden"));
    }
}
