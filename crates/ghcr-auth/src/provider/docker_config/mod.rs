//! `~/.docker/config.json`: `auths`, `credHelpers` and `credsStore`, read the
//! way `docker` reads them and written the way `docker login` writes them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

mod write;

use super::helper::{self, HelperLocation};
use ghcr_types::docker_hub::{DOCKER_HUB_CONFIG_KEY, is_docker_hub, same_registry};

use super::{BoxFuture, CredentialProvider, host_of};

/// The key `docker login` writes for `host`: Docker Hub's is
/// `https://index.docker.io/v1/`, others the host itself.
pub(crate) fn config_key(host: &str) -> &str {
    if is_docker_hub(host) {
        DOCKER_HUB_CONFIG_KEY
    } else {
        host
    }
}
use crate::{Credentials, Error, Result};

/// A Docker config file, kept as JSON so unknown settings survive a write.
///
/// `Debug` names the file, the hosts with stored credentials and the
/// credential helpers, never a stored secret.
#[derive(Clone)]
pub struct DockerConfig {
    path: PathBuf,
    document: Map<String, Value>,
}

impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts: Vec<&str> = self
            .document
            .get("auths")
            .and_then(Value::as_object)
            .map(|auths| auths.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("DockerConfig")
            .field("path", &self.path)
            .field("auths", &hosts)
            .field("credsStore", &self.document.get("credsStore"))
            .field("credHelpers", &self.document.get("credHelpers"))
            .finish_non_exhaustive()
    }
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir).join("config.json"));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| PathBuf::from(home).join(".docker").join("config.json"))
    }

    /// Reads `path`; a missing file is an empty config.
    ///
    /// # Errors
    ///
    /// [`Error::DockerConfig`] when the file cannot be read or is not a JSON object.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let document = match std::fs::read(&path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(Value::Object(map)) => map,
                _ => return Err(config_error(&path, "it is not a JSON object")),
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(err) => return Err(config_error(&path, &format!("cannot be read: {err}"))),
        };
        Ok(Self { path, document })
    }

    /// The file this config is read from and written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credential helper configured for `host` (`credHelpers`, else `credsStore`).
    pub fn helper_for(&self, host: &str) -> Option<&str> {
        let per_host = self
            .document
            .get("credHelpers")
            .and_then(Value::as_object)
            .and_then(|helpers| {
                helpers
                    .iter()
                    .find(|(key, _)| same_registry(host_of(key), host))
                    .and_then(|(_, name)| name.as_str())
            });
        per_host
            .or_else(|| self.document.get("credsStore").and_then(Value::as_str))
            .filter(|name| !name.is_empty())
    }

    /// Credentials stored inline under `auths` for `host`.
    ///
    /// # Errors
    ///
    /// [`Error::DockerConfig`] when the entry's `auth` is not base64 of `user:password`.
    pub fn inline_credentials(&self, host: &str) -> Result<Option<Credentials>> {
        let Some(entry) = self
            .document
            .get("auths")
            .and_then(Value::as_object)
            .and_then(|auths| {
                auths
                    .iter()
                    .find(|(key, _)| same_registry(host_of(key), host))
            })
            .and_then(|(_, entry)| entry.as_object())
        else {
            return Ok(None);
        };
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        if let Some(token) = text("identitytoken") {
            return Ok(Some(Credentials::IdentityToken {
                username: text("username").map(str::to_owned),
                token: SecretString::from(token.to_owned()),
            }));
        }
        if let Some(encoded) = text("auth") {
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    config_error(
                        &self.path,
                        &format!("auths.{host}.auth is not base64 of user:password"),
                    )
                })?;
            let (username, password) = decoded.split_once(':').ok_or_else(|| {
                config_error(
                    &self.path,
                    &format!("auths.{host}.auth has no `:` between user and password"),
                )
            })?;
            return Ok(Some(Credentials::basic(username, password)));
        }
        match (text("username"), text("password")) {
            (Some(username), Some(password)) => Ok(Some(Credentials::basic(username, password))),
            _ => Ok(None),
        }
    }

    /// Stores `username` and `password` for `host` inline, as `docker login`
    /// does without a credential store.
    pub fn store(&mut self, host: &str, username: &str, password: &SecretString) {
        let encoded = STANDARD.encode(format!("{username}:{}", password.expose_secret()));
        let auths = self
            .document
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        if let Value::Object(auths) = auths {
            auths.retain(|key, _| !same_registry(host_of(key), host));
            let mut entry = Map::new();
            entry.insert("auth".into(), Value::String(encoded));
            auths.insert(config_key(host).to_owned(), Value::Object(entry));
        }
    }

    /// Stores `username` and `password` for `host` through the credential
    /// helper the file names for it (`credHelpers`, else `credsStore`), with
    /// the helper protocol's `store`, as `docker login` does; the file keeps
    /// an empty `auths` entry for the host, as docker writes it (call
    /// [`DockerConfig::save`] afterwards). The helper runs from `PATH`.
    /// Returns the helper's name, or `None` when the file names none (then
    /// use [`DockerConfig::store`]).
    ///
    /// # Errors
    ///
    /// [`Error::CredentialHelper`] when the helper cannot be run or refuses.
    pub async fn store_with_helper(
        &mut self,
        host: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<Option<String>> {
        let Some(helper) = self.helper_for(host).map(str::to_owned) else {
            return Ok(None);
        };
        super::helper::store(
            &helper,
            config_key(host),
            username,
            password,
            &HelperLocation::default(),
        )
        .await?;
        self.remove(host);
        if let Value::Object(auths) = self
            .document
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()))
        {
            auths.insert(config_key(host).to_owned(), Value::Object(Map::new()));
        }
        Ok(Some(helper))
    }

    /// Has the credential helper for `host` forget it (the protocol's
    /// `erase`), and drops the host's `auths` entry. `None` when the file
    /// names no helper for it; else whether the helper held anything.
    ///
    /// # Errors
    ///
    /// [`Error::CredentialHelper`] when the helper cannot be run or refuses.
    pub async fn erase_with_helper(&mut self, host: &str) -> Result<Option<bool>> {
        let Some(helper) = self.helper_for(host).map(str::to_owned) else {
            return Ok(None);
        };
        let held =
            super::helper::erase(&helper, config_key(host), &HelperLocation::default()).await?;
        self.remove(host);
        Ok(Some(held))
    }

    /// Removes the inline credentials of `host`; whether there were any.
    pub fn remove(&mut self, host: &str) -> bool {
        let Some(Value::Object(auths)) = self.document.get_mut("auths") else {
            return false;
        };
        let before = auths.len();
        auths.retain(|key, _| !same_registry(host_of(key), host));
        auths.len() != before
    }

    /// Writes the file (creating its folder), readable by the owner only on
    /// Unix, through a new temporary file renamed over it, so a reader never
    /// sees half a file and a symlink planted beside it is never followed.
    ///
    /// # Errors
    ///
    /// [`Error::DockerConfig`] when the file cannot be written.
    pub fn save(&self) -> Result<()> {
        let write = || -> std::io::Result<()> {
            if let Some(parent) = self.path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let text = serde_json::to_string_pretty(&Value::Object(self.document.clone()))?;
            write::replace(&self.path, (text + "\n").as_bytes())
        };
        write().map_err(|err| config_error(&self.path, &format!("cannot be written: {err}")))
    }
}

