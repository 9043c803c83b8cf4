//! Keyless identities: what a Fulcio certificate says about its signer
//! ([`CertificateIdentity`]), and what a policy asks of it
//! ([`IdentityPolicy`]: `cosign verify`'s certificate identity and OIDC
//! issuer, `gh attestation verify`'s owner, repository and signer
//! workflow). Matching is pure.

use regex::Regex;
use serde::Serialize;

use crate::error::{Error, Result};

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The signer a Fulcio certificate names, once it verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CertificateIdentity {
    /// The subject alternative name: a URI (a workflow, for GitHub
    /// Actions) or an email.
    pub identity: String,
    /// The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or the
    /// legacy .1.1).
    pub issuer: String,
    /// Fulcio's CI extensions, where the certificate has them.
    pub claims: Claims,
    /// When it signed, Unix seconds: the transparency log's integrated
    /// time, vouched for by its signed entry timestamp.
    pub signed_at: i64,
}

/// Fulcio's CI extensions (1.3.6.1.4.1.57264.1.N, sigstore/fulcio
/// docs/oid-info.md), as GitHub Actions fills them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Claims {
    /// .9: the workflow that signed (`https://github.com/o/r/.github/workflows/w.yml@refs/...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_signer_uri: Option<String>,
    /// .10: that workflow's commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_signer_digest: Option<String>,
    /// .11: `github-hosted` or `self-hosted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_environment: Option<String>,
    /// .12: the source repository (`https://github.com/o/r`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_uri: Option<String>,
    /// .13: the source commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_digest: Option<String>,
    /// .14: the source ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_ref: Option<String>,
    /// .16: the repository owner (`https://github.com/o`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_repository_owner_uri: Option<String>,
    /// .18: the top-level workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_config_uri: Option<String>,
    /// .20: the event that triggered the run (`push`, `release`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_trigger: Option<String>,
    /// .21: the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_invocation_uri: Option<String>,
}

impl CertificateIdentity {
    /// `owner/repo` of a GitHub source repository, if any.
    pub fn repository(&self) -> Option<&str> {
        self.claims
            .source_repository_uri
            .as_deref()
            .and_then(|uri| uri.strip_prefix("https://github.com/"))
    }

    /// The signing workflow without `https://github.com/` (`o/r/.github/workflows/w.yml@ref`).
    pub fn workflow(&self) -> Option<&str> {
        let uri = self
            .claims
            .build_signer_uri
            .as_deref()
            .unwrap_or(&self.identity);
        uri.strip_prefix("https://github.com/")
    }
}

/// How the certificate's identity (SAN) must read.
#[derive(Clone, Debug)]
enum Subject {
    Exact(String),
    Regex(Regex),
}

/// What a keyless signer must be: every part set must match. Build it
/// with the setters, then [`IdentityPolicy::validate`] it (verification
/// refuses an incomplete one).
///
/// ```
/// use ghcr_trust::IdentityPolicy;
/// // cosign verify --certificate-identity … --certificate-oidc-issuer …
/// let cosign = IdentityPolicy::new()
///     .identity("https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1")
///     .issuer("https://token.actions.githubusercontent.com");
/// // gh attestation verify --owner octo --signer-workflow octo/app/.github/workflows/release.yml
/// let gh = IdentityPolicy::new().owner("octo").signer_workflow("octo/app/.github/workflows/release.yml");
/// assert!(cosign.validate().is_ok() && gh.validate().is_ok());
/// assert!(IdentityPolicy::new().validate().is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct IdentityPolicy {
    subject: Option<Subject>,
    issuer: Option<String>,
    owner: Option<String>,
    repo: Option<String>,
    signer_workflow: Option<String>,
    trigger: Option<String>,
}

impl IdentityPolicy {
    /// A policy asking nothing yet (it does not validate).
    pub fn new() -> Self {
        Self::default()
    }

