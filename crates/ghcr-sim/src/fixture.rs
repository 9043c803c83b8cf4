//! `Fixture`: a replay test's wire and hosts in a few lines, recorded by
//! `cargo xtask record` and replayed by every other `cargo test`.
//!
//! See the crate docs ("Fixtures") for the convention and an example.

use std::path::{Path, PathBuf};

use crate::cassette::{CASSETTE_FILE, CassetteMeta};
use crate::error::{Error, Result};
use crate::fake::{FakeGhcr, Profile};
use crate::record::RecordLayer;
use crate::replay::Replayer;

/// Set to `record` (by `cargo xtask record`) to record fixtures; unset or
/// `replay` replays them. Distinct from `GHCR_SIMULATION_MODE`, the
/// user-facing setting.
pub const FIXTURES_VAR: &str = "GHCR_FIXTURES";
/// Overrides the fixtures folder (default: `<workspace>/fixtures`).
pub const FIXTURES_DIR_VAR: &str = "GHCR_FIXTURES_DIR";
/// Records against this registry host (`ghcr.io`) instead of a fake.
pub const TARGET_REGISTRY_VAR: &str = "GHCR_FIXTURES_REGISTRY";
/// The REST API base when recording against a real registry
/// (default `https://api.github.com`).
pub const TARGET_API_VAR: &str = "GHCR_FIXTURES_API";
/// The user name to record with against a real registry.
pub const TARGET_USER_VAR: &str = "GHCR_FIXTURES_USER";
/// The token to record with against a real registry (a classic PAT with
/// `write:packages` and `delete:packages`).
pub const TARGET_TOKEN_VAR: &str = "GHCR_FIXTURES_TOKEN";
/// The owner to push under against a real registry (default: the user).
pub const TARGET_NAMESPACE_VAR: &str = "GHCR_FIXTURES_NAMESPACE";

/// The user the fake is recorded with.
const FAKE_USER: &str = "octo";
/// An organization the fake user administers.
const FAKE_ORG: &str = "octo-org";
/// The fake user's token; redacted from every cassette.
const FAKE_TOKEN: &str = "fixture-token-not-a-secret";
/// What a replayed test passes as its token: nothing checks it.
const REPLAY_TOKEN: &str = "replayed-token";

/// Whether a fixture records or replays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FixtureMode {
    /// Serve the cassette: no network, no server, no credentials.
    #[default]
    Replay,
    /// Run against the fake (or a real registry) and write the cassette.
    Record,
}

impl FixtureMode {
    /// Reads [`FIXTURES_VAR`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a value other than `record`, `replay` or empty.
    pub fn from_env() -> Result<Self> {
        match std::env::var(FIXTURES_VAR).unwrap_or_default().trim() {
            "" | "replay" => Ok(Self::Replay),
            "record" => Ok(Self::Record),
            other => Err(Error::setting(
                FIXTURES_VAR,
                format!("`{other}` is neither `record` nor `replay`"),
            )),
        }
    }
}

/// What to put on the transport's wire.
#[derive(Clone, Debug)]
pub enum FixtureWire {
    /// Replace the wire: `TransportBuilder::wire(replayer)`.
    Replay(Replayer),
    /// Wrap the network wire: `TransportBuilder::wire_layer(recorder)`.
    Record(RecordLayer),
}

/// Starts a [`Fixture`].
#[derive(Debug)]
pub struct FixtureBuilder {
    name: String,
    mode: Option<FixtureMode>,
    dir: Option<PathBuf>,
    profile: Profile,
}

