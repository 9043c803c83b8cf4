//! `FakeGhcrBuilder`: accounts, profile, limits and faults, validated once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::FakeGhcr;
use super::accounts::{ALL_SCOPES, Accounts, PatScope, Permission, TokenKind};
use super::clock::Clock;
use super::faults::{Fault, Faults};
use super::log::{Listener, RequestLog};
use super::server::{self, Shared};
use super::state::{Config, Profile, State};
use crate::error::{Error, Result};

/// ghcr.io's cap on a `Content-Range` PATCH body.
const GHCR_PATCH_LIMIT: u64 = 4 * 1024 * 1024;

/// The largest request body the fake reads by default.
pub(crate) const DEFAULT_MAX_REQUEST_BODY: u64 = 1024 * 1024 * 1024;

/// Builds and starts a [`FakeGhcr`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use ghcr_sim::fake::{FakeGhcr, PatScope, Permission, Profile};
///
/// let fake = FakeGhcr::builder()
///     .profile(Profile::Ghcr)                       // Default: Ghcr.
///     .user("alice", "token-a")                      // A classic PAT with every package scope.
///     .user_with_scopes("bob", "token-b", &[PatScope::ReadPackages])
///     .installation_token("alice", "actions-token")  // Like GITHUB_TOKEN, acting for alice.
///     .org("octo-org", &["alice"])                   // alice administers octo-org.
///     .grant("bob", "octo-org/app", Permission::Read)
///     .token_lifetime(Duration::from_secs(60))       // Default: 300 s.
///     .start()
///     .await?;
/// assert!(fake.registry_host().starts_with("127.0.0.1:"));
/// # Ok::<(), ghcr_sim::Error>(())
/// # });
/// ```
pub struct FakeGhcrBuilder {
    profile: Profile,
    addr: String,
    storage_addr: String,
    accounts: Accounts,
    tokens: Vec<(String, String)>,
    token_lifetime: Duration,
    storage_url_lifetime: Duration,
    patch_limit: Option<u64>,
    tags_page_size: Option<usize>,
    chunk_min_length: Option<u64>,
    api_limit: u32,
    api_window: Duration,
    secondary_points: Option<u32>,
    restore_window: Duration,
    max_request_body: u64,
    accept_dangling: bool,
    faults: Vec<Fault>,
}

impl std::fmt::Debug for FakeGhcrBuilder {
    /// The settings and logins; never the tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGhcrBuilder")
            .field("profile", &self.profile)
            .field("addr", &self.addr)
            .field("storage_addr", &self.storage_addr)
            .field("accounts", &self.accounts)
            .field("faults", &self.faults.len())
            .finish_non_exhaustive()
    }
}

impl Default for FakeGhcrBuilder {
    fn default() -> Self {
        Self {
            profile: Profile::Ghcr,
            addr: "127.0.0.1:0".to_owned(),
            storage_addr: "127.0.0.1:0".to_owned(),
            accounts: Accounts::default(),
            tokens: Vec::new(),
            token_lifetime: Duration::from_secs(300),
            storage_url_lifetime: Duration::from_secs(300),
            patch_limit: None,
            tags_page_size: None,
            chunk_min_length: None,
            api_limit: 5000,
            api_window: Duration::from_secs(3600),
            secondary_points: None,
            restore_window: Duration::from_secs(30 * 24 * 3600),
            max_request_body: DEFAULT_MAX_REQUEST_BODY,
            accept_dangling: false,
            faults: Vec::new(),
        }
    }
}

impl FakeGhcrBuilder {
    /// Which registry to behave like. Default: [`Profile::Ghcr`].
    #[must_use]
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The registry, token and API address. Default: `127.0.0.1:0` (a free port).
    #[must_use]
    pub fn addr(mut self, addr: &str) -> Self {
        addr.clone_into(&mut self.addr);
        self
    }

    /// The storage host's address. Default: `127.0.0.1:0` (a free port).
    #[must_use]
    pub fn storage_addr(mut self, addr: &str) -> Self {
        addr.clone_into(&mut self.storage_addr);
        self
    }

