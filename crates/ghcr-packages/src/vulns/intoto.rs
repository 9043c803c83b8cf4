//! The in-toto vulns predicate v0.1 (`https://in-toto.io/attestation/vulns/v0.1`):
//! `scanner.result[]` lists `{id, severity[{method, score}], annotations[]}`
//! (the spec's text nests them under `vulnerability`; both are read).

use ghcr_types::{AffectedPackage, Severity, Vulnerability};
use serde_json::{Map, Value};

/// The predicate type.
pub const IN_TOTO_VULNS_PREDICATE: &str = "https://in-toto.io/attestation/vulns/v0.1";

/// Whether a predicate type is in-toto vulns (with or without the scheme).
pub(crate) fn is_predicate(predicate_type: &str) -> bool {
    super::json::same_predicate(predicate_type, IN_TOTO_VULNS_PREDICATE)
}

/// A finding's severity: a qualitative rating when one is given (scanners
/// disagree less on those), else a score.
fn severity(ratings: Option<&Value>) -> Severity {
    let scores: Vec<&str> = ratings
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rating| rating.get("score").and_then(Value::as_str))
        .collect();
    let qualitative = scores
        .iter()
        .filter(|score| score.trim().parse::<f64>().is_err())
        .find_map(|score| Severity::parse(score).ok());
    qualitative
        .or_else(|| scores.iter().find_map(|score| Severity::parse(score).ok()))
        .unwrap_or(Severity::Unknown)
}

/// The annotations (a list of one-key objects, or objects of several keys) as one map.
fn annotations(entry: &Value) -> Map<String, Value> {
    let mut merged = Map::new();
    for annotation in entry
        .get("annotations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        for (key, value) in annotation {
            merged.insert(key.to_ascii_lowercase(), value.clone());
        }
    }
    merged
}

fn annotation(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|key| map.get(*key).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The findings of `scanner.result`.
pub(crate) fn findings(result: &Value) -> Result<Vec<Vulnerability>, String> {
    let entries = match result {
        Value::Null => return Ok(Vec::new()),
        Value::Array(entries) => entries,
        _ => return Err("the in-toto vulns scanner.result is not a list".into()),
    };
    entries
        .iter()
        .map(|entry| {
            let entry = entry.get("vulnerability").unwrap_or(entry);
            let id = entry
                .get("id")
                .and_then(Value::as_str)
                .ok_or("an in-toto vulns finding has no id")?
                .to_owned();
            let notes = annotations(entry);
            Ok(Vulnerability {
                id,
                severity: severity(entry.get("severity")),
                summary: annotation(&notes, &["title", "summary"]).unwrap_or_default(),
                description: annotation(&notes, &["description"]).unwrap_or_default(),
                fixed_in: annotation(&notes, &["fixedversion", "fixed_version", "fixedin"]),
                references: annotation(&notes, &["primaryurl", "url"])
                    .into_iter()
                    .collect(),
                package: annotation(&notes, &["pkgname", "package", "packagename"]).map(|name| {
                    AffectedPackage {
                        name,
                        installed_version: annotation(&notes, &["installedversion", "version"]),
                        location: annotation(&notes, &["pkgpath", "location", "purl"]),
                    }
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn findings_in_both_shapes() {
        let result = json!([
            {"id": "CVE-1", "severity": [{"method": "cvss_score", "score": "7.5"}, {"method": "nvd", "score": "critical"}],
             "annotations": [{"pkgName": "zlib"}, {"installedVersion": "1.2"}, {"fixedVersion": "1.3"}]},
            {"vulnerability": {"id": "CVE-2", "severity": [{"method": "cvss_score", "score": "5.2"}]}},
            {"id": "CVE-3", "annotations": [{"fixedVersion": ""}]},
        ]);
        let found = findings(&result).unwrap();
        assert_eq!(
            found.iter().map(|v| v.severity).collect::<Vec<_>>(),
            [Severity::Critical, Severity::Medium, Severity::Unknown]
        );
        assert_eq!(found[0].fixed_in.as_deref(), Some("1.3"));
        assert_eq!(
            found[0]
                .package
                .as_ref()
                .unwrap()
                .installed_version
                .as_deref(),
            Some("1.2")
        );
        assert_eq!(found[2].fixed_in, None);
        assert!(findings(&json!({})).is_err());
        assert!(findings(&json!([{"severity": []}])).is_err());
        assert!(findings(&Value::Null).unwrap().is_empty());
    }

    #[test]
    fn predicate_types() {
        for (text, expected) in [
            (IN_TOTO_VULNS_PREDICATE, true),
            ("in-toto.io/attestation/vulns/v0.1", true),
            ("https://in-toto.io/attestation/vulns/v0.2", false),
            ("https://cosign.sigstore.dev/attestation/vuln/v1", false),
        ] {
            assert_eq!(is_predicate(text), expected, "{text}");
        }
    }
}
