//! `GhcrConfigBuilder`: consuming setters with their defaults, and the one
//! place every setting is checked.

use std::sync::Arc;
use std::time::Duration;

use ghcr_auth::{CredentialProvider, Credentials};
use ghcr_types::{DEFAULT_REGISTRY, Reference};

use super::{
    API_BASE_VAR, CHUNK_SIZE_VAR, GHCR_MAX_CHUNK_SIZE, GhcrConfig, MAX_RETRIES_VAR, REGISTRY_VAR,
    THROTTLE_THRESHOLD_VAR, TIMEOUT_VAR, UPLOAD_TIMEOUT_VAR,
};
use crate::error::{Error, Result};

/// The GitHub.com REST API.
const GITHUB_API: &str = "https://api.github.com";

pub(super) const TIMEOUT_RANGE: (u64, u64) = (1, 3600);
pub(super) const UPLOAD_TIMEOUT_RANGE: (u64, u64) = (1, 86_400);
pub(super) const CHUNK_SIZE_RANGE: (usize, usize) = (1024, 1024 * 1024 * 1024);
pub(super) const MAX_RETRIES_LIMIT: u32 = 10;

/// Builds a [`GhcrConfig`]; every setter states its default.
///
/// ```
/// use ghcr::{GhcrConfig, GhcrConfigBuilder};
///
/// // Too large a chunk for ghcr.io is refused, with the reason.
/// let error = GhcrConfig::builder().chunk_size(8 * 1024 * 1024).build().unwrap_err();
/// assert!(error.to_string().contains("GHCR_CHUNK_SIZE"));
///
/// // The environment first, then settings of the caller's own.
/// let config = GhcrConfigBuilder::from_lookup(|name| match name {
///     "GHCR_REGISTRY" => Some("127.0.0.1:5000".to_owned()),
///     _ => None,
/// })?
/// .allow_plain_http("127.0.0.1:5000")
/// .build()?;
/// assert_eq!(config.registry(), "127.0.0.1:5000");
/// # Ok::<(), ghcr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GhcrConfigBuilder {
    pub(super) config: GhcrConfig,
}

impl Default for GhcrConfigBuilder {
    fn default() -> Self {
        Self {
            config: GhcrConfig {
                registry: DEFAULT_REGISTRY.to_owned(),
                api_base: GITHUB_API.to_owned(),
                credentials: None,
                providers: Vec::new(),
                timeout: Duration::from_secs(30),
                upload_timeout: Duration::from_secs(300),
                chunk_size: GHCR_MAX_CHUNK_SIZE,
                max_retries: 3,
                throttle_threshold: 0.8,
                plain_http: Vec::new(),
                plain_http_api: false,
                allowed_origins: Vec::new(),
                user_agent: format!("ghcr-rs/{}", env!("CARGO_PKG_VERSION")),
                #[cfg(feature = "sim")]
                simulation: ghcr_sim::SimulationMode::Off,
            },
        }
    }
}

impl GhcrConfigBuilder {
    /// The registry host (`ghcr.io`, `containers.github.example.com`,
    /// `127.0.0.1:5000`). Default: `ghcr.io`.
    #[must_use]
    pub fn registry(mut self, host: &str) -> Self {
        host.trim().clone_into(&mut self.config.registry);
        self
    }

    /// The GitHub REST API base: a URL, or a host that gets `https://`.
    /// An `http://` base is spoken to over plain HTTP when it is on loopback
    /// or allowed ([`GhcrConfigBuilder::allow_plain_http`] for its host,
    /// [`GhcrConfigBuilder::allow_plain_http_api`]); otherwise `build`
    /// refuses it, as it does a base with a user name or password in it
    /// (the token goes in [`GhcrConfigBuilder::credentials`]). Default:
    /// `https://api.github.com` (GitHub Enterprise Server: `https://HOST/api/v3`).
    #[must_use]
    pub fn api_base(mut self, url: &str) -> Self {
        let url = url.trim().trim_end_matches('/');
        self.config.api_base = if url.contains("://") {
            url.to_owned()
        } else {
            format!("https://{url}")
        };
        self
    }

    /// A user name and token (a PAT (classic) or `GITHUB_TOKEN`) for the
    /// registry and the API host only. Default: none (anonymous, unless a
    /// [`GhcrConfigBuilder::credential_provider`] has some).
    #[must_use]
    pub fn credentials(mut self, username: &str, token: &str) -> Self {
        self.config.credentials = Some(Credentials::basic(username, token));
        self
    }

