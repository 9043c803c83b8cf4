//! The crate's one error type, and how GitHub's error answers become it.
//!
//! GitHub's error bodies (`message`, `documentation_url`) are kept whole;
//! each variant says what to do about it. A 404 never claims absence alone:
//! GitHub answers 404 when the token may not see a private package too.

use ghcr_transport::ErrorBody;
use ghcr_types::{Digest, PackageVersionId};

use crate::page::PageCursor;

/// What can go wrong talking to the GitHub Packages API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// GitHub refused or failed a call and said why.
    #[error("{operation} failed: GitHub answered {status}: {message}{}{}", see(documentation_url.as_deref()), then(hint))]
    #[non_exhaustive]
    Api {
        /// What was attempted (`delete version 12 of package app of organization octo-org`).
        operation: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
        /// The documentation page GitHub pointed to.
        documentation_url: Option<String>,
        /// What to do about it; empty when GitHub's message says it all.
        hint: &'static str,
    },

    /// GitHub answered 404.
    #[error(
        "{what} was not found (GitHub answered 404: {message}); GitHub also answers 404 when the token may not see a private package, so check that it is a PAT (classic) with read:packages whose account has access"
    )]
    #[non_exhaustive]
    NotFound {
        /// What was looked for.
        what: String,
        /// GitHub's message.
        message: String,
    },

    /// A `GITHUB_TOKEN` (or another integration token) listed an organization's packages.
    #[error(
        "this token may not list the packages of organization {org} (GitHub answered 403: {message}); an Actions GITHUB_TOKEN cannot list org packages: use a PAT (classic) with read:packages"
    )]
    #[non_exhaustive]
    OrgListingForbidden {
        /// The organization.
        org: String,
        /// GitHub's message.
        message: String,
    },

    /// The request pipeline failed: network, timeout, or a rate limit longer than the allowed wait.
    #[error(transparent)]
    Transport(#[from] ghcr_transport::Error),

    /// A registry read failed (manifests and attestations come from the registry).
    #[error(transparent)]
    Registry(Box<ghcr_registry::Error>),

    /// Data did not validate (a digest, a reference).
    #[error(transparent)]
    Data(#[from] ghcr_types::Error),

    /// An answer stopped before its end.
    #[error("the answer to {what} was cut before its end; try again")]
    #[non_exhaustive]
    Interrupted {
        /// What was being read.
        what: String,
        /// The connection's error.
        #[source]
        source: ghcr_transport::BoxError,
    },

    /// A page of a listing failed after the transport's retries.
    #[error(
        "listing {what} stopped at page {}; nothing is lost: resume from cursor `{cursor}` once the cause is fixed",
        cursor.page()
    )]
    #[non_exhaustive]
    Paging {
        /// What was being listed.
        what: String,
        /// Where to resume (the page that failed).
        cursor: PageCursor,
        /// Why the page failed.
        #[source]
        source: Box<Error>,
    },

    /// A listing went on past what any GitHub listing holds.
    #[error(
        "listing {what} passed this client's limit of {value} {limit}, far more than a package holds; the server seems to page without end"
    )]
    #[non_exhaustive]
    ListingLimit {
        /// What was being listed.
        what: String,
        /// Which limit: `pages` or `items`.
        limit: &'static str,
        /// Its value.
        value: usize,
    },

    /// GitHub answered something this client cannot read.
    #[error("GitHub's answer to {operation} could not be read: {reason}")]
    #[non_exhaustive]
    InvalidResponse {
        /// What was asked.
        operation: String,
        /// What was wrong.
        reason: String,
    },

    /// No version carries the tag or digest asked for.
    #[error("no active version of {package} {what}")]
    #[non_exhaustive]
    VersionNotFound {
        /// The package, with its owner.
        package: String,
        /// `is tagged v1` or `has digest sha256:…`.
        what: String,
    },

    /// Deleting the version would delete tags the caller did not name.
    #[error(
        "deleting {reference} would also delete tag(s) {} of the same version {version_id}: a version is one digest with all its tags; delete with DeleteTags::All (--force) to remove them all, or move those tags first",
        tags.join(", ")
    )]
    #[non_exhaustive]
    OtherTags {
        /// What the caller named.
        reference: String,
        /// The version that would be deleted.
        version_id: PackageVersionId,
        /// The tags that would go too.
        tags: Vec<String>,
    },

    /// The reference is not on the registry this client's packages live on.
    #[error(
        "{reference} is not on {expected}, the registry whose packages this client manages; use a client configured for that registry"
    )]
    #[non_exhaustive]
    WrongRegistry {
        /// What the caller named.
        reference: String,
        /// The configured registry host.
        expected: String,
    },

    /// GitHub has no API for this.
    #[error(
        "{operation} has no GitHub API: {reason}; change it in the package settings at {settings_url}"
    )]
    #[non_exhaustive]
    Unsupported {
        /// What was attempted.
        operation: &'static str,
        /// Why, and what else to know.
        reason: String,
        /// Where a person can do it.
        settings_url: String,
    },

    /// No vulnerability scan is attached to the image.
    #[error(
        "no vulnerability data for {subject} of {package}: {looked}; scan the image (trivy, grype) and attach the result with `cosign attest --type vuln`"
    )]
    #[non_exhaustive]
    VulnDataNotAvailable {
        /// The package, with its owner.
        package: String,
        /// The image digest.
        subject: Digest,
        /// Where the client looked.
        looked: String,
    },

    /// Under a verification policy, vulnerability attestations exist but
    /// none verified: the gate fails closed.
    #[error(
        "no vulnerability scan of {subject} in {package} verified under the policy; {} ignored: {}",
        ignored.len(),
        crate::vulns::list_ignored(ignored)
    )]
    #[non_exhaustive]
    ScansNotVerified {
        /// The package, with its owner.
        package: String,
        /// The image digest.
        subject: Digest,
        /// The attestations left out, with why.
        ignored: Vec<crate::IgnoredAttestation>,
    },

    /// An attestation was found but could not be read.
    #[error("attestation {attestation} could not be read: {reason}")]
    #[non_exhaustive]
    InvalidAttestation {
        /// The attestation's manifest (or, for bytes given directly, their digest).
        attestation: Digest,
        /// What was wrong.
        reason: String,
    },

    /// A manifest a kept version needs could not be read, so cleanup cannot
    /// know what is safe to delete.
    #[error(
        "could not read manifest {digest} ({context}); cleanup needs it to know what kept versions reference, so nothing was deleted"
    )]
    #[non_exhaustive]
    Unreachable {
        /// The manifest.
        digest: Digest,
        /// Which version needed it.
        context: String,
        /// Why it could not be read.
        #[source]
        source: Box<Error>,
    },

    /// A retention policy that cannot work.
    #[error("invalid retention policy: {reason}")]
    #[non_exhaustive]
    InvalidPolicy {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A cleanup journal could not be created, written or read.
    #[error("the cleanup journal {} could not be {action}; {advice}", path.display())]
    #[non_exhaustive]
    JournalIo {
        /// The journal file.
        path: std::path::PathBuf,
        /// `created`, `written`, `read`.
        action: &'static str,
        /// What to do about it.
        advice: &'static str,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },

    /// A line of a cleanup journal is not a journal record (only the last
    /// line may be cut short, by a crash while it was written).
    #[error(
        "line {line} of the cleanup journal {} cannot be used: {reason}; a crash can only cut the last line short, so the file was changed by hand or by another program: restore it, or remove that line if you know what it recorded", path.display()
    )]
    #[non_exhaustive]
    JournalInvalid {
        /// The journal file.
        path: std::path::PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A journal resumed for another package or policy than it records.
    #[error(
        "the cleanup journal {} records {recorded}, not {asked}; resume it with the package and policy flags it records, or start a new run without --resume", path.display()
    )]
    #[non_exhaustive]
    JournalMismatch {
        /// The journal file.
        path: std::path::PathBuf,
        /// What the journal records.
        recorded: String,
        /// What the resumed run asked for.
        asked: String,
    },

    /// A client setting that cannot work.
    #[error("invalid setting `{setting}`: {reason}")]
    #[non_exhaustive]
    Config {
        /// The setting.
        setting: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ghcr_registry::Error> for Error {
    fn from(error: ghcr_registry::Error) -> Self {
        Self::Registry(Box::new(error))
    }
}

fn see(url: Option<&str>) -> String {
    url.map(|url| format!(" (see {url})")).unwrap_or_default()
}

fn then(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!("; {hint}")
    }
}

