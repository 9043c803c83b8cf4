//! `vulns REF` and `gate REF`: the vulnerability scan attached to an image
//! (cosign vuln or in-toto vulns attestations in the registry, or with
//! `--github-attestations` in GitHub's attestations API; GitHub has no
//! vulnerability endpoint), and a pass-or-block decision on it that fails
//! closed. With `--key` only scans whose attestation verifies count: the
//! others are shown as ignored, and with none verified the gate exits 8.

use ghcr::packages::{
    AttestationsApi, Error as PackagesError, GateResult, IgnoredAttestation, PackagesClient,
    security_gate,
};
use ghcr::trust::Policy;
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
/// GitHub's attestations API when `github` is set and the registry has none),
/// and under `policy` the attestations left out because they did not verify.
async fn newest_report(
    context: &Context,
    reference: &Reference,
    org: bool,
    github: bool,
    policy: Option<Policy>,
) -> anyhow::Result<(VulnerabilityReport, Vec<IgnoredAttestation>)> {
    let client = &context.client;
    let attestations_api = if github {
        AttestationsApi::Consult
    } else {
        AttestationsApi::Skip
    };
    let mut builder = PackagesClient::builder(client.transport().clone())
        .api_base(client.config().api_base())
        .registry_host(reference.registry())
        .registry(client.registry().clone())
        .attestations_api(attestations_api);
    if let Some(policy) = policy {
        builder = builder.verify_with(policy);
    }
    let packages = builder.build()?;
    let digest = client.registry().resolve_digest(reference).await?;
    let owner = if org {
        Owner::org(reference.owner())
    } else {
        Owner::user(reference.owner())
    };
    let scans = packages
        .vulnerability_scans(&owner, reference.package_name(), &digest)
        .await?;
    let Some(report) = scans.reports.into_iter().next() else {
        return Err(failure(
            Code::NotFound,
            format!("no vulnerability report for {reference}"),
        ));
    };
    Ok((report, scans.ignored))
}

/// A line per ignored attestation.
fn ignored_lines(ignored: &[IgnoredAttestation]) -> String {
    let mut text = String::new();
    for entry in ignored {
        text.push_str("\nignored  ");
        text.push_str(&entry.to_string());
    }
    text
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
    let signature = match (&source.signer, source.signature_verified) {
        (Some(signer), true) => format!("signature verified: {signer}"),
        (None, true) => "signature verified".to_owned(),
        _ => "signature not verified".to_owned(),
    };
    format!(
        "scanned by {scanner}{when} ({} in {}; {signature})",
        source.format, source.predicate_type
    )
}

pub(crate) async fn vulns(setup: Setup, args: &VulnsArgs) -> anyhow::Result<()> {
    let min = severity(&args.min_severity)?;
    let reference = setup.reference(&args.reference)?;
    let policy = args.policy.optional()?;
    let context = setup.connect(&[reference.registry()])?;
    let (report, ignored) = newest_report(
        &context,
        &reference,
        args.org,
        args.github_attestations,
        policy,
    )
    .await?;
    let shown: Vec<&Vulnerability> = report.at_least(min).collect();
    context.out.result(
        || {
            let counts: Vec<String> = report
                .counts()
                .iter()
                .map(|(severity, count)| format!("{count} {}", severity.as_str()))
                .collect();
            let head = format!(
                "{reference} {}: {} finding(s): {}\n{}{}",
                report.subject,
                report.vulnerabilities.len(),
                counts.join(", "),
                source_line(&report),
                ignored_lines(&ignored)
            );
            with_findings(head, shown.iter().copied())
        },
        || {
            json!({
                "reference": reference.to_string(),
                "subject": report.subject.as_str(),
                "min_severity": min.as_str(),
                "source": report.source,
                "ignored": ignored,
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
    let policy = args.policy.optional()?;
    let context = setup.connect(&[reference.registry()])?;
    let found = newest_report(
        &context,
        &reference,
        args.org,
        args.github_attestations,
        policy,
    )
    .await;
    let (report, ignored) = match found {
        Ok(found) => found,
        Err(error) => return gate_without_report(&context, &reference, max, error),
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
                    "passed: no finding at {} or worse in {reference} {}\n{}{}",
                    max.as_str(),
                    report.subject,
                    source_line(&report),
                    ignored_lines(&ignored)
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
                "signature_verified": report.source.signature_verified,
                "signer": report.source.signer,
                "ignored": ignored,
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

/// A gate with no report to decide on fails closed: blocked (exit 7) when
/// no scan is attached, not verified (exit 8) when under a policy none of
/// the attached scans verified; other errors stay errors.
fn gate_without_report(
    context: &Context,
    reference: &Reference,
    max: Severity,
    error: anyhow::Error,
) -> anyhow::Result<()> {
    let not_verified = error.chain().find_map(|cause| match cause.downcast_ref() {
        Some(PackagesError::ScansNotVerified { ignored, .. }) => Some(ignored.clone()),
        _ => None,
    });
    if let Some(ignored) = not_verified {
        let message = format!(
            "blocked: no vulnerability scan of {reference} verified with the given key(s) (the gate fails closed); {} ignored",
            ignored.len()
        );
        context.out.result(
            || format!("{message}{}", ignored_lines(&ignored)),
            || {
                json!({
                    "reference": reference.to_string(),
                    "fail_on": max.as_str(),
                    "decision": "blocked",
                    "reason": "not_verified",
                    "signature_verified": false,
                    "ignored": ignored,
                    "findings": [],
                })
            },
        );
        context.finish()?;
        return Err(reported(Code::NotVerified, message));
    }
    if crate::exit::classify(&error) != Code::NotFound {
        return Err(error);
    }
    let message =
        format!("blocked: no vulnerability data for {reference} (the gate fails closed): {error}");
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
    Err(reported(Code::Blocked, message))
}
