//! The demo's gate with a key: a gate that trusts only signed scans. A clean
//! scan signed with a key (as `cosign attest --key` signs) passes `gate
//! --key`; a forged clean scan, which anyone who can push could attach,
//! passes a gate without a key and is refused with one (exit 8).

use bytes::Bytes;
use ghcr::packages::{Error as PackagesError, PackagesClient, security_gate};
use ghcr::sim::attest::{Attachment, Envelope, VulnFormat, attestation_key};
use ghcr::trust::{Policy, PublicKey};
use ghcr::types::{Digest, Owner, ReportSigner, Severity};
use serde_json::json;

use super::{Demo, ORG};
use crate::progress::short;

impl Demo {
    /// A packages client on the demo's transport, verifying with `policy`.
    pub(super) fn verifying(&self, policy: Policy) -> anyhow::Result<PackagesClient> {
        let client = &self.client;
        Ok(PackagesClient::builder(client.transport().clone())
            .api_base(client.config().api_base())
            .registry_host(self.fake.registry_host())
            .registry(client.registry().clone())
            .verify_with(policy)
            .build()?)
    }

    pub(super) async fn signed_gate(&mut self) -> anyhow::Result<()> {
        self.heading("gate with a key: only a signed scan counts");
        let key = attestation_key()?;
        let store = self.fake.store();
        let repository = format!("{ORG}/app");
        let clean = |envelope| Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, envelope);
        let signed = store
            .push_image(
                &repository,
                Some("signed"),
                &[Bytes::from_static(b"signed build")],
            )?
            .manifest;
        store.attach(&repository, &signed, &clean(Envelope::SignedDsse))?;
        let forged = store
            .push_image(
                &repository,
                Some("forged"),
                &[Bytes::from_static(b"forged build")],
            )?
            .manifest;
        store.attach(&repository, &forged, &clean(Envelope::Dsse))?;
        self.say(format!(
            "   CI signed a clean scan of app:signed with cosign.key (public key {}); someone with push access attached an unsigned clean scan to app:forged",
            key.fingerprint()
        ));
        let (signed_ref, forged_ref) =
            (self.reference("app:signed")?, self.reference("app:forged")?);
        let owner = Owner::org(ORG);

        let plain = self.client.packages();
        let reports = plain.vulnerability_reports(&owner, "app", &forged).await?;
        let unkeyed = reports
            .first()
            .is_some_and(|report| security_gate(report, Severity::Low).is_passed());
        self.say(format!(
            "   ghcr gate {forged_ref} --fail-on low: {} without --key (exit code {}): any clean scan would do",
            if unkeyed { "passed" } else { "blocked" },
            if unkeyed { 0 } else { 7 }
        ));

        let policy = Policy::keys([PublicKey::from_pem(key.public_key_pem(), "cosign.pub")?]);
        let verifying = self.verifying(policy)?;
        let (passed, signed_by) = self
            .gate_verified(
                &verifying,
                &owner,
                &signed,
                &format!("{signed_ref} --fail-on low --key cosign.pub"),
            )
            .await?;

        let forged_verdict = match verifying.vulnerability_scans(&owner, "app", &forged).await {
            Err(PackagesError::ScansNotVerified { ignored, .. }) => {
                self.say(format!(
                    "   ghcr gate {forged_ref} --fail-on low --key cosign.pub: not verified (exit code 8), {} scan(s) ignored:",
                    ignored.len()
                ));
                for entry in &ignored {
                    let manifest = entry.attestation.as_ref().unwrap_or(&entry.envelope);
                    self.say(format!("     {}: {}", short(manifest), entry.reason));
                }
                "not_verified"
            }
            Ok(_) => "passed",
            Err(error) => return Err(error.into()),
        };
        self.summary.insert(
            "signed_gate".into(),
            json!({
                "signed": if passed { "passed" } else { "blocked" },
                "forged_without_key": if unkeyed { "passed" } else { "blocked" },
                "forged": forged_verdict,
                "signer": signed_by,
            }),
        );
        Ok(())
    }

    /// The gate at low on `image`'s first verified scan, said as `ghcr
    /// gate {args}` prints it: whether it passed, and who signed.
    pub(super) async fn gate_verified(
        &mut self,
        verifying: &PackagesClient,
        owner: &Owner,
        image: &Digest,
        args: &str,
    ) -> anyhow::Result<(bool, Option<ReportSigner>)> {
        let scans = verifying.vulnerability_scans(owner, "app", image).await?;
        let report = scans
            .reports
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no verified report came back"))?;
        let passed = security_gate(&report, Severity::Low).is_passed();
        let signed_by = report
            .source
            .signer
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        self.say(format!(
            "   ghcr gate {args}: {} (signature verified: {signed_by}; exit code {})",
            if passed { "passed" } else { "blocked" },
            if passed { 0 } else { 7 }
        ));
        Ok((passed, report.source.signer))
    }
}