/// The message GitHub sends to integration tokens refused an operation.
const INTEGRATION_REFUSED: &str = "not accessible by integration";

impl Error {
    /// Turns a transport error from an API call into this type: GitHub's
    /// refusals keep their message and documentation URL and gain a hint;
    /// network failures and rate limits stay transport errors.
    ///
    /// `action` is the verb (`delete`), `what` the object (`version 12 of
    /// package app of user octo`).
    pub(crate) fn from_api(action: &str, what: &str, error: ghcr_transport::Error) -> Self {
        let Some(status) = error.status().map(|s| s.as_u16()) else {
            return Self::Transport(error);
        };
        if status == 429 {
            return Self::Transport(error);
        }
        let (message, documentation_url) = match error.body() {
            Some(ErrorBody::GitHub {
                message,
                documentation_url,
            }) => (message.clone(), documentation_url.clone()),
            Some(body) => (body.to_string(), None),
            None => (error.to_string(), None),
        };
        if status == 404 {
            return Self::NotFound {
                what: what.to_owned(),
                message,
            };
        }
        let hint = hint(status, &message);
        Self::Api {
            operation: format!("{action} {what}"),
            status,
            message,
            documentation_url,
            hint,
        }
    }

    /// Whether GitHub's message says an integration token was refused.
    pub(crate) fn is_integration_refusal(&self) -> bool {
        matches!(self, Self::Api { status: 403, message, .. } if message.to_ascii_lowercase().contains(INTEGRATION_REFUSED))
    }