    /// A user with a classic PAT carrying every package scope.
    #[must_use]
    pub fn user(self, login: &str, token: &str) -> Self {
        self.user_with_scopes(login, token, &ALL_SCOPES)
    }

    /// A user with a classic PAT carrying only `scopes`.
    #[must_use]
    pub fn user_with_scopes(mut self, login: &str, token: &str, scopes: &[PatScope]) -> Self {
        self.accounts
            .add_token(login, token, TokenKind::Classic(scopes.to_vec()));
        self.tokens.push((token.to_owned(), login.to_owned()));
        self
    }

    /// A `GITHUB_TOKEN`-like installation token acting with `login`'s
    /// permissions; GitHub refuses it listing org packages (403 "Resource not
    /// accessible by integration").
    #[must_use]
    pub fn installation_token(mut self, login: &str, token: &str) -> Self {
        self.accounts
            .add_token(login, token, TokenKind::Installation);
        self.tokens.push((token.to_owned(), login.to_owned()));
        self
    }

    /// An organization administered by `admins` (who get admin on its packages).
    #[must_use]
    pub fn org(mut self, login: &str, admins: &[&str]) -> Self {
        self.accounts.add_org(login, admins);
        self
    }

    /// Grants `login` a permission on the package of `repository` (`owner/name`).
    #[must_use]
    pub fn grant(mut self, login: &str, repository: &str, permission: Permission) -> Self {
        self.accounts.grant(login, repository, permission);
        self
    }

    /// How long registry tokens stay valid. Default: 300 s (ghcr.io does not
    /// say; the generic profile sends `expires_in`).
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// How long a redirected blob URL stays valid. Default: 300 s.
    #[must_use]
    pub fn storage_url_lifetime(mut self, lifetime: Duration) -> Self {
        self.storage_url_lifetime = lifetime;
        self
    }

    /// The largest `Content-Range` PATCH body. Default: 4 MiB on the ghcr
    /// profile (answered with 416 and ghcr.io's message above it), no limit
    /// on the generic one.
    #[must_use]
    pub fn patch_limit(mut self, bytes: u64) -> Self {
        self.patch_limit = Some(bytes);
        self
    }

    /// Tags per page when a tag list request has no `n`. Default: 100 on the
    /// ghcr profile (with a `Link` to the rest), all on the generic one.
    #[must_use]
    pub fn tags_page_size(mut self, size: usize) -> Self {
        self.tags_page_size = Some(size);
        self
    }

    /// Announces `OCI-Chunk-Min-Length` on upload sessions. Default: not sent.
    #[must_use]
    pub fn chunk_min_length(mut self, bytes: u64) -> Self {
        self.chunk_min_length = Some(bytes);
        self
    }

    /// The primary API budget per user. Default: 5,000 per hour, as for a PAT.
    #[must_use]
    pub fn api_rate_limit(mut self, limit: u32, window: Duration) -> Self {
        self.api_limit = limit;
        self.api_window = window;
        self
    }

    /// The secondary limit in points per minute per endpoint (method and
    /// route, as GitHub counts them; reads cost 1, writes such as DELETE 5),
    /// answered with GitHub's 403 and `retry-after`. Windows follow the
    /// fake's [`Clock`], so a paused tokio clock drives them. Default: off
    /// (GitHub's own figure is 900).
    #[must_use]
    pub fn secondary_rate_limit(mut self, points_per_minute: u32) -> Self {
        self.secondary_points = Some(points_per_minute);
        self
    }

    /// How long deleted packages and versions can be restored. Default: 30 days.
    #[must_use]
    pub fn restore_window(mut self, window: Duration) -> Self {
        self.restore_window = window;
        self
    }

    /// The largest request body the fake reads; a larger one is answered
    /// 413 `SIZE_INVALID` without being stored (the fake keeps everything in
    /// memory). Default: 1 GiB.
    #[must_use]
    pub fn max_request_body(mut self, bytes: u64) -> Self {
        self.max_request_body = bytes;
        self
    }

