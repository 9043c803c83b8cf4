//! SARIF 2.1.0 logs as vulnerability scanners write them (Trivy, Grype):
//! one rule per advisory, one result per affected package. Severity comes
//! from the rule's severity tag (Trivy), else its `security-severity` CVSS
//! score, else the SARIF level; package and fix from Trivy's message lines.

use std::collections::HashMap;

use ghcr_types::{AffectedPackage, Severity, Vulnerability};
use serde_json::Value;

use super::json::text;

/// Whether a scanner result looks like a SARIF log.
pub(crate) fn looks_like(result: &Value) -> bool {
    result.get("runs").is_some_and(Value::is_array)
}

/// The tool's name and version from the first run's driver.
pub(crate) fn tool(log: &Value) -> (Option<String>, Option<String>) {
    let driver = log.pointer("/runs/0/tool/driver");
    let field = |key: &str| {
        driver
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    (
        field("name").map(|n| n.to_ascii_lowercase()),
        field("version"),
    )
}

/// A `Name: value` line of a message (Trivy writes `Fixed Version: 1.2`).
fn line<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        (key.trim().eq_ignore_ascii_case(name) && !value.is_empty()).then_some(value)
    })
}

fn rule_severity(rule: Option<&Value>) -> Option<Severity> {
    let rule = rule?;
    let tagged = rule
        .pointer("/properties/tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|tag| {
            matches!(
                tag.to_ascii_uppercase().as_str(),
                "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "UNKNOWN" | "NEGLIGIBLE"
            )
        })
        .find_map(|tag| Severity::parse(tag).ok());
    tagged.or_else(|| {
        let score = rule.pointer("/properties/security-severity")?;
        match score {
            Value::String(text) => text.trim().parse::<f64>().ok(),
            other => other.as_f64(),
        }
        .map(Severity::from_cvss)
    })
}

/// The findings of every run.
pub(crate) fn findings(log: &Value) -> Result<Vec<Vulnerability>, String> {
    let runs = log
        .get("runs")
        .and_then(Value::as_array)
        .ok_or("the SARIF log has no runs")?;
    let mut found = Vec::new();
    for run in runs {
        let rules: Vec<&Value> = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .map(|rules| rules.iter().collect())
            .unwrap_or_default();
        let by_id: HashMap<&str, &Value> = rules
            .iter()
            .filter_map(|rule| Some((rule.get("id")?.as_str()?, *rule)))
            .collect();
        for result in run
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let rule = result
                .get("ruleIndex")
                .and_then(Value::as_u64)
                .and_then(|index| rules.get(usize::try_from(index).ok()?).copied())
                .or_else(|| by_id.get(result.get("ruleId")?.as_str()?).copied());
            let id = text(result, "/ruleId")
                .or_else(|| rule.and_then(|r| text(r, "/id")))
                .ok_or("a SARIF result has no ruleId")?
                .to_owned();
            let message = text(result, "/message/text").unwrap_or_default();
            let severity = rule_severity(rule)
                .or_else(|| {
                    let level = text(result, "/level")
                        .or_else(|| rule.and_then(|r| text(r, "/defaultConfiguration/level")))?;
                    Severity::parse(level).ok()
                })
                .unwrap_or(Severity::Unknown);
            let location = text(result, "/locations/0/physicalLocation/artifactLocation/uri")
                .map(str::to_owned);
            found.push(Vulnerability {
                id,
                severity,
                summary: rule
                    .and_then(|r| text(r, "/shortDescription/text"))
                    .unwrap_or(message)
                    .to_owned(),
                description: rule
                    .and_then(|r| text(r, "/fullDescription/text"))
                    .unwrap_or_default()
                    .to_owned(),
                fixed_in: line(message, "Fixed Version").map(str::to_owned),
                references: rule
                    .and_then(|r| text(r, "/helpUri"))
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                package: line(message, "Package").map(|name| AffectedPackage {
                    name: name.to_owned(),
                    installed_version: line(message, "Installed Version").map(str::to_owned),
                    location,
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
    fn severity_sources_in_order() {
        let log = json!({"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "Trivy", "version": "0.50.1", "rules": [
                {"id": "CVE-1", "shortDescription": {"text": "one"}, "helpUri": "https://avd/cve-1",
                 "properties": {"security-severity": "9.8", "tags": ["vulnerability", "HIGH"]}},
                {"id": "CVE-2", "properties": {"security-severity": "9.1"}},
                {"id": "CVE-3", "defaultConfiguration": {"level": "note"}},
            ]}},
            "results": [
                {"ruleId": "CVE-1", "ruleIndex": 0, "level": "error",
                 "message": {"text": "Package: libc6\nInstalled Version: 2.36\nFixed Version: 2.37\nLink: x"},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "img"}}}]},
                {"ruleId": "CVE-2", "level": "warning", "message": {"text": "Package: zlib\nFixed Version: "}},
                {"ruleId": "CVE-3", "message": {"text": "plain"}},
                {"ruleId": "CVE-4", "level": "error", "message": {"text": "no rule"}},
            ],
        }]});
        let found = findings(&log).unwrap();
        let severities: Vec<Severity> = found.iter().map(|v| v.severity).collect();
        assert_eq!(
            severities,
            [
                Severity::High,
                Severity::Critical,
                Severity::Low,
                Severity::High
            ]
        );
        assert_eq!(found[0].fixed_in.as_deref(), Some("2.37"));
        assert_eq!(found[0].summary, "one");
        assert_eq!(found[0].references, ["https://avd/cve-1"]);
        let package = found[0].package.as_ref().unwrap();
        assert_eq!(
            (package.name.as_str(), package.installed_version.as_deref()),
            ("libc6", Some("2.36"))
        );
        assert_eq!(package.location.as_deref(), Some("img"));
        assert_eq!(found[1].fixed_in, None);
        assert_eq!(found[2].package, None);
        assert_eq!(found[3].summary, "no rule");
        assert_eq!(tool(&log), (Some("trivy".into()), Some("0.50.1".into())));
    }

    #[test]
    fn malformed_logs() {
        assert!(findings(&json!({"version": "2.1.0"})).is_err());
        assert!(findings(&json!({"runs": [{"results": [{"message": {"text": "x"}}]}]})).is_err());
        assert!(findings(&json!({"runs": [{}]})).unwrap().is_empty());
    }
}
