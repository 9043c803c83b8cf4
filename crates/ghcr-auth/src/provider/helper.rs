//! Running `docker-credential-<name> get`, the Docker credential helper protocol.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::{Credentials, Error, Result};

/// How long a helper may take (some unlock a keychain first).
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// The user name helpers report for an identity (refresh) token.
const IDENTITY_TOKEN_USER: &str = "<token>";

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Where `docker-credential-<name>` programs are found.
#[derive(Clone, Debug, Default)]
pub(super) enum HelperLocation {
    /// On the process's `PATH`, as docker finds them.
    #[default]
    ProcessPath,
    /// On this `PATH`-style list of folders (the helper runs with it as its `PATH`).
    SearchPath(OsString),
    /// In this one folder.
    Dir(PathBuf),
}

/// Asks `docker-credential-<helper>` for `host`. `Ok(None)` when the helper
/// has nothing stored for it.
pub(super) async fn get(
    helper: &str,
    host: &str,
    location: &HelperLocation,
) -> Result<Option<Credentials>> {
    let fail = |reason: String| Error::CredentialHelper {
        helper: helper.to_owned(),
        registry: host.to_owned(),
        reason,
    };
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(fail(
            "the helper name may only hold letters, digits, `-`, `_` and `.`".into(),
        ));
    }
    let name = format!("docker-credential-{helper}");
    let mut command = match location {
        HelperLocation::ProcessPath => tokio::process::Command::new(&name),
        HelperLocation::SearchPath(path) => {
            // With PATH set on the command, the OS searches that PATH.
            let mut command = tokio::process::Command::new(&name);
            command.env("PATH", path);
            command
        }
        HelperLocation::Dir(dir) => tokio::process::Command::new(dir.join(&name)),
    };
    let mut child = command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| {
            fail(format!(
                "could not run `{name}` ({err}); is it installed and on PATH?"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(host.as_bytes())
            .await
            .map_err(|err| fail(format!("could not write to the helper: {err}")))?;
    }
    let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| fail(format!("no answer within {} s", HELPER_TIMEOUT.as_secs())))?
        .map_err(|err| fail(format!("could not read the helper's answer: {err}")))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        if message
            .to_ascii_lowercase()
            .contains("credentials not found")
        {
            return Ok(None);
        }
        let first_line = message
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>();
        return Err(fail(format!(
            "it exited with {} ({first_line})",
            output.status
        )));
    }
    let parsed: HelperOutput = serde_json::from_slice(&output.stdout).map_err(|_| {
        fail("its answer is not the JSON object {ServerURL, Username, Secret}".into())
    })?;
    if parsed.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if parsed.username == IDENTITY_TOKEN_USER {
        Credentials::IdentityToken {
            username: None,
            token: SecretString::from(parsed.secret),
        }
    } else {
        Credentials::basic(parsed.username, parsed.secret)
    }))
}