    /// Another source of credentials, asked (in the order added) for hosts
    /// the configured credentials do not cover or when there are none: the
    /// environment, the Docker config and its helpers. Default: none.
    #[must_use]
    pub fn credential_provider(mut self, provider: Arc<dyn CredentialProvider>) -> Self {
        self.config.providers.push(provider);
        self
    }

    /// Time limit of each request until its answer starts, 1 s to 1 h.
    /// Default: 30 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Time limit of upload requests, 1 s to 24 h (ghcr.io ends uploads
    /// after 10 minutes). Default: 300 s.
    #[must_use]
    pub fn upload_timeout(mut self, timeout: Duration) -> Self {
        self.config.upload_timeout = timeout;
        self
    }

    /// Upload chunk size, 1 KiB to 1 GiB; at most 4 MiB when the registry is
    /// ghcr.io, whose PATCH limit it is. Default: 4 MiB.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.config.chunk_size = bytes;
        self
    }

    /// Retries after a failed attempt, 0 to 10. Default: 3.
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.config.max_retries = retries;
        self
    }

    /// Share of a GitHub API budget used after which requests are spread
    /// until the reset, above 0 and at most 1. Default: 0.8.
    #[must_use]
    pub fn throttle_threshold(mut self, share: f64) -> Self {
        self.config.throttle_threshold = share;
        self
    }

    /// Speaks plain HTTP to this host (a local registry, the fake);
    /// callable for several hosts. Default: https only.
    #[must_use]
    pub fn allow_plain_http(mut self, host: &str) -> Self {
        if !self.config.plain_http.iter().any(|h| h == host) {
            self.config.plain_http.push(host.to_owned());
        }
        self
    }

    /// Speaks plain HTTP to an `http://` API base off loopback, wherever
    /// it points: the token then travels unencrypted. Default: plain HTTP
    /// to the API only on loopback or to a host given to
    /// [`GhcrConfigBuilder::allow_plain_http`].
    #[must_use]
    pub fn allow_plain_http_api(mut self) -> Self {
        self.config.plain_http_api = true;
        self
    }

    /// Lets a registry's upload `Location` or tag `Link` send requests to
    /// `host[:port]` (its own upload or storage host), without credentials;
    /// callable for several hosts. Default: only the registry's own origin.
    #[must_use]
    pub fn allow_origin(mut self, host: &str) -> Self {
        if !self.config.allowed_origins.iter().any(|h| h == host) {
            self.config.allowed_origins.push(host.to_owned());
        }
        self
    }

    /// The User-Agent header. Default: `ghcr-rs/<version>`.
    #[must_use]
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        user_agent.clone_into(&mut self.config.user_agent);
        self
    }

    /// Records every interaction into a cassette, or replays one instead of
    /// the network. Default: [`ghcr_sim::SimulationMode::Off`].
    #[cfg(feature = "sim")]
    #[must_use]
    pub fn simulation(mut self, mode: ghcr_sim::SimulationMode) -> Self {
        self.config.simulation = mode;
        self
    }

    /// Checks every setting and builds the config.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the setting, its variable and the accepted
    /// range.
    pub fn build(self) -> Result<GhcrConfig> {
        let config = self.config;
        check_registry(&config.registry)?;
        check_api_base(&config.api_base)?;
        check_allowed_origins(&config.allowed_origins)?;
        check_plain_http_api(&config)?;
        let seconds = |value: Duration, (low, high): (u64, u64), setting, variable| {
            let ok = value >= Duration::from_secs(low) && value <= Duration::from_secs(high);
            if ok {
                Ok(())
            } else {
                Err(Error::config(
                    setting,
                    variable,
                    format!(
                        "{} s is outside the accepted {low} to {high} s",
                        value.as_secs_f64()
                    ),
                ))
            }
        };
        seconds(config.timeout, TIMEOUT_RANGE, "timeout", TIMEOUT_VAR)?;
        seconds(
            config.upload_timeout,
            UPLOAD_TIMEOUT_RANGE,
            "upload_timeout",
            UPLOAD_TIMEOUT_VAR,
        )?;
        check_chunk_size(config.chunk_size, &config.registry)?;
        if config.max_retries > MAX_RETRIES_LIMIT {
            return Err(Error::config(
                "max_retries",
                MAX_RETRIES_VAR,
                format!(
                    "{} is outside the accepted 0 to {MAX_RETRIES_LIMIT}",
                    config.max_retries
                ),
            ));
        }
        let share = config.throttle_threshold;
        if !(share > 0.0 && share <= 1.0) {
            return Err(Error::config(
                "throttle_threshold",
                THROTTLE_THRESHOLD_VAR,
                format!(
                    "{share} is outside the accepted range: above 0 and at most 1 (0.8 is the default)"
                ),
            ));
        }
        Ok(config)
    }
}

