//! Supply-chain artifacts seeded into the fake as real OCI artifacts:
//! vulnerability attestations (a cosign vuln predicate carrying a Trivy
//! report or a SARIF log, or an in-toto vulns predicate), an SPDX SBOM and a
//! cosign signature, each attached to an image digest.
//!
//! Each artifact is an OCI manifest with a `subject` pointing at the image,
//! an `artifactType`, the empty config, and one layer: a DSSE envelope
//! (`application/vnd.dsse.envelope.v1+json` with a `predicateType`
//! annotation, as cosign's `.att` carries) or a Sigstore bundle
//! (`application/vnd.dev.sigstore.bundle.v0.3+json`, as GitHub's attest
//! actions push). On the ghcr profile the artifact is also listed in the
//! `sha256-<hex>` referrers tag index (ghcr.io has no referrers API); on the
//! generic profile the referrers API finds it through its subject. A
//! Sigstore bundle is also listed in GitHub's attestations API, as
//! `actions/attest` does; [`Store::attest_on_github`] puts one there only.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ghcr_sim::attest::{Attachment, Envelope, VulnFormat};
//! use ghcr_sim::fake::FakeGhcr;
//!
//! let fake = FakeGhcr::builder().user("octo", "token-o").start().await?;
//! let store = fake.store();
//! let image = store.push_image("octo/app", Some("v1"), &[bytes::Bytes::from_static(b"layer")])?;
//! let attached = store.attach("octo/app", &image.manifest,
//!     &Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::Dsse))?;
//! let tag = image.manifest.referrers_tag();
//! assert_eq!(attached.referrers_tag.as_deref(), Some(tag.as_str()));
//! let (index, _) = store.manifest("octo/app", &tag).unwrap();
//! assert!(String::from_utf8_lossy(&index).contains(attached.manifest.as_str()));
//! # Ok::<(), ghcr_sim::Error>(())
//! # });
//! ```

mod envelope;
mod github;
mod keyless;
mod reports;
mod signing;

pub use keyless::{KEYLESS_IDENTITY, KEYLESS_ISSUER, KeylessWorld, keyless_world};
pub use reports::{SAMPLE_VULNERABILITIES, SampleVulnerability};
pub use signing::{SigningKey, attestation_key};

use bytes::Bytes;
use ghcr_types::Digest;
use ghcr_types::artifact_types::{COSIGN_SIGNATURE, DSSE_ENVELOPE};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};
use crate::fake::{Profile, Store};

/// cosign's vulnerability predicate type.
pub const COSIGN_VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
/// The same without a scheme, as cosign's Go constant spells it.
pub const COSIGN_VULN_PREDICATE_SCHEMELESS: &str = "cosign.sigstore.dev/attestation/vuln/v1";
/// The in-toto vulns predicate type.
pub const IN_TOTO_VULNS_PREDICATE: &str = "https://in-toto.io/attestation/vulns/v0.1";
/// The SPDX predicate type.
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
/// The Sigstore bundle media type GitHub's attest actions push.
pub const SIGSTORE_BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// cosign's OCI 1.1 signature artifact type.
pub const COSIGN_SIGNATURE_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// Which predicate and scan format a vulnerability attestation carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VulnFormat {
    /// cosign vuln predicate with a Trivy JSON report as `scanner.result`.
    CosignTrivy,
    /// The same, with the scheme-less predicate type cosign's code uses.
    CosignTrivySchemeless,
    /// cosign vuln predicate with a SARIF 2.1.0 log (as distroless images carry).
    CosignSarif,
    /// in-toto vulns v0.1 predicate.
    InTotoVulns,
    /// cosign vuln predicate with a Trivy JSON report that found nothing:
    /// the scan a gate passes.
    CosignTrivyClean,
}

/// How the statement is wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Envelope {
    /// A DSSE envelope layer (cosign) with a placeholder signature: what
    /// anyone who can push can attach.
    Dsse,
    /// A Sigstore bundle layer (GitHub's attest actions) with placeholder
    /// certificate and log entry.
    SigstoreBundle,
    /// A DSSE envelope layer signed with [`attestation_key`], as `cosign
    /// attest --key` signs.
    SignedDsse,
    /// A Sigstore bundle whose verification material is a public key hint
    /// (no certificate), its envelope signed with [`attestation_key`].
    KeyedBundle,
    /// A Sigstore bundle v0.3 signed keyless by the test Sigstore instance
    /// [`keyless_world`]: a Fulcio-like certificate naming a GitHub Actions
    /// run of `octo/app`'s release workflow ([`KEYLESS_IDENTITY`]), a Rekor
    /// entry with its signed entry timestamp and inclusion proof. It
    /// verifies against [`KeylessWorld::trusted_root_json`] only.
    KeylessBundle,
}

