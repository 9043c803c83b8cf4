//! `vulns REF` and `gate REF`: the vulnerability scan attached to an image
//! (cosign vuln or in-toto vulns attestations in the registry, or with
//! `--github-attestations` in GitHub's attestations API; GitHub has no
//! vulnerability endpoint), and a pass-or-block decision on it that fails
//! closed.

use ghcr::packages::{AttestationsApi, GateResult, PackagesClient, security_gate};
use ghcr::types::{Owner, Reference, Severity, Vulnerability, VulnerabilityReport};
use serde_json::json;

use crate::cli::{GateArgs, VulnsArgs};
use crate::context::{Context, Setup};
use crate::exit::{Code, failure, reported, usage};
use crate::output::time;

fn severity(text: &str) -> anyhow::Result<Severity> {
    Severity::parse(text).map_err(|error| {
        usage(format!(
            "`{text}` is not a severity (unknown, low, medium, high, critical): {error}"
        ))
    })
}

/// The newest report attached to `reference`, read from its registry (and
/// GitHub's attestations API when `github` is set and the registry has none).
async fn newest_report(
    context: &Context,
    reference: &Reference,
    org: bool,
    github: bool,
) -> anyhow::Result<VulnerabilityReport> {
    let client = &context.client;
    let attestations_api = if github {
        AttestationsApi::Consult
    } else {
        AttestationsApi::Skip
    };
    let packages = PackagesClient::builder(client.transport().clone())
        .api_base(client.config().api_base())
        .registry_host(reference.registry())
        .registry(client.registry().clone())
        .attestations_api(attestations_api)
        .build()?;
    let digest = client.registry().resolve_digest(reference).await?;
    let owner = if org {
        Owner::org(reference.owner())
    } else {
        Owner::user(reference.owner())
    };
    let mut reports = packages
        .vulnerability_reports(&owner, reference.package_name(), &digest)
        .await?;
    if reports.is_empty() {
        return Err(failure(
            Code::NotFound,
            format!("no vulnerability report for {reference}"),
        ));
    }
    Ok(reports.remove(0))
}

pub(crate) fn finding_line(finding: &Vulnerability) -> String {
    let package = finding.package.as_ref().map_or_else(String::new, |p| {
        format!(
            "  {} {}",
            p.name,
            p.installed_version.as_deref().unwrap_or("?")
        )
    });
    let fix = finding
        .fixed_in
        .as_deref()
        .map_or_else(|| "  no fix yet".to_owned(), |v| format!("  fixed in {v}"));
    format!(
        "{:<8} {}{package}{fix}  {}",
        finding.severity.as_str(),
        finding.id,
        finding.summary
    )
}

/// `head`, then a line per finding.
fn with_findings<'a>(head: String, findings: impl Iterator<Item = &'a Vulnerability>) -> String {
    let mut text = head;
    for finding in findings {
        text.push('\n');
        text.push_str(&finding_line(finding));
    }
    text
}

pub(crate) fn source_line(report: &VulnerabilityReport) -> String {
    let source = &report.source;
    let scanner = match (&source.scanner, &source.scanner_version) {
        (Some(name), Some(version)) => format!("{name} {version}"),
        (Some(name), None) => name.clone(),
        _ => "an unnamed scanner".to_owned(),
    };
    let when = source
        .scanned_at
        .map_or_else(String::new, |at| format!(" on {}", time(at)));
    let signature = if source.signature_verified {
        "verified"
    } else {
        "not verified"
    };
    format!(
        "scanned by {scanner}{when} ({} in {}; signature {signature})",
        source.format, source.predicate_type
    )
}

pub(crate) async fn vulns(setup: Setup, args: &VulnsArgs) -> anyhow::Result<()> {
    let min = severity(&args.min_severity)?;
    let reference = setup.reference(&args.reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let report = newest_report(&context, &reference, args.org, args.github_attestations).await?;
    let shown: Vec<&Vulnerability> = report.at_least(min).collect();
    context.out.result(
        || {
            let counts: Vec<String> = report
                .counts()
                .iter()
                .map(|(severity, count)| format!("{count} {}", severity.as_str()))
                .collect();
            let head = format!(
                "{reference} {}: {} finding(s): {}\n{}",
                report.subject,
                report.vulnerabilities.len(),
                counts.join(", "),
                source_line(&report)
            );
            with_findings(head, shown.iter().copied())
        },
        || {
            json!({
                "reference": reference.to_string(),
                "subject": report.subject.as_str(),
                "min_severity": min.as_str(),
                "source": report.source,
                "total": report.vulnerabilities.len(),
                "findings": shown,
            })
        },
    );
    context.finish()
}

pub(crate) async fn gate(setup: Setup, args: &GateArgs) -> anyhow::Result<()> {
    let max = match (&args.fail_on, &args.max_severity) {
        (Some(text), _) => severity(text)?,
        (None, Some(text)) => {
            setup.out.note(
                "warning: --max-severity is deprecated and goes in the next release; use --fail-on (same values)",
            );
            severity(text)?
        }
        (None, None) => return Err(usage("gate needs --fail-on SEVERITY")),
    };
    let reference = setup.reference(&args.reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let report = match newest_report(&context, &reference, args.org, args.github_attestations).await
    {
        Ok(report) => report,
        Err(error) if crate::exit::classify(&error) == Code::NotFound => {
            let message = format!(
                "blocked: no vulnerability data for {reference} (the gate fails closed): {error}"
            );
            context.out.result(String::new, || {
                json!({
                    "reference": reference.to_string(),
                    "fail_on": max.as_str(),
                    "decision": "blocked",
                    "reason": "no_data",
                    "findings": [],
                })
            });
            context.finish()?;
            return Err(reported(Code::Blocked, message));
        }
        Err(error) => return Err(error),
    };
    let decision = security_gate(&report, max);
    let findings: Vec<Vulnerability> = match &decision {
        GateResult::Blocked { findings } => findings.clone(),
        _ => Vec::new(),
    };
    let passed = decision.is_passed();
    context.out.result(
        || {
            if passed {
                format!(
                    "passed: no finding at {} or worse in {reference} {}",
                    max.as_str(),
                    report.subject
                )
            } else {
                let head = format!(
                    "blocked: {} finding(s) at {} or worse in {reference} {}",
                    findings.len(),
                    max.as_str(),
                    report.subject
                );
                with_findings(head, findings.iter())
            }
        },
        || {
            json!({
                "reference": reference.to_string(),
                "subject": report.subject.as_str(),
                "fail_on": max.as_str(),
                "decision": if passed { "passed" } else { "blocked" },
                "reason": if passed { "no_findings" } else { "findings" },
                "findings": findings,
            })
        },
    );
    context.finish()?;
    if passed {
        Ok(())
    } else {
        Err(reported(
            Code::Blocked,
            format!("{reference} is blocked at {}", max.as_str()),
        ))
    }
}