/// Registry errors never repeat the value: a host can carry `user:token@`,
/// and a token pasted into the wrong variable is a host-shaped string.
fn check_registry(registry: &str) -> Result<()> {
    let parsed = Reference::parse(&format!("{registry}/ghcr-rs/check")).ok();
    if parsed.is_some_and(|r| r.registry() == registry) && !registry.contains('@') {
        return Ok(());
    }
    let reason = if registry.contains('@') {
        "a host with a user name or password (`user:token@`) is refused, and not repeated here: give the token in GHCR_TOKEN and the user in GHCR_USERNAME"
    } else if registry.contains("://") {
        "the value (not repeated here) is not a registry host: give the host without a scheme, such as ghcr.io or 127.0.0.1:5000"
    } else if registry.contains('/') {
        "the value (not repeated here) is not a registry host: give the host without a path, such as ghcr.io or 127.0.0.1:5000"
    } else {
        "the value (not repeated here) is not a registry host such as ghcr.io or 127.0.0.1:5000"
    };
    Err(Error::config("registry", REGISTRY_VAR, reason))
}

/// API base errors never repeat the value either (see `check_registry`).
fn check_api_base(url: &str) -> Result<()> {
    let uri = url.parse::<http::Uri>().ok();
    let authority = uri.as_ref().and_then(http::Uri::authority);
    // `user:token@host`: the credentials would be ignored, and shown
    // wherever the URL is (Debug, logs); the error leaves them out too.
    if authority.is_some_and(|authority| authority.as_str().contains('@')) {
        return Err(Error::config(
            "api_base",
            API_BASE_VAR,
            "a URL with a user name or password is refused (they would be shown where the URL is); give the token in GHCR_TOKEN",
        ));
    }
    let usable = uri.as_ref().is_some_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some()
    });
    if usable {
        Ok(())
    } else {
        Err(Error::config(
            "api_base",
            API_BASE_VAR,
            "the value (not repeated here) is not an http(s) URL such as https://api.github.com or https://github.example.com/api/v3",
        ))
    }
}

/// The registry side's rule for the API: plain HTTP only where it is
/// allowed explicitly, loopback aside (a local fake or proxy), since the
/// PAT goes to the API host with every request.
fn check_plain_http_api(config: &GhcrConfig) -> Result<()> {
    let host = config.api_host();
    let allowed = !config.api_base.starts_with("http://")
        || config.plain_http_api
        || ghcr_auth::is_loopback_host(host)
        || config.plain_http.iter().any(|h| h == host);
    if allowed {
        Ok(())
    } else {
        Err(Error::config(
            "api_base",
            API_BASE_VAR,
            "an http:// URL off loopback would send the token unencrypted: use https, or allow plain HTTP to that host explicitly if it really has no TLS (the CLI's --plain-http; allow_plain_http with its host[:port], or allow_plain_http_api, in code)",
        ))
    }
}

fn check_chunk_size(bytes: usize, registry: &str) -> Result<()> {
    let (low, high) = CHUNK_SIZE_RANGE;
    if !(low..=high).contains(&bytes) {
        return Err(Error::config(
            "chunk_size",
            CHUNK_SIZE_VAR,
            format!(
                "{bytes} bytes is outside the accepted 1024 bytes (1 KiB) to {high} bytes (1 GiB)"
            ),
        ));
    }
    if registry.eq_ignore_ascii_case(DEFAULT_REGISTRY) && bytes > GHCR_MAX_CHUNK_SIZE {
        return Err(Error::config(
            "chunk_size",
            CHUNK_SIZE_VAR,
            format!(
                "{bytes} bytes is above 4194304 (4 MiB): ghcr.io refuses larger upload chunks with 416 \"exceeds the maximum permissible limit of 4.00MiB\""
            ),
        ));
    }
    Ok(())
}

/// Each allowed origin is a bare `host[:port]`; the error does not repeat
/// the value, which may hold `user:token@`.
fn check_allowed_origins(hosts: &[String]) -> Result<()> {
    for host in hosts {
        let bare = !host.contains(['@', '/']) && host.parse::<http::uri::Authority>().is_ok();
        if !bare {
            return Err(Error::config(
                "allowed_origins",
                super::ALLOW_ORIGINS_VAR,
                "an entry (not repeated here) is not a bare host[:port]: no scheme, path or user:password@",
            ));
        }
    }
    Ok(())
}