    /// Takes manifests that name blobs or child manifests the repository
    /// does not hold, as registries that check nothing do, instead of
    /// answering `MANIFEST_BLOB_UNKNOWN`. Then only the client's order of
    /// pushes keeps a tag from naming an incomplete image, which is what a
    /// test of that order needs. Default: refused, as docker-registry does.
    #[must_use]
    pub fn accept_dangling_manifests(mut self) -> Self {
        self.accept_dangling = true;
        self
    }

    /// Arms a fault from the start (more can be added with [`FakeGhcr::faults`]).
    #[must_use]
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("token_lifetime", self.token_lifetime),
            ("storage_url_lifetime", self.storage_url_lifetime),
            ("api_rate_limit window", self.api_window),
        ] {
            if value.is_zero() {
                return Err(Error::setting(name, "must be longer than zero"));
            }
        }
        if self.max_request_body == 0 {
            return Err(Error::setting(
                "max_request_body",
                "must be at least 1 byte",
            ));
        }
        if self.api_limit == 0 {
            return Err(Error::setting(
                "api_rate_limit",
                "the limit must be at least 1",
            ));
        }
        for (index, (token, login)) in self.tokens.iter().enumerate() {
            if token.is_empty() || token.contains(char::is_whitespace) {
                return Err(Error::setting(
                    "user",
                    format!("the token of {login} must be non-empty without spaces"),
                ));
            }
            if let Some((_, other)) = self.tokens[..index].iter().find(|(t, _)| t == token) {
                return Err(Error::setting(
                    "user",
                    format!("{login} and {other} were given the same token; give each its own"),
                ));
            }
        }
        Ok(())
    }

    /// Binds both listeners and starts serving.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a zero duration, limit or body size or a token
    /// given twice, [`Error::Bind`] when an address cannot be listened on.
    pub async fn start(self) -> Result<FakeGhcr> {
        self.validate()?;
        let registry = server::bind(&self.addr).await?;
        let storage = server::bind(&self.storage_addr).await?;
        let local = |listener: &tokio::net::TcpListener, addr: &str| {
            listener.local_addr().map_err(|source| Error::Bind {
                addr: addr.to_owned(),
                source,
            })
        };
        let registry_addr = local(&registry, &self.addr)?;
        let storage_addr = local(&storage, &self.storage_addr)?;
        let ghcr = self.profile == Profile::Ghcr;
        let config = Config {
            profile: self.profile,
            token_lifetime: self.token_lifetime,
            storage_url_lifetime: self.storage_url_lifetime,
            patch_limit: self.patch_limit.or(ghcr.then_some(GHCR_PATCH_LIMIT)),
            tags_page_size: self.tags_page_size.or(ghcr.then_some(100)),
            chunk_min_length: self.chunk_min_length,
            api_limit: self.api_limit,
            api_window: self.api_window,
            secondary_points: self.secondary_points,
            restore_window: self.restore_window,
            max_request_body: self.max_request_body,
        };
        let faults = Faults::default();
        for fault in self.faults {
            faults.add(fault);
        }
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new({
                let mut state = State::new(self.accounts);
                state.accept_dangling = self.accept_dangling;
                state
            }),
            clock: Clock::default(),
            log: RequestLog::default(),
            connections: super::connections::Connections::default(),
            faults,
            registry_host: registry_addr.to_string(),
            // A loopback storage host is named `localhost`: a different host
            // name than the registry's, as on ghcr.io, so that clients which
            // compare host names without ports (Go's, in docker and skopeo)
            // drop Authorization on the redirect too.
            storage_host: if storage_addr.ip().is_loopback() {
                format!("localhost:{}", storage_addr.port())
            } else {
                storage_addr.to_string()
            },
            signing_key: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
        });
        let tasks = vec![
            server::spawn(registry, shared.clone(), Listener::Registry),
            server::spawn(storage, shared.clone(), Listener::Storage),
        ];
        Ok(FakeGhcr { shared, tasks })
    }
}