/// What to attach to an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attachment {
    /// A vulnerability scan attestation.
    Vulnerabilities(VulnFormat, Envelope),
    /// An SPDX SBOM attestation in a DSSE envelope.
    Sbom,
    /// A cosign signature.
    Signature,
}

/// What [`Store::attach`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attached {
    /// The artifact manifest.
    pub manifest: Digest,
    /// Its `artifactType`.
    pub artifact_type: String,
    /// The predicate type, for attestations.
    pub predicate_type: Option<String>,
    /// The referrers tag index it was listed in (ghcr profile).
    pub referrers_tag: Option<String>,
}

/// The layer of an artifact: bytes, media type, annotations.
struct Layer {
    bytes: Bytes,
    media_type: &'static str,
    artifact_type: &'static str,
    annotations: Value,
    predicate_type: Option<String>,
}

fn vulnerability_layer(
    format: VulnFormat,
    envelope: Envelope,
    name: &str,
    subject: &Digest,
    now: &str,
    unix: i64,
) -> Result<Layer> {
    let artifact = format!("{name}@{subject}");
    let scanner = |result: Value| {
        json!({
            "invocation": {"parameters": null, "uri": "https://github.com/octo/app/actions/runs/1", "event_id": "1", "builder.id": "GitHub Actions"},
            "scanner": {
                "uri": format!("pkg:github/aquasecurity/trivy@v{}", reports::TRIVY_VERSION),
                "version": reports::TRIVY_VERSION,
                "db": {"uri": "pkg:github/aquasecurity/trivy-db", "version": "2"},
                "result": result,
            },
            "metadata": {"scanStartedOn": now, "scanFinishedOn": now},
        })
    };
    let (predicate_type, predicate) = match format {
        VulnFormat::CosignTrivy => (
            COSIGN_VULN_PREDICATE,
            scanner(reports::trivy_report(&artifact, now)),
        ),
        VulnFormat::CosignTrivySchemeless => (
            COSIGN_VULN_PREDICATE_SCHEMELESS,
            scanner(reports::trivy_report(&artifact, now)),
        ),
        VulnFormat::CosignSarif => (
            COSIGN_VULN_PREDICATE,
            scanner(reports::sarif_log(&artifact)),
        ),
        VulnFormat::InTotoVulns => {
            let mut predicate = scanner(reports::in_toto_results());
            predicate["scanner"]["db"]["lastUpdate"] = json!(now);
            (IN_TOTO_VULNS_PREDICATE, predicate)
        }
        VulnFormat::CosignTrivyClean => {
            let mut report = reports::trivy_report(&artifact, now);
            if let Some(results) = report.get_mut("Results").and_then(Value::as_array_mut) {
                for result in results {
                    result["Vulnerabilities"] = json!([]);
                }
            }
            (COSIGN_VULN_PREDICATE, scanner(report))
        }
    };
    statement_layer(
        envelope,
        name,
        subject,
        predicate_type,
        &predicate,
        now,
        unix,
    )
}

fn statement_layer(
    envelope: Envelope,
    name: &str,
    subject: &Digest,
    predicate_type: &str,
    predicate: &Value,
    now: &str,
    unix: i64,
) -> Result<Layer> {
    let layer = match envelope {
        Envelope::Dsse | Envelope::SignedDsse => {
            let statement = envelope::statement(
                "https://in-toto.io/Statement/v0.1",
                name,
                subject,
                predicate_type,
                predicate,
            );
            let wrapped = if envelope == Envelope::SignedDsse {
                attestation_key()?.sign_envelope(statement.to_string().as_bytes())?
            } else {
                envelope::dsse(&statement)
            };
            Layer {
                bytes: Bytes::from(wrapped.to_string()),
                media_type: DSSE_ENVELOPE,
                artifact_type: DSSE_ENVELOPE,
                annotations: json!({"predicateType": predicate_type}),
                predicate_type: Some(predicate_type.to_owned()),
            }
        }
        Envelope::SigstoreBundle | Envelope::KeyedBundle | Envelope::KeylessBundle => {
            let statement = envelope::statement(
                "https://in-toto.io/Statement/v1",
                name,
                subject,
                predicate_type,
                predicate,
            );
            let bundle = match envelope {
                Envelope::KeyedBundle => {
                    let key = attestation_key()?;
                    envelope::keyed_bundle(
                        &key.sign_envelope(statement.to_string().as_bytes())?,
                        key.fingerprint(),
                    )
                }
                Envelope::KeylessBundle => keyless_world()?.bundle(
                    statement.to_string().as_bytes(),
                    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|error| {
                        Error::InvalidSeed {
                            what: format!("the keyless bundle for {subject}"),
                            reason: error.to_string(),
                            source: None,
                        }
                    })?,
                )?,
                _ => envelope::sigstore_bundle(&envelope::dsse(&statement), unix),
            };
            Layer {
                bytes: Bytes::from(bundle.to_string()),
                media_type: SIGSTORE_BUNDLE_V03,
                artifact_type: SIGSTORE_BUNDLE_V03,
                annotations: json!({
                    "dev.sigstore.bundle.content": "dsse-envelope",
                    "dev.sigstore.bundle.predicateType": predicate_type,
                    "org.opencontainers.image.created": now,
                }),
                predicate_type: Some(predicate_type.to_owned()),
            }
        }
    };
    Ok(layer)
}

