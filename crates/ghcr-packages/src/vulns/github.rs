//! GitHub's artifact attestations API (`GET /orgs/{org}/attestations/{digest}`,
//! `/users/{user}/…`): Sigstore bundles by subject digest. These mostly hold
//! provenance and SBOMs; a workflow that attests a vulnerability scan puts
//! it here too. Consulted only when the client is configured to.

use ghcr_types::{Digest, Owner, VulnerabilityReport};
use serde::Deserialize;

use super::read::report_from_statement;
use super::scans::{IgnoredAttestation, Origin, Scans};
use super::verify::{Wrapping, verify_found};
use super::{bundle, cosign, intoto};
use crate::client::PackagesClient;
use crate::error::{Error, Result};

/// Whether vulnerability lookups also ask GitHub's attestations API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationsApi {
    /// Only the registry (one request fewer per image).
    #[default]
    Skip,
    /// The registry, then the attestations API when the registry has no scan.
    Consult,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    attestations: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    bundle: Option<serde_json::Value>,
}

impl PackagesClient {
    /// Vulnerability reports among the attestations GitHub stores for
    /// `subject` under `owner` (first 100). None found is an empty list.
    /// Under the client's verification policy, only bundles that verify
    /// count ([`PackagesClient::github_attestation_scans`] also lists the
    /// others).
    ///
    /// # Errors
    ///
    /// The API's errors other than 404, and [`Error::InvalidAttestation`]
    /// when a stored vulnerability attestation cannot be read.
    pub async fn github_attestation_reports(
        &self,
        owner: &Owner,
        subject: &Digest,
    ) -> Result<Vec<VulnerabilityReport>> {
        Ok(self.github_attestation_scans(owner, subject).await?.reports)
    }

