//! External tools: a clear error naming the install command when one is
//! missing, and skopeo run to completion.

use std::io;
use std::path::PathBuf;

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
    let output = Command::new(binary)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(io::Error::other(format!(
            "skopeo {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