impl FixtureBuilder {
    /// Records or replays. Default: from [`FIXTURES_VAR`].
    #[must_use]
    pub fn mode(mut self, mode: FixtureMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The cassette folder. Default: `<workspace>/fixtures/<name>` (or under
    /// [`FIXTURES_DIR_VAR`]).
    #[must_use]
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The fake's profile when recording. Default: [`Profile::Ghcr`].
    #[must_use]
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Loads the cassette (replay) or starts the target (record).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a bad name or environment,
    /// [`Error::FixtureNotFound`] when replaying an unrecorded fixture, the
    /// cassette's load errors, or the fake's start errors.
    pub async fn start(self) -> Result<Fixture> {
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err(Error::setting(
                "fixture name",
                format!(
                    "`{}` must be lowercase letters, digits, `_` and `-`",
                    self.name
                ),
            ));
        }
        let mode = match self.mode {
            Some(mode) => mode,
            None => FixtureMode::from_env()?,
        };
        let dir = match self.dir {
            Some(dir) => dir,
            None => fixtures_root()?.join(&self.name),
        };
        match mode {
            FixtureMode::Replay => replay(self.name, dir),
            FixtureMode::Record => record(self.name, dir, self.profile).await,
        }
    }
}

fn replay(name: String, dir: PathBuf) -> Result<Fixture> {
    if !dir.join(CASSETTE_FILE).exists() {
        return Err(Error::FixtureNotFound { name, path: dir });
    }
    let replayer = Replayer::load(&dir)?;
    let meta = replayer.cassette().meta().clone();
    Ok(Fixture {
        name,
        dir,
        mode: FixtureMode::Replay,
        wire: FixtureWire::Replay(replayer),
        token: REPLAY_TOKEN.to_owned(),
        meta,
        fake: None,
        finished: false,
    })
}

async fn record(name: String, dir: PathBuf, profile: Profile) -> Result<Fixture> {
    let mut meta = CassetteMeta {
        name: Some(name.clone()),
        recorded_by: std::env::var("CARGO_PKG_NAME").ok(),
        ..CassetteMeta::default()
    };
    let target = std::env::var(TARGET_REGISTRY_VAR)
        .ok()
        .filter(|r| !r.is_empty());
    let (token, fake) = if let Some(registry) = target {
        (real_target(registry, &mut meta)?, None)
    } else {
        let fake = FakeGhcr::builder()
            .profile(profile)
            .user(FAKE_USER, FAKE_TOKEN)
            .org(FAKE_ORG, &[FAKE_USER])
            .start()
            .await?;
        meta.target = Some(format!("fake {} profile", profile.as_str()));
        meta.registry = Some(fake.registry_host().to_owned());
        meta.api = Some(fake.api_base());
        meta.namespace = Some(FAKE_USER.to_owned());
        meta.username = Some(FAKE_USER.to_owned());
        meta.plain_http = true;
        (FAKE_TOKEN.to_owned(), Some(fake))
    };
    let recorder = RecordLayer::new(dir.clone());
    recorder.set_meta(meta.clone());
    Ok(Fixture {
        name,
        dir,
        mode: FixtureMode::Record,
        wire: FixtureWire::Record(recorder),
        token,
        meta,
        fake,
        finished: false,
    })
}

/// Fills `meta` for a real registry from the environment; returns the token.
fn real_target(registry: String, meta: &mut CassetteMeta) -> Result<String> {
    let variable = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    let required = |var: &str| {
        variable(var)
            .ok_or_else(|| Error::setting(var, format!("recording against {registry} needs {var}")))
    };
    let user = required(TARGET_USER_VAR)?;
    let token = required(TARGET_TOKEN_VAR)?;
    meta.target = Some(format!("registry {registry}"));
    meta.plain_http = is_loopback(&registry);
    meta.api =
        Some(variable(TARGET_API_VAR).unwrap_or_else(|| "https://api.github.com".to_owned()));
    meta.namespace = Some(variable(TARGET_NAMESPACE_VAR).unwrap_or_else(|| user.clone()));
    meta.username = Some(user);
    meta.registry = Some(registry);
    Ok(token)
}

/// The fixtures folder: [`FIXTURES_DIR_VAR`], or `fixtures/` at the
/// workspace root found from `CARGO_MANIFEST_DIR` (or the current folder).
///
/// # Errors
///
/// [`Error::InvalidSetting`] when no workspace root is found.
pub fn fixtures_root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(FIXTURES_DIR_VAR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    workspace_root(&start)
        .map(|root| root.join("fixtures"))
        .ok_or_else(|| {
            Error::setting(
                "CARGO_MANIFEST_DIR",
                format!(
                    "no workspace Cargo.toml above {}; set {FIXTURES_DIR_VAR}",
                    start.display()
                ),
            )
        })
}

/// Whether `host` (`127.0.0.1:5000`, `[::1]:80`, `localhost`) is loopback.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn workspace_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest.contains("[workspace]").then(|| dir.to_owned())
    })
}