    /// The SAN must be exactly `identity` (`--certificate-identity`).
    #[must_use]
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.subject = Some(Subject::Exact(identity.into()));
        self
    }

    /// The SAN must match the regular expression `pattern`, unanchored as
    /// cosign's (`--certificate-identity-regexp`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIdentityPattern`] when it is no regular expression.
    pub fn identity_regex(mut self, pattern: &str) -> Result<Self> {
        let regex = Regex::new(pattern).map_err(|source| Error::InvalidIdentityPattern {
            pattern: pattern.to_owned(),
            source: Box::new(source),
        })?;
        self.subject = Some(Subject::Regex(regex));
        Ok(self)
    }

    /// The OIDC issuer must be exactly `issuer`
    /// (`--certificate-oidc-issuer`). Default with an owner, repository or
    /// signer workflow: [`GITHUB_ACTIONS_ISSUER`].
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The source repository's owner must be `owner` (extension .16,
    /// `https://github.com/<owner>`, case-insensitive) and, unless a
    /// signer workflow is set, the signing workflow in one of its
    /// repositories (`gh attestation verify --owner`).
    #[must_use]
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The source repository must be `owner/repo` (extension .12,
    /// case-insensitive) and, unless a signer workflow is set, the signing
    /// workflow in it (`gh attestation verify --repo`).
    #[must_use]
    pub fn repo(mut self, repo: impl Into<String>) -> Self {
        self.repo = Some(repo.into());
        self
    }

    /// The signing workflow must be `[host/]owner/repo/path/to/workflow.yml`
    /// at any ref (`gh attestation verify --signer-workflow`); the host
    /// defaults to github.com.
    #[must_use]
    pub fn signer_workflow(mut self, workflow: impl Into<String>) -> Self {
        self.signer_workflow = Some(workflow.into());
        self
    }

    /// The run must have been triggered by `event` (extension .20:
    /// `push`, `release`, `workflow_dispatch`...).
    #[must_use]
    pub fn trigger(mut self, event: impl Into<String>) -> Self {
        self.trigger = Some(event.into());
        self
    }

    fn is_github(&self) -> bool {
        self.owner.is_some() || self.repo.is_some() || self.signer_workflow.is_some()
    }

    /// Checks the policy names a signer: an identity (exact or regex)
    /// with an issuer, or an owner, repository or signer workflow.
    ///
    /// # Errors
    ///
    /// [`Error::IncompleteIdentity`] saying what is missing.
    pub fn validate(&self) -> Result<()> {
        let missing = if self.subject.is_none() && !self.is_github() {
            Some(
                "a certificate identity (exact or regexp), or a GitHub owner, repository or signer workflow",
            )
        } else if self.subject.is_some() && self.issuer.is_none() && !self.is_github() {
            Some("the OIDC issuer (`--certificate-oidc-issuer`)")
        } else if self
            .repo
            .as_deref()
            .is_some_and(|r| r.split('/').count() != 2)
        {
            Some("a repository of the form OWNER/REPO")
        } else {
            None
        };
        match missing {
            Some(missing) => Err(Error::IncompleteIdentity { missing }),
            None => Ok(()),
        }
    }

    /// Whether `id` is the signer this policy asks for.
    ///
    /// # Errors
    ///
    /// [`Error::IncompleteIdentity`] ([`Self::validate`]), and
    /// [`Error::IdentityMismatch`] naming the first part that differs.
    pub fn check(&self, id: &CertificateIdentity) -> Result<()> {
        self.validate()?;
        let mismatch = |reason: String| Err(Error::IdentityMismatch { reason });
        let issuer = self.issuer.as_deref().unwrap_or(GITHUB_ACTIONS_ISSUER);
        if id.issuer != issuer {
            return mismatch(format!(
                "the OIDC issuer is `{}`, not `{issuer}`",
                id.issuer
            ));
        }
        match &self.subject {
            Some(Subject::Exact(want)) if id.identity != *want => {
                return mismatch(format!(
                    "the certificate identity is `{}`, not `{want}`",
                    id.identity
                ));
            }
            Some(Subject::Regex(regex)) if !regex.is_match(&id.identity) => {
                return mismatch(format!(
                    "the certificate identity `{}` does not match `{}`",
                    id.identity,
                    regex.as_str()
                ));
            }
            _ => {}
        }
        let claim = |value: &Option<String>| value.clone().unwrap_or_else(|| "none".to_owned());
        if let Some(owner) = &self.owner {
            let want = format!("https://github.com/{owner}");
            if !id
                .claims
                .source_repository_owner_uri
                .as_deref()
                .is_some_and(|uri| uri.eq_ignore_ascii_case(&want))
            {
                return mismatch(format!(
                    "the source repository owner is {}, not {want}",
                    claim(&id.claims.source_repository_owner_uri)
                ));
            }
        }
        if let Some(repo) = &self.repo {
            let want = format!("https://github.com/{repo}");
            if !id
                .claims
                .source_repository_uri
                .as_deref()
                .is_some_and(|uri| uri.eq_ignore_ascii_case(&want))
            {
                return mismatch(format!(
                    "the source repository is {}, not {want}",
                    claim(&id.claims.source_repository_uri)
                ));
            }
        }
        let signer = id
            .claims
            .build_signer_uri
            .as_deref()
            .unwrap_or(&id.identity);
        if let Some(workflow) = &self.signer_workflow {
            let want = workflow_uri(workflow);
            let at = format!("{want}@");
            if !signer
                .to_ascii_lowercase()
                .starts_with(&at.to_ascii_lowercase())
            {
                return mismatch(format!(
                    "the signing workflow is {signer}, not {want} (at any ref)"
                ));
            }
        } else if self.subject.is_none()
            && let Some(scope) = self.repo.as_ref().or(self.owner.as_ref())
        {
            let want = format!("https://github.com/{scope}/");
            if !id
                .identity
                .to_ascii_lowercase()
                .starts_with(&want.to_ascii_lowercase())
            {
                return mismatch(format!(
                    "the signing workflow {} is not in {want}",
                    id.identity
                ));
            }
        }
        if let Some(trigger) = &self.trigger
            && id.claims.build_trigger.as_deref() != Some(trigger.as_str())
        {
            return mismatch(format!(
                "the run was triggered by {}, not {trigger}",
                claim(&id.claims.build_trigger)
            ));
        }
        Ok(())
    }
}

