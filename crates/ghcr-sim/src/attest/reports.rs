//! Scan results in the scanners' own formats: a Trivy JSON report, a SARIF
//! 2.1.0 log as Trivy writes it, and the in-toto vulns predicate's list.

use serde_json::{Value, json};

/// One finding the seeded reports carry, so tests can assert what a reader
/// must find.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SampleVulnerability {
    /// The advisory id (`CVE-…`).
    pub id: &'static str,
    /// The affected package.
    pub package: &'static str,
    /// The installed version.
    pub installed: &'static str,
    /// The fixed version, when there is one.
    pub fixed: Option<&'static str>,
    /// Trivy's severity word.
    pub severity: &'static str,
    /// The CVSS v3 base score.
    pub score: f64,
    /// The advisory title.
    pub title: &'static str,
}

/// The findings every seeded vulnerability attestation reports (a Debian 12
/// image), most severe first.
pub const SAMPLE_VULNERABILITIES: [SampleVulnerability; 4] = [
    SampleVulnerability {
        id: "CVE-2023-45853",
        package: "zlib1g",
        installed: "1:1.2.13.dfsg-1",
        fixed: None,
        severity: "CRITICAL",
        score: 9.8,
        title: "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6",
    },
    SampleVulnerability {
        id: "CVE-2024-2961",
        package: "libc6",
        installed: "2.36-9+deb12u4",
        fixed: Some("2.36-9+deb12u7"),
        severity: "HIGH",
        score: 8.8,
        title: "glibc: Out of bounds write in iconv may lead to remote code execution",
    },
    SampleVulnerability {
        id: "CVE-2024-6119",
        package: "libssl3",
        installed: "3.0.13-1~deb12u1",
        fixed: Some("3.0.14-1~deb12u2"),
        severity: "HIGH",
        score: 7.5,
        title: "openssl: Possible denial of service in X.509 name checks",
    },
    SampleVulnerability {
        id: "CVE-2023-50495",
        package: "libncursesw6",
        installed: "6.4-4",
        fixed: None,
        severity: "MEDIUM",
        score: 6.5,
        title: "ncurses: segmentation fault via _nc_wrap_entry()",
    },
];

/// The scanner every report names.
pub(crate) const TRIVY_VERSION: &str = "0.50.1";

fn cvss_vector(score: f64) -> &'static str {
    if score >= 9.0 {
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    } else if score >= 8.0 {
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    } else if score >= 7.0 {
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    } else {
        "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"
    }
}

/// A Trivy JSON report (`trivy image --format json`) for `artifact`.
pub(crate) fn trivy_report(artifact: &str, created_at: &str) -> Value {
    let vulnerabilities: Vec<Value> = SAMPLE_VULNERABILITIES
        .iter()
        .map(|v| {
            let mut entry = json!({
                "VulnerabilityID": v.id,
                "PkgID": format!("{}@{}", v.package, v.installed),
                "PkgName": v.package,
                "InstalledVersion": v.installed,
                "Status": if v.fixed.is_some() { "fixed" } else { "affected" },
                "SeveritySource": "nvd",
                "PrimaryURL": format!("https://avd.aquasec.com/nvd/{}", v.id.to_ascii_lowercase()),
                "DataSource": {
                    "ID": "debian",
                    "Name": "Debian Security Tracker",
                    "URL": "https://salsa.debian.org/security-tracker-team/security-tracker",
                },
                "Title": v.title,
                "Description": format!("{} (seeded by ghcr-sim for tests).", v.title),
                "Severity": v.severity,
                "CVSS": {"nvd": {"V3Vector": cvss_vector(v.score), "V3Score": v.score}},
                "References": [
                    format!("https://nvd.nist.gov/vuln/detail/{}", v.id),
                    format!("https://security-tracker.debian.org/tracker/{}", v.id),
                ],
                "PublishedDate": "2024-01-02T00:00:00Z",
                "LastModifiedDate": "2024-08-30T12:00:00Z",
            });
            if let Some(fixed) = v.fixed {
                entry["FixedVersion"] = json!(fixed);
            }
            entry
        })
        .collect();
    json!({
        "SchemaVersion": 2,
        "CreatedAt": created_at,
        "ArtifactName": artifact,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12.5"},
            "RepoDigests": [artifact],
        },
        "Results": [{
            "Target": format!("{artifact} (debian 12.5)"),
            "Class": "os-pkgs",
            "Type": "debian",
            "Vulnerabilities": vulnerabilities,
        }],
    })
}

fn sarif_level(severity: &str) -> &'static str {
    match severity {
        "CRITICAL" | "HIGH" => "error",
        "MEDIUM" => "warning",
        _ => "note",
    }
}

/// A SARIF 2.1.0 log as `trivy image --format sarif` writes it.
pub(crate) fn sarif_log(artifact: &str) -> Value {
    let rules: Vec<Value> = SAMPLE_VULNERABILITIES
        .iter()
        .map(|v| {
            json!({
                "id": v.id,
                "name": "OsPackageVulnerability",
                "shortDescription": {"text": v.title},
                "fullDescription": {"text": format!("{} (seeded by ghcr-sim for tests).", v.title)},
                "defaultConfiguration": {"level": sarif_level(v.severity)},
                "helpUri": format!("https://avd.aquasec.com/nvd/{}", v.id.to_ascii_lowercase()),
                "help": {
                    "text": format!("Vulnerability {}\nSeverity: {}\nPackage: {}\nFixed Version: {}\nLink: [{}](https://avd.aquasec.com/nvd/{})", v.id, v.severity, v.package, v.fixed.unwrap_or(""), v.id, v.id.to_ascii_lowercase()),
                },
                "properties": {
                    "precision": "very-high",
                    "security-severity": format!("{:.1}", v.score),
                    "tags": ["vulnerability", "security", v.severity],
                },
            })
        })
        .collect();
    let results: Vec<Value> = SAMPLE_VULNERABILITIES
        .iter()
        .enumerate()
        .map(|(index, v)| {
            json!({
                "ruleId": v.id,
                "ruleIndex": index,
                "level": sarif_level(v.severity),
                "message": {
                    "text": format!("Package: {}\nInstalled Version: {}\nVulnerability {}\nSeverity: {}\nFixed Version: {}\nLink: [{}](https://avd.aquasec.com/nvd/{})", v.package, v.installed, v.id, v.severity, v.fixed.unwrap_or(""), v.id, v.id.to_ascii_lowercase()),
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact, "uriBaseId": "ROOTPATH"},
                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
                    },
                    "message": {"text": format!("{artifact}: {}@{}", v.package, v.installed)},
                }],
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "fullName": "Trivy Vulnerability Scanner",
                "informationUri": "https://github.com/aquasecurity/trivy",
                "name": "Trivy",
                "rules": rules,
                "version": TRIVY_VERSION,
            }},
            "results": results,
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
            "properties": {"imageName": artifact, "repoDigests": [artifact]},
        }],
    })
}

/// The `scanner.result` list of the in-toto vulns v0.1 predicate.
pub(crate) fn in_toto_results() -> Value {
    SAMPLE_VULNERABILITIES
        .iter()
        .map(|v| {
            json!({
                "id": v.id,
                "severity": [
                    {"method": "nvd", "score": v.severity.to_ascii_lowercase()},
                    {"method": "cvss_score", "score": format!("{:.1}", v.score)},
                ],
                "annotations": [
                    {"pkgName": v.package},
                    {"installedVersion": v.installed},
                    {"fixedVersion": v.fixed.unwrap_or("")},
                ],
            })
        })
        .collect()
}
