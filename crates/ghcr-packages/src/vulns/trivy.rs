//! Trivy's JSON report (`trivy image --format json`): `Results[]`, each with
//! a `Target` and `Vulnerabilities[]`.

use ghcr_types::{AffectedPackage, Severity, Vulnerability};
use serde_json::Value;

/// Whether a scanner result looks like a Trivy JSON report.
pub(crate) fn looks_like(result: &Value) -> bool {
    result.get("Results").is_some() || result.get("SchemaVersion").is_some()
}

fn text(value: &Value, key: &str) -> Option<String> {
    super::json::owned(value, &format!("/{key}"))
}

/// The findings of a report.
pub(crate) fn findings(report: &Value) -> Result<Vec<Vulnerability>, String> {
    let results = match report.get("Results") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(results)) => results,
        Some(_) => return Err("Trivy's Results is not a list".into()),
    };
    let mut found = Vec::new();
    for result in results {
        let target = text(result, "Target");
        let Some(vulnerabilities) = result.get("Vulnerabilities").and_then(Value::as_array) else {
            continue;
        };
        for entry in vulnerabilities {
            let id =
                text(entry, "VulnerabilityID").ok_or("a Trivy finding has no VulnerabilityID")?;
            let severity = text(entry, "Severity")
                .and_then(|s| Severity::parse(&s).ok())
                .unwrap_or(Severity::Unknown);
            let mut references: Vec<String> = text(entry, "PrimaryURL").into_iter().collect();
            for reference in entry
                .get("References")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !references.iter().any(|r| r == reference) {
                    references.push(reference.to_owned());
                }
            }
            found.push(Vulnerability {
                id,
                severity,
                summary: text(entry, "Title").unwrap_or_default(),
                description: text(entry, "Description").unwrap_or_default(),
                fixed_in: text(entry, "FixedVersion"),
                references,
                package: text(entry, "PkgName").map(|name| AffectedPackage {
                    name,
                    installed_version: text(entry, "InstalledVersion"),
                    location: text(entry, "PkgPath").or_else(|| target.clone()),
                }),
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_findings_per_target() {
        let report = json!({
            "SchemaVersion": 2,
            "Results": [
                {"Target": "img (debian 12)", "Vulnerabilities": [
                    {"VulnerabilityID": "CVE-1", "PkgName": "zlib1g", "InstalledVersion": "1.2", "Severity": "CRITICAL",
                     "Title": "t", "PrimaryURL": "https://avd/cve-1", "References": ["https://nvd/1", "https://avd/cve-1"]},
                    {"VulnerabilityID": "CVE-2", "PkgName": "libc6", "FixedVersion": "2.36-9", "Severity": "weird"}
                ]},
                {"Target": "app/go.sum", "Class": "lang-pkgs"},
                {"Target": "usr/bin/x", "Vulnerabilities": [
                    {"VulnerabilityID": "GHSA-x", "PkgName": "golang.org/x/net", "PkgPath": "usr/bin/x", "Severity": "MEDIUM", "FixedVersion": " "}
                ]}
            ]
        });
        let found = findings(&report).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].references, ["https://avd/cve-1", "https://nvd/1"]);
        assert_eq!(
            found[0].package.as_ref().unwrap().location.as_deref(),
            Some("img (debian 12)")
        );
        assert!(!found[0].fix_available());
        assert_eq!(found[1].severity, Severity::Unknown);
        assert_eq!(found[1].fixed_in.as_deref(), Some("2.36-9"));
        assert_eq!(found[2].fixed_in, None);
        assert_eq!(
            found[2].package.as_ref().unwrap().location.as_deref(),
            Some("usr/bin/x")
        );
    }

    #[test]
    fn clean_and_malformed_reports() {
        assert!(findings(&json!({"SchemaVersion": 2})).unwrap().is_empty());
        assert!(findings(&json!({"Results": null})).unwrap().is_empty());
        assert!(findings(&json!({"Results": "x"})).is_err());
        assert!(findings(&json!({"Results": [{"Vulnerabilities": [{"PkgName": "a"}]}]})).is_err());
        assert!(looks_like(&json!({"SchemaVersion": 2})));
        assert!(!looks_like(&json!({"runs": []})));
    }
}
