//! What the examples share: a client for ghcr.io when `GHCR_TOKEN` is set
//! (from the `GHCR_*` variables), else for an embedded fake ghcr.io on
//! 127.0.0.1, so every example runs anywhere.

#![allow(dead_code)] // Each example uses part of it.

use ghcr::{GhcrClient, GhcrConfig, GhcrConfigBuilder};
use ghcr_sim::fake::FakeGhcr;

/// The example's error type: any error, printed by `main`.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The user the fake knows.
pub(crate) const FAKE_USER: &str = "octo";
/// Its token.
pub(crate) const FAKE_TOKEN: &str = "example-token";

/// Where an example runs.
pub(crate) struct Target {
    /// The client.
    pub(crate) client: GhcrClient,
    /// The namespace (user or organization) images go to.
    pub(crate) namespace: String,
    /// The fake, when no credentials were set; it stops when dropped.
    pub(crate) fake: Option<FakeGhcr>,
}

impl Target {
    /// `{registry}/{namespace}/{name}`.
    pub(crate) fn image(&self, name: &str) -> String {
        format!(
            "{}/{}/{name}",
            self.client.config().registry(),
            self.namespace
        )
    }
}

/// ghcr.io (or `GHCR_REGISTRY`) with the environment's credentials, images
/// under `GHCR_NAMESPACE` (default: `GHCR_USERNAME`); or a fresh fake.
pub(crate) async fn connect() -> Result<Target, BoxError> {
    connect_with(|name| std::env::var(name).ok()).await
}

/// As [`connect`], with the variables looked up through `lookup`.
pub(crate) async fn connect_with(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Target, BoxError> {
    let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    if var("GHCR_TOKEN").is_some() {
        let config = GhcrConfigBuilder::from_lookup(&lookup)?.build()?;
        // Not the config's user name: without GHCR_USERNAME it is a placeholder.
        let namespace = var("GHCR_NAMESPACE")
            .or_else(|| var("GHCR_USERNAME"))
            .ok_or("set GHCR_USERNAME or GHCR_NAMESPACE to name where images go")?
            .trim()
            .to_ascii_lowercase();
        eprintln!("using {} as {namespace}", config.registry());
        return Ok(Target {
            client: GhcrClient::new(config)?,
            namespace,
            fake: None,
        });
    }
    let fake = FakeGhcr::builder()
        .user(FAKE_USER, FAKE_TOKEN)
        .start()
        .await?;
    eprintln!(
        "GHCR_TOKEN is not set: using an embedded fake ghcr.io at {}",
        fake.registry_host()
    );
    Ok(Target {
        client: fake_client(&fake)?,
        namespace: FAKE_USER.to_owned(),
        fake: Some(fake),
    })
}

/// A client signed in to `fake` as [`FAKE_USER`].
pub(crate) fn fake_client(fake: &FakeGhcr) -> Result<GhcrClient, BoxError> {
    let config = GhcrConfig::builder()
        .registry(fake.registry_host())
        .api_base(&fake.api_base())
        .allow_plain_http(fake.registry_host())
        .credentials(FAKE_USER, FAKE_TOKEN)
        .build()?;
    Ok(GhcrClient::new(config)?)
}
