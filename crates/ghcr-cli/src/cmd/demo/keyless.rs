//! The demo's keyless step: a clean scan signed in CI without a key, by
//! the fake's test Sigstore instance (a Fulcio-like certificate for a
//! GitHub Actions run of `octo/app`, logged in its Rekor-like log), passes
//! `gate --owner octo --trusted-root` against that instance's root; under
//! another owner nothing verifies (exit 8).

use anyhow::Context as _;
use bytes::Bytes;
use ghcr::packages::Error as PackagesError;
use ghcr::sim::attest::{Attachment, Envelope, VulnFormat, keyless_world};
use ghcr::trust::{IdentityPolicy, Policy, TrustedRoot};
use ghcr::types::Owner;
use serde_json::json;

use super::{Demo, ORG};

impl Demo {
    pub(super) async fn keyless_gate(&mut self) -> anyhow::Result<()> {
        self.heading("gate keyless: a scan signed in CI by a GitHub Actions identity");
        let store = self.fake.store();
        let repository = format!("{ORG}/app");
        let image = store
            .push_image(
                &repository,
                Some("keyless"),
                &[Bytes::from_static(b"keyless build")],
            )?
            .manifest;
        store.attach(
            &repository,
            &image,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, Envelope::KeylessBundle),
        )?;
        let dir = tempfile::tempdir().context("no temporary folder for the trusted root")?;
        let file = dir.path().join("trusted_root.json");
        std::fs::write(&file, keyless_world()?.trusted_root_json())
            .with_context(|| format!("writing {}", file.display()))?;
        self.say(format!(
            "   a release workflow of octo/app signed a clean scan of app:keyless with a short-lived certificate from the fake's test Fulcio, logged in its test Rekor; their trusted root is in {}",
            file.display()
        ));
        // As `--trusted-root FILE` reads it.
        let root = TrustedRoot::from_json(
            &std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?,
        )?;
        let reference = self.reference("app:keyless")?;
        let owner = Owner::org(ORG);

        let octo = Policy::identities([IdentityPolicy::new().owner("octo")])
            .with_trusted_root(root.clone());
        let (passed, signer) = self
            .gate_verified(
                &self.verifying(octo)?,
                &owner,
                &image,
                &format!("{reference} --fail-on low --owner octo --trusted-root trusted_root.json"),
            )
            .await?;

        let evil =
            Policy::identities([IdentityPolicy::new().owner("evil")]).with_trusted_root(root);
        let other_owner = match self
            .verifying(evil)?
            .vulnerability_scans(&owner, "app", &image)
            .await
        {
            Err(PackagesError::ScansNotVerified { ignored, .. }) => {
                let reason = ignored.first().map_or("", |entry| entry.reason.as_str());
                self.say(format!(
                    "   ghcr gate {reference} --fail-on low --owner evil --trusted-root trusted_root.json: not verified (exit code 8): {reason}"
                ));
                "not_verified"
            }
            Ok(_) => "passed",
            Err(error) => return Err(error.into()),
        };
        self.summary.insert(
            "keyless_gate".into(),
            json!({
                "signed": if passed { "passed" } else { "blocked" },
                "other_owner": other_owner,
                "signer": signer,
            }),
        );
        Ok(())
    }
}