/// `[host/]owner/repo/path` as `https://host/owner/repo/path`.
fn workflow_uri(workflow: &str) -> String {
    let workflow = workflow.trim_start_matches("https://").trim_matches('/');
    let host_given = workflow
        .split('/')
        .next()
        .is_some_and(|first| first.contains('.'));
    if host_given {
        format!("https://{workflow}")
    } else {
        format!("https://github.com/{workflow}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_uris() {
        for (input, uri) in [
            (
                "o/r/.github/workflows/w.yml",
                "https://github.com/o/r/.github/workflows/w.yml",
            ),
            ("github.com/o/r/w.yml", "https://github.com/o/r/w.yml"),
            (
                "ghe.example.com/o/r/w.yml",
                "https://ghe.example.com/o/r/w.yml",
            ),
            (
                "https://github.com/o/r/w.yml/",
                "https://github.com/o/r/w.yml",
            ),
        ] {
            assert_eq!(workflow_uri(input), uri, "{input}");
        }
    }

    #[test]
    fn incomplete_policies_are_refused() {
        let bad = [
            IdentityPolicy::new(),
            IdentityPolicy::new().identity("a@example.com"),
            IdentityPolicy::new().issuer("https://accounts.google.com"),
            IdentityPolicy::new().repo("just-a-name"),
            IdentityPolicy::new().trigger("push"),
        ];
        for policy in bad {
            assert!(
                matches!(policy.validate(), Err(Error::IncompleteIdentity { .. })),
                "{policy:?}"
            );
        }
        let error = IdentityPolicy::new().identity_regex("(").unwrap_err();
        assert!(
            matches!(error, Error::InvalidIdentityPattern { .. }),
            "{error}"
        );
    }
}
