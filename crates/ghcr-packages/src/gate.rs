//! The security gate of the architecture's integration patterns: pass an
//! image, or block it with the findings at or above a severity.

use ghcr_types::{Severity, Vulnerability, VulnerabilityReport};

/// What a gate decided.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateResult {
    /// No finding at or above the severity.
    Passed,
    /// Blocked by these findings, worst first.
    Blocked {
        /// The offending findings.
        findings: Vec<Vulnerability>,
    },
}

impl GateResult {
    /// Whether the image passed.
    pub fn is_passed(&self) -> bool {
        matches!(self, Self::Passed)
    }
}

/// Blocks when the report has findings at `max_severity` or worse (the
/// design's rule: `severity >= max_severity` blocks), so
/// `security_gate(&report, Severity::Critical)` lets high findings through
/// and stops critical ones. Findings of unknown severity block only at
/// [`Severity::Unknown`].
///
/// A gate needs data: callers holding no report should fail closed, as
/// [`crate::PackagesClient::security_gate`] does with
/// [`crate::Error::VulnDataNotAvailable`].
///
/// ```
/// use ghcr_packages::{GateResult, security_gate};
/// use ghcr_types::{Digest, ReportSource, Severity, Vulnerability, VulnerabilityReport};
///
/// let finding = |id: &str, severity| Vulnerability {
///     id: id.into(), severity, summary: String::new(), description: String::new(),
///     fixed_in: None, references: vec![], package: None,
/// };
/// let report = VulnerabilityReport {
///     subject: Digest::sha256_of(b"image"),
///     package_version_id: None,
///     source: ReportSource {
///         predicate_type: "https://in-toto.io/attestation/vulns/v0.1".into(), format: "in-toto-vulns".into(),
///         scanner: None, scanner_version: None, database_version: None, scanned_at: None,
///         attestation: None, signature_verified: false, signer: None,
///     },
///     vulnerabilities: vec![finding("CVE-1", Severity::High), finding("CVE-2", Severity::Critical)],
/// };
/// assert!(security_gate(&report, Severity::Critical) != GateResult::Passed);
/// match security_gate(&report, Severity::High) {
///     GateResult::Blocked { findings } => assert_eq!(findings[0].id, "CVE-2"),
///     GateResult::Passed => unreachable!(),
///     _ => unreachable!(),
/// }
/// ```
pub fn security_gate(report: &VulnerabilityReport, max_severity: Severity) -> GateResult {
    let mut findings: Vec<Vulnerability> = report.at_least(max_severity).cloned().collect();
    if findings.is_empty() {
        return GateResult::Passed;
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    GateResult::Blocked { findings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghcr_types::{Digest, ReportSource};

    fn report(severities: &[Severity]) -> VulnerabilityReport {
        VulnerabilityReport {
            subject: Digest::sha256_of(b"x"),
            package_version_id: None,
            source: ReportSource {
                predicate_type: "p".into(),
                format: "trivy".into(),
                scanner: None,
                scanner_version: None,
                database_version: None,
                scanned_at: None,
                attestation: None,
                signature_verified: false,
                signer: None,
            },
            vulnerabilities: severities
                .iter()
                .enumerate()
                .map(|(i, severity)| Vulnerability {
                    id: format!("CVE-{i}"),
                    severity: *severity,
                    summary: String::new(),
                    description: String::new(),
                    fixed_in: None,
                    references: vec![],
                    package: None,
                })
                .collect(),
        }
    }

    #[test]
    fn thresholds() {
        use Severity::{Critical, High, Low, Medium, Unknown};
        let table: [(&[Severity], Severity, usize); 8] = [
            (&[], Critical, 0),
            (&[], Unknown, 0),
            (&[High, Medium], Critical, 0),
            (&[High, Medium], High, 1),
            (&[High, Medium], Medium, 2),
            (&[Critical, Low, Unknown], Low, 2),
            (&[Critical, Low, Unknown], Unknown, 3),
            (&[Unknown], Low, 0),
        ];
        for (severities, max, blocking) in table {
            let result = security_gate(&report(severities), max);
            let found = match &result {
                GateResult::Passed => 0,
                GateResult::Blocked { findings } => findings.len(),
            };
            assert_eq!(found, blocking, "{severities:?} at {max}");
            assert_eq!(result.is_passed(), blocking == 0);
        }
    }

    #[test]
    fn blocking_findings_come_worst_first() {
        let GateResult::Blocked { findings } = security_gate(
            &report(&[Severity::Medium, Severity::Critical, Severity::High]),
            Severity::Medium,
        ) else {
            panic!("expected a block");
        };
        let order: Vec<Severity> = findings.iter().map(|f| f.severity).collect();
        assert_eq!(
            order,
            [Severity::Critical, Severity::High, Severity::Medium]
        );
    }
}
