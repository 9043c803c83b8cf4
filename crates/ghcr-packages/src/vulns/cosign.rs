//! cosign's vulnerability predicate (`https://cosign.sigstore.dev/attestation/vuln/v1`;
//! cosign's own code writes it without the scheme): scanner metadata and
//! the scanner's raw result, a Trivy JSON report or a SARIF log. The code
//! writes one `scanner` object, the spec document a `scanners` list: both
//! are read.

use serde_json::Value;

use super::read::Scan;
use super::{sarif, trivy};

/// The predicate type.
pub const COSIGN_VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

/// Whether a predicate type is cosign's vuln predicate (with or without the scheme).
pub(crate) fn is_predicate(predicate_type: &str) -> bool {
    super::json::same_predicate(predicate_type, COSIGN_VULN_PREDICATE)
}

/// Reads the predicate: every scanner's result, metadata from the first.
pub(crate) fn read(predicate: &Value) -> Result<Scan, String> {
    let scanners: Vec<&Value> = match (predicate.get("scanner"), predicate.get("scanners")) {
        (Some(scanner), _) => vec![scanner],
        (None, Some(Value::Array(scanners))) => scanners.iter().collect(),
        _ => return Err("the cosign vuln predicate has no scanner".into()),
    };
    let mut scan: Option<Scan> = None;
    for scanner in scanners {
        let raw = scanner.get("result").unwrap_or(&Value::Null);
        // Some tools store the report as a JSON string.
        let parsed;
        let result = if let Value::String(text) = raw {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|error| format!("the scanner result is a string but not JSON: {error}"))?;
            &parsed
        } else {
            raw
        };
        let (format, findings, tool) = if sarif::looks_like(result) {
            ("sarif", sarif::findings(result)?, sarif::tool(result))
        } else if trivy::looks_like(result) {
            (
                "trivy",
                trivy::findings(result)?,
                (Some("trivy".to_owned()), None),
            )
        } else if result.is_null() {
            return Err("the cosign vuln predicate's scanner has no result".into());
        } else {
            return Err("the scanner result is neither a Trivy JSON report nor a SARIF log".into());
        };
        if let Some(scan) = &mut scan {
            scan.findings.extend(findings);
        } else {
            let mut first = Scan::from_predicate(predicate, scanner, format, findings);
            first.scanner = first.scanner.or(tool.0);
            first.scanner_version = first.scanner_version.or(tool.1);
            scan = Some(first);
        }
    }
    scan.ok_or_else(|| "the cosign vuln predicate lists no scanner".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn predicate_types() {
        for (text, expected) in [
            (COSIGN_VULN_PREDICATE, true),
            ("cosign.sigstore.dev/attestation/vuln/v1", true),
            ("https://cosign.sigstore.dev/attestation/v1", false),
            ("https://in-toto.io/attestation/vulns/v0.1", false),
        ] {
            assert_eq!(is_predicate(text), expected, "{text}");
        }
    }

    #[test]
    fn results_of_each_shape() {
        let trivy = json!({"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "Severity": "LOW"}]}]});
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Grype", "version": "0.74.0"}}, "results": [{"ruleId": "CVE-2", "level": "error", "message": {"text": "m"}}]}]});
        let cases = [
            (
                json!({"scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.50.1", "result": trivy}}),
                "trivy",
                "trivy",
                1,
            ),
            (
                json!({"scanner": {"result": trivy.to_string()}}),
                "trivy",
                "trivy",
                1,
            ),
            (json!({"scanner": {"result": sarif}}), "sarif", "grype", 1),
            (
                json!({"scanners": [{"uri": "pkg:github/aquasecurity/trivy", "result": trivy}, {"result": sarif}]}),
                "trivy",
                "trivy",
                2,
            ),
        ];
        for (predicate, format, scanner, count) in cases {
            let scan = read(&predicate).unwrap();
            assert_eq!(scan.format, format, "{predicate}");
            assert_eq!(scan.scanner.as_deref(), Some(scanner), "{predicate}");
            assert_eq!(scan.findings.len(), count, "{predicate}");
        }
        assert_eq!(
            read(&json!({"scanner": {"result": sarif}}))
                .unwrap()
                .scanner_version
                .as_deref(),
            Some("0.74.0")
        );
        for bad in [
            json!({}),
            json!({"scanner": {}}),
            json!({"scanner": {"result": {"matches": []}}}),
            json!({"scanner": {"result": "{"}}),
        ] {
            assert!(read(&bad).is_err(), "{bad}");
        }
    }
}
