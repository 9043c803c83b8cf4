//! `GhcrConfig`: every setting of a [`crate::GhcrClient`], from a builder or
//! the `GHCR_*` environment variables, validated once.

mod builder;
mod env;
#[cfg(test)]
mod tests;

pub use builder::GhcrConfigBuilder;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ghcr_auth::{CredentialProvider, Credentials};

/// The GitHub user (or any name, with a PAT) the token belongs to.
pub const USERNAME_VAR: &str = "GHCR_USERNAME";
/// A personal access token (classic) or `GITHUB_TOKEN`; never printed.
pub const TOKEN_VAR: &str = "GHCR_TOKEN";
/// The registry host, `ghcr.io` by default.
pub const REGISTRY_VAR: &str = "GHCR_REGISTRY";
/// The GitHub REST API base, `https://api.github.com` by default.
pub const API_BASE_VAR: &str = "GHCR_API_BASE";
/// Seconds each request may take until its answer starts (1 to 3600).
pub const TIMEOUT_VAR: &str = "GHCR_TIMEOUT_SECS";
/// Seconds an upload request may take (1 to 86400).
pub const UPLOAD_TIMEOUT_VAR: &str = "GHCR_UPLOAD_TIMEOUT_SECS";
/// Upload chunk size in bytes (1 KiB to 1 GiB; at most 4 MiB on ghcr.io).
pub const CHUNK_SIZE_VAR: &str = "GHCR_CHUNK_SIZE";
/// Retries after a failed attempt (0 to 10).
pub const MAX_RETRIES_VAR: &str = "GHCR_MAX_RETRIES";
/// Share of a GitHub API budget after which requests are spread out (0 to 1).
pub const THROTTLE_THRESHOLD_VAR: &str = "GHCR_THROTTLE_THRESHOLD";
/// `off`, `record` or `replay` (record and replay need the `sim` feature).
pub const SIMULATION_MODE_VAR: &str = "GHCR_SIMULATION_MODE";
/// The cassette folder for `record` and `replay`.
pub const SIMULATION_PATH_VAR: &str = "GHCR_SIMULATION_PATH";
/// Comma-separated `host[:port]`s a registry's upload `Location` or tag
/// `Link` may lead to (without credentials); none by default.
pub const ALLOW_ORIGINS_VAR: &str = "GHCR_ALLOW_ORIGINS";

/// Every environment variable [`GhcrConfig::from_env`] reads.
pub const ENV_VARS: [&str; 12] = [
    USERNAME_VAR,
    TOKEN_VAR,
    REGISTRY_VAR,
    API_BASE_VAR,
    TIMEOUT_VAR,
    UPLOAD_TIMEOUT_VAR,
    CHUNK_SIZE_VAR,
    MAX_RETRIES_VAR,
    THROTTLE_THRESHOLD_VAR,
    SIMULATION_MODE_VAR,
    SIMULATION_PATH_VAR,
    ALLOW_ORIGINS_VAR,
];

/// ghcr.io's cap on an upload chunk: 4 MiB.
pub const GHCR_MAX_CHUNK_SIZE: usize = 4 * 1024 * 1024;

/// The settings of a [`crate::GhcrClient`].
///
/// Build one with [`GhcrConfig::builder`] or read the environment with
/// [`GhcrConfig::from_env`]. `Debug` never shows the token.
///
/// ```
/// use std::time::Duration;
/// use ghcr::GhcrConfig;
///
/// let config = GhcrConfig::builder()
///     .registry("ghcr.io")
///     .credentials("octocat", "ghp_example")
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// assert_eq!(config.chunk_size(), 4 * 1024 * 1024);
/// assert!(!format!("{config:?}").contains("ghp_example"));
/// # Ok::<(), ghcr::Error>(())
/// ```
#[derive(Clone)]
pub struct GhcrConfig {
    pub(crate) registry: String,
    pub(crate) api_base: String,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) providers: Vec<Arc<dyn CredentialProvider>>,
    pub(crate) timeout: Duration,
    pub(crate) upload_timeout: Duration,
    pub(crate) chunk_size: usize,
    pub(crate) max_retries: u32,
    pub(crate) throttle_threshold: f64,
    pub(crate) plain_http: Vec<String>,
    pub(crate) plain_http_api: bool,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) user_agent: String,
    #[cfg(feature = "sim")]
    pub(crate) simulation: ghcr_sim::SimulationMode,
}

impl GhcrConfig {
    /// Starts a [`GhcrConfigBuilder`] with every default.
    pub fn builder() -> GhcrConfigBuilder {
        GhcrConfigBuilder::default()
    }

    /// Reads the `GHCR_*` variables ([`ENV_VARS`]); unset or empty ones keep
    /// their defaults.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Config`] naming the variable and what it accepts.
    pub fn from_env() -> crate::Result<Self> {
        GhcrConfigBuilder::from_env()?.build()
    }

    /// A builder holding these settings, to change some and build again.
    pub fn into_builder(self) -> GhcrConfigBuilder {
        GhcrConfigBuilder { config: self }
    }

    /// The registry host (`ghcr.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The GitHub REST API base URL, without a trailing slash.
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The host (and port) of the API base.
    pub fn api_host(&self) -> &str {
        let rest = self
            .api_base
            .split_once("://")
            .map_or(self.api_base.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }

    /// The user name sent with the token, when credentials are configured.
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().and_then(Credentials::username)
    }

    /// Whether a token is configured (the token itself never leaves).
    pub fn has_token(&self) -> bool {
        self.credentials.is_some()
    }

    /// Time limit of each request until its answer starts.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Time limit of upload requests.
    pub fn upload_timeout(&self) -> Duration {
        self.upload_timeout
    }

    /// Upload chunk size in bytes.
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Retries after a failed attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Share of a GitHub API budget after which requests are spread out.
    pub fn throttle_threshold(&self) -> f64 {
        self.throttle_threshold
    }

    /// Hosts spoken to over plain HTTP.
    pub fn plain_http_hosts(&self) -> &[String] {
        &self.plain_http
    }

    /// Other hosts a registry's upload `Location` or tag `Link` may send
    /// requests to (without credentials).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The User-Agent header.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Whether requests go to the network, are recorded, or are replayed.
    #[cfg(feature = "sim")]
    pub fn simulation(&self) -> &ghcr_sim::SimulationMode {
        &self.simulation
    }
}

impl fmt::Debug for GhcrConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("GhcrConfig");
        debug
            .field("registry", &self.registry)
            .field("api_base", &self.api_base)
            .field("credentials", &self.credentials)
            .field("providers", &self.providers)
            .field("timeout", &self.timeout)
            .field("upload_timeout", &self.upload_timeout)
            .field("chunk_size", &self.chunk_size)
            .field("max_retries", &self.max_retries)
            .field("throttle_threshold", &self.throttle_threshold)
            .field("plain_http", &self.plain_http)
            .field("plain_http_api", &self.plain_http_api)
            .field("allowed_origins", &self.allowed_origins)
            .field("user_agent", &self.user_agent);
        #[cfg(feature = "sim")]
        debug.field("simulation", &self.simulation);
        debug.finish()
    }
}
