//! Stable exit codes, which error means which, and how a failure is shown.

use std::fmt;

use ghcr::packages::Error as PackagesError;
use ghcr::registry::Error as RegistryError;
use ghcr::transport::Error as TransportError;
use ghcr::trust::Error as TrustError;

use crate::output::Output;

/// The exit codes, as `--help` lists them. Scripts rely on these numbers.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other failure
  2  usage: a bad argument (a broken layout or tarball), reference, setting or policy
  3  not found: no such image, tag, blob, package, version or scan (on ghcr.io also: no access)
  4  authentication or authorization refused
  5  rate limited longer than the allowed wait
  6  digest mismatch: content did not match its digest and was not kept
  7  blocked by the vulnerability gate
  8  not verified: no signature or attestation verified under the policy (verify; gate and vulns with --key)";

/// Why the program failed, as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    Other = 1,
    Usage = 2,
    NotFound = 3,
    Auth = 4,
    RateLimited = 5,
    DigestMismatch = 6,
    Blocked = 7,
    NotVerified = 8,
}

impl Code {
    /// The name in JSON errors.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Other => "other",
            Self::Usage => "usage",
            Self::NotFound => "not_found",
            Self::Auth => "auth",
            Self::RateLimited => "rate_limited",
            Self::DigestMismatch => "digest_mismatch",
            Self::Blocked => "blocked",
            Self::NotVerified => "not_verified",
        }
    }
}

/// A failure the CLI decides itself (a usage error, a blocked gate).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: Code,
    pub(crate) message: String,
    /// The command already printed its JSON result (a blocked gate).
    pub(crate) reported: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A usage error.
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure {
        code: Code::Usage,
        message: message.into(),
        reported: false,
    }
    .into()
}

/// A failure with `code`.
pub(crate) fn failure(code: Code, message: impl Into<String>) -> anyhow::Error {
    Failure {
        code,
        message: message.into(),
        reported: false,
    }
    .into()
}

/// A failure with `code` whose JSON result the command printed already.
pub(crate) fn reported(code: Code, message: impl Into<String>) -> anyhow::Error {
    Failure {
        code,
        message: message.into(),
        reported: true,
    }
    .into()
}

/// The exit code an error means: the first cause in its chain that says.
pub(crate) fn classify(error: &anyhow::Error) -> Code {
    error
        .chain()
        .find_map(|cause| {
            if let Some(failure) = cause.downcast_ref::<Failure>() {
                return Some(failure.code);
            }
            if let Some(error) = cause.downcast_ref::<ghcr::Error>() {
                return Some(of_ghcr(error));
            }
            if let Some(error) = cause.downcast_ref::<RegistryError>() {
                return Some(of_registry(error));
            }
            if let Some(error) = cause.downcast_ref::<PackagesError>() {
                return Some(of_packages(error));
            }
            if let Some(error) = cause.downcast_ref::<TrustError>() {
                return Some(of_trust(error));
            }
            if let Some(error) = cause.downcast_ref::<TransportError>() {
                return Some(of_transport(error));
            }
            if let Some(error) = cause.downcast_ref::<ghcr::types::Error>() {
                return Some(of_types(error));
            }
            cause
                .downcast_ref::<ghcr::auth::Error>()
                .map(|_| Code::Auth)
        })
        .unwrap_or(Code::Other)
}

fn of_ghcr(error: &ghcr::Error) -> Code {
    match error {
        // A simulation error is a setting (GHCR_SIMULATION_*) or its cassette.
        ghcr::Error::Config { .. }
        | ghcr::Error::EmptyIndex { .. }
        | ghcr::Error::Simulation(_) => Code::Usage,
        ghcr::Error::Transport(error) => of_transport(error),
        ghcr::Error::Registry(error) => of_registry(error),
        ghcr::Error::Packages(error) => of_packages(error),
        ghcr::Error::Data(error) => of_types(error),
        _ => Code::Other,
    }
}

fn of_types(error: &ghcr::types::Error) -> Code {
    match error {
        ghcr::types::Error::DigestMismatch { .. } => Code::DigestMismatch,
        _ => Code::Usage,
    }
}

fn of_transport(error: &TransportError) -> Code {
    match error {
        TransportError::Unauthorized { .. }
        | TransportError::Denied { .. }
        | TransportError::Auth(_) => Code::Auth,
        TransportError::NotFound { .. } => Code::NotFound,
        TransportError::RateLimited { .. } => Code::RateLimited,
        TransportError::Config { .. } => Code::Usage,
        _ => Code::Other,
    }
}

fn of_registry(error: &RegistryError) -> Code {
    if error.is_digest_mismatch() {
        return Code::DigestMismatch;
    }
    match error {
        RegistryError::Transport(error) => of_transport(error),
        RegistryError::Data(error) => of_types(error),
        RegistryError::ManifestNotFound { .. }
        | RegistryError::BlobNotFound { .. }
        | RegistryError::PlatformNotFound { .. } => Code::NotFound,
        RegistryError::UploadInterrupted { source, .. } => of_registry(source),
        RegistryError::InvalidReference { .. }
        | RegistryError::InvalidFilter { .. }
        | RegistryError::InvalidVersionRange { .. }
        | RegistryError::Layout { .. }
        | RegistryError::Archive { .. }
        | RegistryError::Config { .. } => Code::Usage,
        _ => Code::Other,
    }
}

