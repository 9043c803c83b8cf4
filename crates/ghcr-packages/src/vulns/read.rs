//! From an attestation's bytes to a [`VulnerabilityReport`]: unwrap the
//! envelope (DSSE, Sigstore bundle, or a bare statement), recognise the
//! predicate, read the scan, and record where the report came from and,
//! when `verify.rs` verified its attestation, who signed it.

use ghcr_types::{Digest, ReportSigner, ReportSource, Vulnerability, VulnerabilityReport};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::dsse::Statement;
use super::json::owned as field;
use super::{bundle, cosign, dsse, intoto};
use crate::error::{Error, Result};

/// A scan read from a predicate, before it is tied to a subject.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scan {
    pub(crate) format: &'static str,
    pub(crate) scanner: Option<String>,
    pub(crate) scanner_version: Option<String>,
    pub(crate) database_version: Option<String>,
    pub(crate) scanned_at: Option<OffsetDateTime>,
    pub(crate) findings: Vec<Vulnerability>,
}

/// The scanner's name from its URI: `pkg:github/aquasecurity/trivy@v0.50.1` → `trivy`.
fn scanner_name(uri: &str) -> Option<String> {
    let before_version = uri.split('@').next().unwrap_or(uri);
    let name = before_version
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()?
        .trim();
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

impl Scan {
    /// Metadata shared by the cosign and in-toto predicates: the scanner,
    /// its database, and when the scan ran.
    pub(crate) fn from_predicate(
        predicate: &Value,
        scanner: &Value,
        format: &'static str,
        findings: Vec<Vulnerability>,
    ) -> Self {
        let time = |pointer: &str| {
            field(predicate, pointer).and_then(|text| OffsetDateTime::parse(&text, &Rfc3339).ok())
        };
        Self {
            format,
            scanner: field(scanner, "/uri").and_then(|uri| scanner_name(&uri)),
            scanner_version: field(scanner, "/version"),
            database_version: field(scanner, "/db/version").or_else(|| field(scanner, "/db/uri")),
            scanned_at: time("/metadata/scanFinishedOn")
                .or_else(|| time("/metadata/scanStartedOn")),
            findings,
        }
    }
}

/// The report a statement carries; `Ok(None)` when its predicate is not a
/// vulnerability scan (provenance, SBOM, …). `signer` is who signed the
/// statement, when its attestation verified.
pub(crate) fn report_from_statement(
    statement: &Statement,
    subject: &Digest,
    attestation: Option<&Digest>,
    signer: Option<ReportSigner>,
) -> std::result::Result<Option<VulnerabilityReport>, String> {
    let scan = if cosign::is_predicate(&statement.predicate_type) {
        cosign::read(&statement.predicate)?
    } else if intoto::is_predicate(&statement.predicate_type) {
        let scanner = statement
            .predicate
            .get("scanner")
            .ok_or("the in-toto vulns predicate has no scanner")?;
        let findings = intoto::findings(scanner.get("result").unwrap_or(&Value::Null))?;
        Scan::from_predicate(&statement.predicate, scanner, "in-toto-vulns", findings)
    } else {
        return Ok(None);
    };
    Ok(Some(VulnerabilityReport {
        subject: subject.clone(),
        package_version_id: None,
        source: ReportSource {
            predicate_type: statement.predicate_type.clone(),
            format: scan.format.to_owned(),
            scanner: scan.scanner,
            scanner_version: scan.scanner_version,
            database_version: scan.database_version,
            scanned_at: scan.scanned_at,
            attestation: attestation.cloned(),
            signature_verified: signer.is_some(),
            signer,
        },
        vulnerabilities: scan.findings,
    }))
}

/// How an attestation's bytes are wrapped.
pub(crate) fn statement_of(bytes: &[u8]) -> std::result::Result<Option<Statement>, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| format!("the attestation is not JSON: {error}"))?;
    if value.get("dsseEnvelope").is_some() || value.get("messageSignature").is_some() {
        bundle::statement(&value)
    } else if value.get("payloadType").is_some() {
        dsse::open_envelope(&value).map(Some)
    } else if value.get("predicateType").is_some() {
        dsse::statement(bytes).map(Some)
    } else {
        Err("the attestation is neither a DSSE envelope, a Sigstore bundle nor an in-toto statement".into())
    }
}

