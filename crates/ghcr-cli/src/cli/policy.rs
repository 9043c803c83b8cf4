//! The trust policy flags: `--key`, or a keyless identity
//! (`--certificate-identity[-regexp]` with `--certificate-oidc-issuer`, as
//! `cosign verify`; `--owner`/`--repo`/`--signer-workflow`, as `gh
//! attestation verify`), and `--trusted-root`. Shared by commands that
//! verify.

use std::path::PathBuf;

use clap::Args as ClapArgs;

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
    /// https://token.actions.githubusercontent.com.
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