impl Store {
    /// Attaches an artifact to the image `subject` in `repository`.
    ///
    /// # Errors
    ///
    /// [`Error::NotInStore`] when the repository lacks the subject,
    /// [`Error::InvalidSeed`] if the artifact could not be stored.
    pub fn attach(
        &self,
        repository: &str,
        subject: &Digest,
        attachment: &Attachment,
    ) -> Result<Attached> {
        let (subject_bytes, subject_type) = self
            .manifest(repository, subject.as_str())
            .ok_or_else(|| Error::not_in_store(format!("manifest {subject} in {repository}")))?;
        let now_time = self.shared.clock.now();
        let now = now_time.format(&Rfc3339).unwrap_or_default();
        let name = format!("{}/{repository}", self.shared.registry_host);
        let layer = match attachment {
            Attachment::Vulnerabilities(format, envelope) => vulnerability_layer(
                *format,
                *envelope,
                &name,
                subject,
                &now,
                now_time.unix_timestamp(),
            )?,
            Attachment::Sbom => statement_layer(
                Envelope::Dsse,
                &name,
                subject,
                SPDX_PREDICATE,
                &envelope::spdx_document(&name, &now),
                &now,
                now_time.unix_timestamp(),
            )?,
            Attachment::Signature => {
                let payload = envelope::simple_signing(&name, subject);
                Layer {
                    bytes: Bytes::from(payload.to_string()),
                    media_type: COSIGN_SIGNATURE,
                    artifact_type: COSIGN_SIGNATURE_ARTIFACT,
                    annotations: json!({"dev.cosignproject.cosign/signature": base64_placeholder(subject)}),
                    predicate_type: None,
                }
            }
        };
        let layer_digest = self.push_blob(repository, layer.bytes.clone())?;
        let empty = self.push_blob(repository, Bytes::from_static(b"{}"))?;
        let mut annotations = layer.annotations.clone();
        annotations["org.opencontainers.image.created"] = json!(now);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": layer.artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
            "layers": [{
                "mediaType": layer.media_type,
                "digest": layer_digest.as_str(),
                "size": layer.bytes.len(),
                "annotations": layer.annotations,
            }],
            "subject": {"mediaType": subject_type, "digest": subject.as_str(), "size": subject_bytes.len()},
            "annotations": annotations,
        });
        let bytes = Bytes::from(manifest.to_string());
        let digest = Digest::sha256_of(&bytes);
        self.push_manifest(
            repository,
            digest.as_str(),
            bytes.clone(),
            "application/vnd.oci.image.manifest.v1+json",
        )?;
        let referrers_tag = match self.shared.config.profile {
            Profile::Ghcr => Some(self.list_in_referrers_tag(
                repository,
                subject,
                &json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest.as_str(),
                    "size": bytes.len(),
                    "artifactType": layer.artifact_type,
                    "annotations": annotations,
                }),
            )?),
            Profile::Generic => None,
        };
        self.publish_bundle(repository, subject, &layer)?;
        Ok(Attached {
            manifest: digest,
            artifact_type: layer.artifact_type.to_owned(),
            predicate_type: layer.predicate_type,
            referrers_tag,
        })
    }

    /// Adds a descriptor to the `sha256-<hex>` index, creating it if needed.
    fn list_in_referrers_tag(
        &self,
        repository: &str,
        subject: &Digest,
        descriptor: &Value,
    ) -> Result<String> {
        let tag = subject.referrers_tag();
        let mut manifests: Vec<Value> = self
            .manifest(repository, &tag)
            .and_then(|(bytes, _)| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|index| index.get("manifests").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        if !manifests
            .iter()
            .any(|m| m.get("digest") == descriptor.get("digest"))
        {
            manifests.push(descriptor.clone());
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        self.push_manifest(
            repository,
            &tag,
            Bytes::from(index.to_string()),
            "application/vnd.oci.image.index.v1+json",
        )?;
        Ok(tag)
    }
}

fn base64_placeholder(subject: &Digest) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(format!("ghcr-sim placeholder signature for {subject}"))
}
