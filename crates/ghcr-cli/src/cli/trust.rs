//! The verification policy flags, one struct for every command that
//! decides whom to trust (`gate`, `vulns`; `verify` can flatten it too):
//! today `--key FILE`, repeatable; keyless identity flags (certificate
//! identity and issuer) join here.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args as ClapArgs;
use ghcr::trust::{Policy, PublicKey};

/// Whose signatures count.
#[derive(Debug, Clone, Default, ClapArgs)]
pub(crate) struct PolicyArgs {
    /// A public key in PEM (cosign.pub, as `cosign generate-key-pair`
    /// writes it); repeat to accept any of several. Given, only scans
    /// whose attestation verifies with one count: the others are listed
    /// as ignored, and with none verified the command exits 8.
    #[arg(long = "key", value_name = "FILE")]
    pub(crate) keys: Vec<PathBuf>,
}

impl PolicyArgs {
    /// The policy the flags name; `None` when none was given.
    pub(crate) fn policy(&self) -> anyhow::Result<Option<Policy>> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        let mut keys = Vec::new();
        for file in &self.keys {
            let pem = std::fs::read_to_string(file)
                .with_context(|| format!("reading the key {}", file.display()))?;
            keys.push(PublicKey::from_pem(&pem, &file.display().to_string())?);
        }
        Ok(Some(Policy::keys(keys)))
    }
}