/// Reads a vulnerability report from an attestation's bytes: a DSSE
/// envelope (what `cosign download attestation` prints), a Sigstore bundle
/// (what GitHub's attestations API returns) or a bare in-toto statement.
/// `Ok(None)` when the attestation is not a vulnerability scan. The report's
/// subject is the statement's first subject; its signature is not verified.
///
/// ```
/// use base64::Engine as _;
/// let statement = serde_json::json!({
///     "_type": "https://in-toto.io/Statement/v0.1",
///     "subject": [{"name": "ghcr.io/octo/app", "digest": {"sha256": "b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344"}}],
///     "predicateType": "https://in-toto.io/attestation/vulns/v0.1",
///     "predicate": {"scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.50.1", "result": [
///         {"id": "CVE-2024-6119", "severity": [{"method": "nvd", "score": "high"}]}
///     ]}},
/// });
/// let envelope = serde_json::json!({
///     "payloadType": "application/vnd.in-toto+json",
///     "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
///     "signatures": [],
/// });
/// let report = ghcr_packages::parse_vulnerability_attestation(envelope.to_string().as_bytes())?
///     .expect("a vulnerability scan");
/// assert_eq!(report.vulnerabilities[0].severity, ghcr_types::Severity::High);
/// assert_eq!(report.source.scanner.as_deref(), Some("trivy"));
/// assert!(!report.source.signature_verified);
/// # Ok::<(), ghcr_packages::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidAttestation`] (naming the digest of `bytes`) when the
/// bytes are not a readable attestation or its scan cannot be read.
pub fn parse_vulnerability_attestation(bytes: &[u8]) -> Result<Option<VulnerabilityReport>> {
    let invalid = |reason: String| Error::InvalidAttestation {
        attestation: Digest::sha256_of(bytes),
        reason,
    };
    let Some(statement) = statement_of(bytes).map_err(invalid)? else {
        return Ok(None);
    };
    if !cosign::is_predicate(&statement.predicate_type)
        && !intoto::is_predicate(&statement.predicate_type)
    {
        return Ok(None);
    }
    let subject = statement
        .subjects
        .iter()
        .find_map(|digest| Digest::parse(digest).ok())
        .ok_or_else(|| invalid("the statement names no subject digest".into()))?;
    report_from_statement(&statement, &subject, None, None).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scanner_names() {
        for (uri, name) in [
            ("pkg:github/aquasecurity/trivy@v0.50.1", Some("trivy")),
            ("pkg:github/anchore/grype", Some("grype")),
            ("https://github.com/aquasecurity/trivy/", Some("trivy")),
            ("", None),
        ] {
            assert_eq!(scanner_name(uri).as_deref(), name, "{uri}");
        }
    }

    #[test]
    fn other_predicates_are_not_reports() {
        let provenance = json!({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}});
        assert_eq!(
            parse_vulnerability_attestation(provenance.to_string().as_bytes()).unwrap(),
            None
        );
        let error = parse_vulnerability_attestation(b"[1]").unwrap_err();
        assert!(
            error.to_string().contains("neither a DSSE envelope"),
            "{error}"
        );
        let no_subject = json!({"predicateType": cosign::COSIGN_VULN_PREDICATE, "predicate": {"scanner": {"result": {"SchemaVersion": 2}}}});
        let error = parse_vulnerability_attestation(no_subject.to_string().as_bytes()).unwrap_err();
        assert!(error.to_string().contains("names no subject"), "{error}");
    }
}
