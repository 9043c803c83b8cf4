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

/// [`Error::CredentialHelper`] for `helper` answering for `host`.
fn helper_error(helper: &str, host: &str, reason: String) -> Error {
    Error::CredentialHelper {
        helper: helper.to_owned(),
        registry: host.to_owned(),
        reason,
    }
}

/// What a helper printed when it exited 0.
struct Answered(Vec<u8>);

/// Runs `docker-credential-<helper> VERB` with `input` on stdin. `Ok(None)`
/// when the helper says it holds nothing for the host.
async fn run(
    helper: &str,
    verb: &str,
    host: &str,
    input: &[u8],
    location: &HelperLocation,
) -> Result<Option<Answered>> {
    let fail = |reason: String| helper_error(helper, host, reason);
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
        .arg(verb)
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
            .write_all(input)
            .await
            .map_err(|err| fail(format!("could not write to the helper: {err}")))?;
    }
    let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| fail(format!("no answer within {} s", HELPER_TIMEOUT.as_secs())))?
        .map_err(|err| fail(format!("could not read the helper's answer: {err}")))?;
    if output.status.success() {
        return Ok(Some(Answered(output.stdout)));
    }
    let message = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    if message
        .to_ascii_lowercase()
        .contains("credentials not found")
    {
        return Ok(None);
    }
    // Only the first line, cut short: a helper's output is not ours to show.
    let first_line = message
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect::<String>();
    Err(fail(format!(
        "`{verb}` exited with {} ({first_line})",
        output.status
    )))
}

/// Asks `docker-credential-<helper>` for `host`. `Ok(None)` when the helper
/// has nothing stored for it.
pub(super) async fn get(
    helper: &str,
    host: &str,
    location: &HelperLocation,
) -> Result<Option<Credentials>> {
    let fail = |reason: String| helper_error(helper, host, reason);
    let Some(Answered(stdout)) = run(helper, "get", host, host.as_bytes(), location).await? else {
        return Ok(None);
    };
    let parsed: HelperOutput = serde_json::from_slice(&stdout).map_err(|_| {
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

/// What `store` sends: the helper protocol's JSON object.
#[derive(serde::Serialize)]
struct StoreInput<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    #[serde(rename = "Username")]
    username: &'a str,
    #[serde(rename = "Secret")]
    secret: &'a str,
}

/// Hands `username` and `password` for `host` to `docker-credential-<helper> store`.
pub(super) async fn store(
    helper: &str,
    host: &str,
    username: &str,
    password: &SecretString,
    location: &HelperLocation,
) -> Result<()> {
    use secrecy::ExposeSecret as _;
    let input = serde_json::to_vec(&StoreInput {
        server_url: host,
        username,
        secret: password.expose_secret(),
    })
    .map_err(|err| {
        helper_error(
            helper,
            host,
            format!("could not encode the credentials: {err}"),
        )
    })?;
    run(helper, "store", host, &input, location).await.map(drop)
}

/// Asks `docker-credential-<helper> erase` to forget `host`; whether it held
/// anything for it.
pub(super) async fn erase(helper: &str, host: &str, location: &HelperLocation) -> Result<bool> {
    Ok(run(helper, "erase", host, host.as_bytes(), location)
        .await?
        .is_some())
}