/// A replay test's session: a wire, the hosts and names the recording used,
/// and the fake (while recording against it).
///
/// Call [`Fixture::finish`] at the end of the test: it writes the cassette
/// when recording and checks every interaction was replayed when replaying.
/// Its `Debug` never shows the token (a real one when recording against a
/// real registry).
pub struct Fixture {
    name: String,
    dir: PathBuf,
    mode: FixtureMode,
    wire: FixtureWire,
    token: String,
    meta: CassetteMeta,
    fake: Option<FakeGhcr>,
    finished: bool,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("name", &self.name)
            .field("dir", &self.dir)
            .field("mode", &self.mode)
            .field("meta", &self.meta)
            .field("fake", &self.fake)
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// Starts fixture `name` in the mode [`FIXTURES_VAR`] says.
    ///
    /// # Errors
    ///
    /// As [`FixtureBuilder::start`].
    pub async fn start(name: &str) -> Result<Self> {
        Self::builder(name).start().await
    }

    /// A builder for fixture `name`.
    pub fn builder(name: &str) -> FixtureBuilder {
        FixtureBuilder {
            name: name.to_owned(),
            mode: None,
            dir: None,
            profile: Profile::Ghcr,
        }
    }

    /// The fixture's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Recording or replaying.
    pub fn mode(&self) -> FixtureMode {
        self.mode
    }

    /// The cassette folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What to put on the transport's wire.
    pub fn wire(&self) -> FixtureWire {
        self.wire.clone()
    }

    /// The registry host to address (`127.0.0.1:PORT` as recorded, `ghcr.io`).
    pub fn registry_host(&self) -> &str {
        self.meta.registry.as_deref().unwrap_or("ghcr.io")
    }

    /// Whether the registry is plain HTTP (enable it on the transport).
    pub fn plain_http(&self) -> bool {
        self.meta.plain_http
    }

    /// `http(s)://<registry host>`.
    pub fn registry_url(&self) -> String {
        let scheme = if self.plain_http() { "http" } else { "https" };
        format!("{scheme}://{}", self.registry_host())
    }

    /// The Packages API base URL.
    pub fn api_base(&self) -> &str {
        self.meta.api.as_deref().unwrap_or("https://api.github.com")
    }

    /// The owner to push under (`octo` on the fake).
    pub fn namespace(&self) -> &str {
        self.meta.namespace.as_deref().unwrap_or(FAKE_USER)
    }

    /// An organization the user administers on the fake (`octo-org`).
    pub fn organization(&self) -> &str {
        FAKE_ORG
    }

    /// The user name for credentials.
    pub fn username(&self) -> &str {
        self.meta.username.as_deref().unwrap_or(FAKE_USER)
    }

    /// The token for credentials: the real one while recording, a
    /// placeholder on replay (cassettes hold no credentials).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The fake being recorded against, to seed it; `None` on replay or
    /// against a real registry.
    pub fn fake(&self) -> Option<&FakeGhcr> {
        self.fake.as_ref()
    }

    /// Ends the session: writes the cassette (record) or checks that every
    /// recorded interaction was replayed (replay).
    ///
    /// # Errors
    ///
    /// [`Error::Unconsumed`] on replay when interactions are left,
    /// [`Error::Io`] when the cassette cannot be written.
    pub fn finish(mut self) -> Result<()> {
        self.finished = true;
        match &self.wire {
            FixtureWire::Replay(replayer) => replayer.finish(),
            FixtureWire::Record(recorder) => recorder.finish().map(drop),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !self.finished && !std::thread::panicking() {
            tracing::warn!(
                fixture = %self.name,
                "fixture dropped without finish(): nothing was written and replay completeness was not checked"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for (host, expected) in [
            ("127.0.0.1:5000", true),
            ("localhost:8080", true),
            ("[::1]:80", true),
            ("localhost", true),
            ("ghcr.io", false),
            ("10.0.0.1:5000", false),
        ] {
            assert_eq!(is_loopback(host), expected, "{host}");
        }
    }

    #[test]
    fn the_workspace_root_is_found_from_a_crate() {
        let root = workspace_root(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(
            root.join("crates").join("ghcr-sim").exists(),
            "{}",
            root.display()
        );
    }

    #[tokio::test]
    async fn bad_names_and_missing_cassettes_are_errors() {
        let err = Fixture::builder("../escape")
            .mode(FixtureMode::Replay)
            .start()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { .. }), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = Fixture::builder("never_recorded")
            .mode(FixtureMode::Replay)
            .dir(dir.path().join("never_recorded"))
            .start()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::FixtureNotFound { .. }), "{err}");
        assert!(err.to_string().contains("cargo xtask record"));
    }
}