    /// The vulnerability attestations GitHub stores for `subject` under
    /// `owner` (first 100): their reports and, under the client's
    /// verification policy, the bundles that did not verify (a bundle
    /// with a public key verifies like a DSSE envelope; one with a
    /// certificate against the policy's keyless identities).
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::github_attestation_reports`].
    pub async fn github_attestation_scans(&self, owner: &Owner, subject: &Digest) -> Result<Scans> {
        let base = match owner {
            Owner::Org(login) => format!("/orgs/{login}"),
            Owner::User(login) => format!("/users/{login}"),
            _ => format!("/users/{}", self.authenticated_login().await?),
        };
        let url = self.url(&format!("{base}/attestations/{subject}?per_page=100"))?;
        let what = format!("the attestations of {subject} for {owner}");
        let listing: Listing = match self.get_json(&url, "list", &what).await {
            Ok((listing, _)) => listing,
            Err(error) if error.is_not_found() => return Ok(Scans::default()),
            Err(error) => return Err(error),
        };
        let mut scans = Scans::default();
        for bundle in listing
            .attestations
            .into_iter()
            .filter_map(|entry| entry.bundle)
        {
            let bytes = serde_json::to_vec(&bundle).unwrap_or_default();
            let envelope = Digest::sha256_of(&bytes);
            let invalid = |reason: String| Error::InvalidAttestation {
                attestation: envelope.clone(),
                reason,
            };
            let Some(statement) = bundle::statement(&bundle).map_err(invalid)? else {
                continue;
            };
            if !cosign::is_predicate(&statement.predicate_type)
                && !intoto::is_predicate(&statement.predicate_type)
            {
                continue;
            }
            let (statement, signer) = match &self.inner.verification {
                None => (statement, None),
                Some(policy) => match verify_found(Wrapping::Bundle, &bytes, subject, policy) {
                    Ok(verified) => (verified.statement, Some(verified.signer)),
                    Err(refusal) => {
                        scans.ignored.push(IgnoredAttestation {
                            origin: Origin::GithubAttestationsApi,
                            attestation: None,
                            envelope: envelope.clone(),
                            predicate_type: statement.predicate_type,
                            reason: refusal.to_string(),
                        });
                        continue;
                    }
                },
            };
            if let Some(report) =
                report_from_statement(&statement, subject, None, signer).map_err(invalid)?
            {
                scans.reports.push(report);
            }
        }
        Ok(scans)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use serde_json::json;

    use super::*;

    fn bundle(
        predicate_type: &str,
        predicate: &serde_json::Value,
        subject: &Digest,
    ) -> serde_json::Value {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "ghcr.io/o/app", "digest": {"sha256": subject.encoded()}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        });
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {},
            "dsseEnvelope": {
                "payloadType": "application/vnd.in-toto+json",
                "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
                "signatures": [],
            },
        })
    }

    #[tokio::test]
    async fn vulnerability_bundles_among_the_attestations_are_read() {
        let subject = Digest::sha256_of(b"image");
        let scan = json!({"scanner": {"uri": "pkg:github/anchore/grype@v0.74.0", "version": "0.74.0",
            "result": {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Grype"}}, "results": [
                {"ruleId": "CVE-2024-1", "level": "error", "message": {"text": "m"}}]}]}}});
        let body = json!({"attestations": [
            {"bundle": bundle("https://slsa.dev/provenance/v1", &json!({}), &subject), "repository_id": 1},
            {"bundle": bundle(crate::COSIGN_VULN_PREDICATE, &scan, &subject), "repository_id": 1},
            {"bundle": null, "bundle_url": "https://example.invalid/b"},
        ]})
        .to_string();
        let (builder, seen) = crate::scripted::client(move |_, url| {
            if url.contains("/orgs/") {
                (200, vec![], body.clone())
            } else {
                (404, vec![], r#"{"message":"Not Found"}"#.into())
            }
        });
        let client = builder.build().unwrap();
        let reports = client
            .github_attestation_reports(&Owner::org("o"), &subject)
            .await
            .unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].source.scanner.as_deref(), Some("grype"));
        assert_eq!(
            reports[0].vulnerabilities[0].severity,
            ghcr_types::Severity::High
        );
        assert!(!reports[0].source.signature_verified);
        let none = client
            .github_attestation_reports(&Owner::user("u"), &subject)
            .await
            .unwrap();
        assert!(none.is_empty());
        let urls: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, url, _)| url.clone())
            .collect();
        assert_eq!(
            urls[0],
            format!("https://api.github.com/orgs/o/attestations/{subject}?per_page=100")
        );
        assert_eq!(
            urls[1],
            format!("https://api.github.com/users/u/attestations/{subject}?per_page=100")
        );
    }

    /// Under a key policy, bundles with a public key hint verify with the
    /// same function as registry envelopes; certificate (keyless) bundles
    /// and others' are listed as ignored.
    #[tokio::test]
    async fn keyed_bundles_verify_and_keyless_ones_need_an_identity() {
        use ghcr_sim::attest::SigningKey;
        let key = SigningKey::generate().unwrap();
        let stranger = SigningKey::generate().unwrap();
        let policy = ghcr_trust::Policy::keys([ghcr_trust::PublicKey::from_pem(
            key.public_key_pem(),
            "k.pub",
        )
        .unwrap()]);
        let subject = Digest::sha256_of(b"image");
        let scan = json!({"scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.50.1",
            "result": {"SchemaVersion": 2, "Results": []}}});
        let signed = |by: &SigningKey, material: serde_json::Value| {
            let mut bundle = bundle(crate::COSIGN_VULN_PREDICATE, &scan, &subject);
            let payload = base64::engine::general_purpose::STANDARD
                .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap();
            bundle["dsseEnvelope"] = by.sign_envelope(&payload).unwrap();
            bundle["verificationMaterial"] = material;
            bundle
        };
        let hint = json!({"publicKey": {"hint": key.fingerprint()}});
        let body = json!({"attestations": [
            {"bundle": signed(&key, hint.clone())},
            {"bundle": signed(&stranger, hint)},
            {"bundle": signed(&key, json!({"certificate": {"rawBytes": "AAAA"}}))},
            {"bundle": bundle("https://slsa.dev/provenance/v1", &json!({}), &subject)},
        ]})
        .to_string();
        let (builder, _) = crate::scripted::client(move |_, _| (200, vec![], body.clone()));
        let client = builder.verify_with(policy).build().unwrap();
        let scans = client
            .github_attestation_scans(&Owner::org("o"), &subject)
            .await
            .unwrap();
        assert_eq!(scans.reports.len(), 1, "{scans:?}");
        assert!(scans.reports[0].source.signature_verified);
        assert_eq!(
            scans.reports[0].source.signer,
            Some(ghcr_types::ReportSigner::Key {
                fingerprint: key.fingerprint().to_owned()
            })
        );
        let reasons: Vec<&str> = scans.ignored.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("does not verify"), "{reasons:?}");
        assert!(
            reasons[1].contains("names no keyless identity"),
            "{reasons:?}"
        );
        assert!(
            scans.ignored.iter().all(
                |i| i.origin == crate::Origin::GithubAttestationsApi && i.attestation.is_none()
            )
        );
    }
}
