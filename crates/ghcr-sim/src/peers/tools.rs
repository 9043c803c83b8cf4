//! External tools: a clear error naming the install command when one is
//! missing, and skopeo and oras-py (a Python script in its venv) run to
//! completion.

use std::io;
use std::path::{Path, PathBuf};

use tokio::process::Command;

/// Where Debian's skopeo lives.
pub const SKOPEO: &str = "/usr/bin/skopeo";

/// The path of `binary`, or an error (kind `NotFound`) that says how to
/// install it: ``/usr/bin/skopeo is missing; install it with `apt-get
/// install -y skopeo` ``.
///
/// # Errors
///
/// When `binary` does not exist.
pub fn require(binary: &str, package: &str) -> io::Result<PathBuf> {
    let path = PathBuf::from(binary);
    if path.is_file() {
        Ok(path)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{binary} is missing; install it with `apt-get install -y {package}`"),
        ))
    }
}

/// Runs `skopeo ARGS` and returns its stdout.
///
/// Asynchronous, so that a [`super::TokenIssuer`] on the same runtime keeps
/// answering while skopeo asks it for tokens.
///
/// # Errors
///
/// When skopeo is missing (with the install command), cannot start, or
/// fails; the error carries its stderr.
pub async fn skopeo(args: &[&str]) -> io::Result<Vec<u8>> {
    let binary = require(SKOPEO, "skopeo")?;
    stdout_of(Command::new(binary).args(args), "skopeo", args).await
}

/// Runs `command` to completion and returns its stdout; a failure is an
/// error naming `what` and `args`, with its stderr.
async fn stdout_of(command: &mut Command, what: &str, args: &[&str]) -> io::Result<Vec<u8>> {
    let output = command.kill_on_drop(true).output().await?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(io::Error::other(format!(
            "{what} {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// The oras-py (PyPI `oras`) version the interoperability tests pin;
/// `cargo xtask install` puts it into [`oras_venv`].
pub const ORAS_PY_VERSION: &str = "0.2.43";

/// Where oras-py's venv is: `$GHCR_ORAS_VENV`, else `target/oras-venv` in
/// this workspace (whatever `CARGO_TARGET_DIR` says).
pub fn oras_venv() -> PathBuf {
    std::env::var_os("GHCR_ORAS_VENV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/oras-venv"),
        PathBuf::from,
    )
}

/// Runs the Python `script` (`python -c SCRIPT ARGS`, `sys.argv[1:]` being
/// `args`) in oras-py's venv, with a fresh empty `HOME` so that no Docker
/// config is read or written, and returns its stdout.
///
/// # Errors
///
/// When the venv is missing (kind `NotFound`, naming `cargo xtask install`
/// and the commands it runs), python cannot start, or the script fails;
/// the error carries its stderr.
pub async fn oras_py(script: &str, args: &[&str]) -> io::Result<Vec<u8>> {
    let venv = oras_venv();
    let python = venv.join("bin/python");
    if !python.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} is missing; run `cargo xtask install`, or `python3 -m venv {venv} && {venv}/bin/pip install oras=={ORAS_PY_VERSION}`",
                python.display(),
                venv = venv.display(),
            ),
        ));
    }
    let home = tempfile::tempdir()?;
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(script)
        .args(args)
        .env("HOME", home.path())
        .env_remove("PYTHONPATH")
        .env_remove("DOCKER_CONFIG");
    stdout_of(&mut command, "oras-py script", args).await
}