pub(crate) fn of_packages(error: &PackagesError) -> Code {
    match error {
        PackagesError::Api { status, .. } => match status {
            401 | 403 => Code::Auth,
            404 => Code::NotFound,
            _ => Code::Other,
        },
        PackagesError::NotFound { .. }
        | PackagesError::VersionNotFound { .. }
        | PackagesError::VulnDataNotAvailable { .. } => Code::NotFound,
        PackagesError::OrgListingForbidden { .. } => Code::Auth,
        PackagesError::ScansNotVerified { .. } => Code::NotVerified,
        PackagesError::Transport(error) => of_transport(error),
        PackagesError::Registry(error) => of_registry(error),
        PackagesError::Data(error) => of_types(error),
        PackagesError::Paging { source, .. } | PackagesError::Unreachable { source, .. } => {
            of_packages(source)
        }
        PackagesError::OtherTags { .. }
        | PackagesError::WrongRegistry { .. }
        | PackagesError::InvalidPolicy { .. }
        | PackagesError::Config { .. } => Code::Usage,
        _ => Code::Other,
    }
}

fn of_trust(error: &TrustError) -> Code {
    match error {
        TrustError::Registry(error) => of_registry(error),
        TrustError::Data(error) => of_types(error),
        TrustError::InvalidKey { .. } | TrustError::NoKeys => Code::Usage,
        _ => Code::Other,
    }
}

/// Advice the error's chain calls for.
fn hint(error: &anyhow::Error) -> Option<&'static str> {
    // rustls reading an HTTP answer where a TLS record should be.
    let plain = error
        .chain()
        .any(|cause| cause.to_string().contains("InvalidContentType"));
    plain.then_some(
        "the server answered in plain HTTP, not TLS: for a registry without TLS (on loopback) add --plain-http",
    )
}

/// Shows a failure (text on stderr; with --json also an error object on
/// stdout) and returns its exit code.
pub(crate) fn report(error: &anyhow::Error, out: Output) -> std::process::ExitCode {
    let code = classify(error);
    let mut lines = vec![format!("error: {error}")];
    let mut previous = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !previous.contains(&text) {
            lines.push(format!("  caused by: {text}"));
        }
        previous = text;
    }
    if let Some(hint) = hint(error) {
        lines.push(format!("hint: {hint}"));
    }
    let reported = error
        .downcast_ref::<Failure>()
        .is_some_and(|failure| failure.reported);
    if out.is_json() && !reported {
        let message: Vec<String> = error.chain().map(ToString::to_string).collect();
        out.value(&serde_json::json!({
            "error": {
                "kind": code.kind(),
                "exit_code": code as u8,
                "message": message.join(": "),
            }
        }));
    }
    out.error_lines(&lines);
    std::process::ExitCode::from(code as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> TransportError {
        let uri: http::Uri = "https://ghcr.io/v2/octo/app/manifests/v1".parse().unwrap();
        let status = http::StatusCode::from_u16(code).unwrap();
        TransportError::from_parts(&http::Method::GET, &uri, status, b"", 1)
    }

    #[test]
    fn errors_map_to_their_codes() {
        let digest = ghcr::types::Digest::sha256_of(b"a");
        let table: Vec<(anyhow::Error, Code)> = vec![
            (usage("bad flag"), Code::Usage),
            (reported(Code::Blocked, "blocked"), Code::Blocked),
            (
                reported(Code::NotVerified, "not verified"),
                Code::NotVerified,
            ),
            (
                ghcr::trust::PublicKey::from_pem("garbage", "k.pub")
                    .unwrap_err()
                    .into(),
                Code::Usage,
            ),
            (
                ghcr::trust::Error::from(RegistryError::from(status(404))).into(),
                Code::NotFound,
            ),
            (RegistryError::from(status(404)).into(), Code::NotFound),
            (
                ghcr::Error::from(RegistryError::from(status(401))).into(),
                Code::Auth,
            ),
            (PackagesError::from(status(429)).into(), Code::RateLimited),
            (ghcr::Error::from(status(403)).into(), Code::Auth),
            (ghcr::Error::from(status(500)).into(), Code::Other),
            (
                ghcr::Error::from(RegistryError::from(digest.verify(b"b").unwrap_err())).into(),
                Code::DigestMismatch,
            ),
            (
                anyhow::Error::from(ghcr::types::Reference::parse("not a ref").unwrap_err())
                    .context("parsing the source"),
                Code::Usage,
            ),
            (anyhow::anyhow!("disk full"), Code::Other),
        ];
        for (error, expected) in table {
            assert_eq!(classify(&error), expected, "{error:#}");
            assert_eq!(hint(&error), None);
        }
        let tls = anyhow::anyhow!("received corrupt message of type InvalidContentType")
            .context("connect");
        assert!(hint(&tls).is_some_and(|h| h.contains("--plain-http")));
    }
}