fn config_error(path: &Path, reason: &str) -> Error {
    Error::DockerConfig {
        path: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

/// Credentials from a Docker config file: its credential helper for the host
/// when one is configured, else its inline `auths` entry.
///
/// The file is read on each lookup, so a `docker login` in another terminal
/// takes effect without a restart.
#[derive(Debug, Clone)]
pub struct DockerConfigProvider {
    path: Option<PathBuf>,
    helpers: HelperLocation,
}

impl DockerConfigProvider {
    /// Reads [`DockerConfig::default_path`].
    pub fn new() -> Self {
        Self {
            path: DockerConfig::default_path(),
            helpers: HelperLocation::default(),
        }
    }

    /// Reads the config at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Some(path.into()),
            helpers: HelperLocation::default(),
        }
    }

    /// Runs credential helpers from `dir` instead of looking them up on
    /// `PATH`. Default: the process's `PATH`, as docker does.
    #[must_use]
    pub fn helper_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.helpers = HelperLocation::Dir(dir.into());
        self
    }

    /// Looks credential helpers up on this `PATH`-style list of folders
    /// (`/opt/helpers:/usr/bin:/bin`) instead of the process's, and runs
    /// them with it as their `PATH`, so it must also hold what the helper
    /// itself runs (`pass`, `gpg`). Default: the process's `PATH`.
    #[must_use]
    pub fn helper_path(mut self, path: impl Into<OsString>) -> Self {
        self.helpers = HelperLocation::SearchPath(path.into());
        self
    }
}

impl Default for DockerConfigProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialProvider for DockerConfigProvider {
    fn credentials<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Option<Credentials>>> {
        Box::pin(async move {
            let Some(path) = &self.path else {
                return Ok(None);
            };
            let config = DockerConfig::load(path)?;
            if let Some(name) = config.helper_for(host)
                && let Some(found) = helper::get(name, config_key(host), &self.helpers).await?
            {
                return Ok(Some(found));
            }
            config.inline_credentials(host)
        })
    }
}

#[cfg(test)]
mod tests;