    /// The HTTP status GitHub answered, when the error is an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::OrgListingForbidden { .. } => Some(403),
            Self::Transport(error) => error.status().map(|s| s.as_u16()),
            Self::Paging { source, .. } | Self::Unreachable { source, .. } => source.status(),
            _ => None,
        }
    }

    /// GitHub's own message, when it sent one.
    pub fn github_message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. }
            | Self::NotFound { message, .. }
            | Self::OrgListingForbidden { message, .. } => Some(message),
            Self::Paging { source, .. } => source.github_message(),
            _ => None,
        }
    }

    /// The documentation page GitHub pointed to, when it did.
    pub fn documentation_url(&self) -> Option<&str> {
        match self {
            Self::Api {
                documentation_url, ..
            } => documentation_url.as_deref(),
            Self::Paging { source, .. } => source.documentation_url(),
            _ => None,
        }
    }

    /// Whether a write (DELETE, POST) that ended with this error may still
    /// have been carried out: its answer was lost or unreadable (a 5xx
    /// after the retries, a timeout, a broken connection, an answer cut
    /// short or too large), as opposed to a refusal, which changes nothing.
    pub fn may_have_applied(&self) -> bool {
        match self {
            Self::Transport(error) => matches!(
                error,
                ghcr_transport::Error::Server { .. }
                    | ghcr_transport::Error::Network { .. }
                    | ghcr_transport::Error::Timeout { .. }
                    | ghcr_transport::Error::Protocol { .. }
            ),
            Self::Api { status, .. } => *status == 408 || *status >= 500,
            Self::Interrupted { .. } | Self::InvalidResponse { .. } => true,
            _ => false,
        }
    }

    /// Whether GitHub answered 404 (absent, or not visible to this token).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// What to do about a status, beyond GitHub's message.
