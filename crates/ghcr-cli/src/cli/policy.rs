//! The trust policy flags: `--key`, or a keyless identity
//! (`--certificate-identity[-regexp]` with `--certificate-oidc-issuer`, as
//! `cosign verify`; `--owner`/`--repo`/`--signer-workflow`, as `gh
//! attestation verify`), and `--trusted-root`. One struct for every
//! command that decides whom to trust: `verify` needs a policy; `gate` and
//! `vulns` take one optionally, and given one count only scans whose
//! attestation verifies under it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args as ClapArgs;
use ghcr::trust::{IdentityPolicy, Policy, PublicKey, TrustedRoot};

use crate::exit::usage;

/// Who must have signed. Exactly one of `--key` or an identity policy.
#[derive(Debug, Clone, Default, ClapArgs)]
pub(crate) struct PolicyArgs {
    /// A public key in PEM (cosign.pub, as `cosign generate-key-pair`
    /// writes it); repeat to accept any of several.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Vec<PathBuf>,
    /// Keyless: the signing certificate's identity (its SAN: a workflow
    /// URI or an email), exactly; needs --certificate-oidc-issuer unless
    /// --owner or --repo is given.
    #[arg(
        long,
        value_name = "SAN",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub(crate) certificate_identity: Option<String>,
    /// Keyless: a regular expression the certificate's identity must
    /// match (unanchored, as cosign's).
    #[arg(long, value_name = "REGEX")]
    pub(crate) certificate_identity_regexp: Option<String>,
    /// Keyless: the OIDC issuer of the signing certificate, exactly.
    /// Default with --owner, --repo or --signer-workflow:
    /// `https://token.actions.githubusercontent.com`.
    #[arg(long, value_name = "URL")]
    pub(crate) certificate_oidc_issuer: Option<String>,
    /// Keyless, GitHub Actions: the source repository's owner (as `gh
    /// attestation verify --owner`).
    #[arg(long, value_name = "OWNER")]
    pub(crate) owner: Option<String>,
    /// Keyless, GitHub Actions: the source repository, OWNER/REPO.
    #[arg(long, value_name = "OWNER/REPO")]
    pub(crate) repo: Option<String>,
    /// Keyless, GitHub Actions: the workflow that signed,
    /// [HOST/]OWNER/REPO/PATH/TO/WORKFLOW.yml (any ref).
    #[arg(long, value_name = "WORKFLOW")]
    pub(crate) signer_workflow: Option<String>,
    /// Keyless: a Sigstore trusted_root.json to use instead of the shipped
    /// public-good one.
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
}

impl PolicyArgs {
    /// The policy the flags name (for `verify`, which needs one).
    pub(crate) fn required(&self) -> anyhow::Result<Policy> {
        match (self.key.is_empty(), self.is_keyless()) {
            (false, false) => keys(&self.key),
            (true, true) => self.identity(),
            (false, true) => Err(usage(
                "give either --key or a keyless identity (--certificate-identity…, --owner, --repo), not both",
            )),
            (true, false) => Err(usage(
                "give --key FILE, or a keyless identity: --certificate-identity[-regexp] with --certificate-oidc-issuer, or --owner/--repo [--signer-workflow]",
            )),
        }
    }

    /// The policy the flags name; `None` when no policy flag is given
    /// (`gate`, `vulns`: every scan counts, unverified, as before).
    pub(crate) fn optional(&self) -> anyhow::Result<Option<Policy>> {
        if self.key.is_empty() && !self.is_keyless() && self.trusted_root.is_none() {
            return Ok(None);
        }
        self.required().map(Some)
    }

    /// One keyless identity, against the shipped or given trusted root.
    fn identity(&self) -> anyhow::Result<Policy> {
        let mut identity = IdentityPolicy::new();
        if let Some(san) = &self.certificate_identity {
            identity = identity.identity(san);
        }
        if let Some(pattern) = &self.certificate_identity_regexp {
            identity = identity
                .identity_regex(pattern)
                .map_err(|error| usage(format!("{:#}", anyhow::Error::new(error))))?;
        }
        if let Some(issuer) = &self.certificate_oidc_issuer {
            identity = identity.issuer(issuer);
        }
        if let Some(owner) = &self.owner {
            identity = identity.owner(owner);
        }
        if let Some(repo) = &self.repo {
            identity = identity.repo(repo);
        }
        if let Some(workflow) = &self.signer_workflow {
            identity = identity.signer_workflow(workflow);
        }
        identity
            .validate()
            .map_err(|error| usage(error.to_string()))?;
        let policy = Policy::identities([identity]);
        let Some(file) = &self.trusted_root else {
            return Ok(policy);
        };
        let bytes = std::fs::read(file)
            .with_context(|| format!("reading the trusted root {}", file.display()))?;
        let root = TrustedRoot::from_json(&bytes)
            .with_context(|| format!("reading the trusted root {}", file.display()))?;
        Ok(policy.with_trusted_root(root))
    }

    /// Whether any keyless flag is given.
    pub(crate) fn is_keyless(&self) -> bool {
        self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.owner.is_some()
            || self.repo.is_some()
            || self.signer_workflow.is_some()
    }
}

/// Public keys read from their PEM files.
fn keys(files: &[PathBuf]) -> anyhow::Result<Policy> {
    let mut keys = Vec::new();
    for file in files {
        keys.push(key(file)?);
    }
    Ok(Policy::keys(keys))
}

fn key(file: &Path) -> anyhow::Result<PublicKey> {
    let pem = std::fs::read_to_string(file)
        .with_context(|| format!("reading the key {}", file.display()))?;
    Ok(PublicKey::from_pem(&pem, &file.display().to_string())?)
}