fn hint(status: u16, message: &str) -> &'static str {
    if message.to_ascii_lowercase().contains(INTEGRATION_REFUSED) {
        return "an Actions GITHUB_TOKEN or GitHub App token cannot do this: use a PAT (classic) with the packages scopes";
    }
    let lowered = message.to_ascii_lowercase();
    if status == 400 && lowered.contains("5000 downloads") {
        return "GitHub keeps public packages and versions downloaded more than 5,000 times: only GitHub Support can delete them";
    }
    if status == 400
        && (lowered.contains("last tagged version")
            || lowered.contains("last version of a package"))
    {
        return "GitHub keeps a package's last (tagged) version: delete the package instead (`ghcr cleanup --delete-package` when the policy empties it; restorable for 30 days)";
    }
    match status {
        401 => "the token was refused: use a valid PAT (classic) or GITHUB_TOKEN",
        403 => {
            "the token lacks a permission: reading needs read:packages; deleting needs delete:packages and admin on the package (org admin for org packages); restoring needs write:packages; fine-grained PATs are not supported"
        }
        410 => "this X-GitHub-Api-Version is no longer served: configure a newer one",
        500..=599 => "GitHub is having trouble; try again later",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Method, StatusCode, Uri};

    fn transport(status: u16, body: &str) -> ghcr_transport::Error {
        let url: Uri = "https://api.github.com/orgs/o/packages".parse().unwrap();
        ghcr_transport::Error::from_parts(
            &Method::GET,
            &url,
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            1,
        )
    }

    #[test]
    fn github_answers_keep_message_and_documentation() {
        let body = r#"{"message":"You cannot delete the last tagged version of a package.","documentation_url":"https://docs.github.com/rest/packages"}"#;
        let error = Error::from_api("delete", "version 7 of package app", transport(400, body));
        let text = error.to_string();
        assert!(
            text.starts_with("delete version 7 of package app failed: GitHub answered 400"),
            "{text}"
        );
        assert!(text.contains("last tagged version"), "{text}");
        assert!(text.contains("--delete-package"), "{text}");
        let popular = r#"{"message":"Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance."}"#;
        let refused = Error::from_api("delete", "version 8", transport(400, popular)).to_string();
        assert!(refused.contains("only GitHub Support"), "{refused}");
        assert!(
            text.contains("(see https://docs.github.com/rest/packages)"),
            "{text}"
        );
        assert_eq!(error.status(), Some(400));
        assert_eq!(
            error.documentation_url(),
            Some("https://docs.github.com/rest/packages")
        );
    }

    #[test]
    fn statuses_get_hints() {
        let table = [
            (401, r#"{"message":"Bad credentials"}"#, "valid PAT"),
            (403, r#"{"message":"Forbidden"}"#, "delete:packages"),
            (
                403,
                r#"{"message":"Resource not accessible by integration"}"#,
                "GITHUB_TOKEN",
            ),
            (410, r#"{"message":"Gone"}"#, "X-GitHub-Api-Version"),
            (502, "bad gateway", "try again later"),
        ];
        for (status, body, expected) in table {
            let text = Error::from_api("list", "packages", transport(status, body)).to_string();
            assert!(text.contains(expected), "{status}: {text}");
        }
    }

    #[test]
    fn not_found_says_it_may_be_permissions() {
        let error = Error::from_api(
            "get",
            "package app of organization o",
            transport(404, r#"{"message":"Package not found."}"#),
        );
        assert!(error.is_not_found());
        let text = error.to_string();
        assert!(text.contains("Package not found."), "{text}");
        assert!(text.contains("may not see a private package"), "{text}");
    }

    #[test]
    fn rate_limits_stay_transport_errors() {
        let error = Error::from_api("list", "packages", transport(429, ""));
        assert!(matches!(error, Error::Transport(_)));
    }

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        let size = std::mem::size_of::<Error>();
        assert!(size <= 112, "{size}");
    }
}
