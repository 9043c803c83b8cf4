//! `cleanup OWNER/PKG`: a retention policy from flags, the plan, and with
//! `--yes` its execution (paced, re-checked, restorable for 30 days; Ctrl-C
//! stops it between deletions and still prints the report). Each deletion
//! is recorded in a journal, so a run cut short (even by kill -9) can be
//! resumed with `--resume FILE` or undone with `versions restore --journal`.

use std::fmt::Write as _;

use ghcr::packages::{CleanupPlan, CleanupReport, Decision, Journal, Outcome, RetentionPolicy};
use ghcr::types::{Owner, PackageVersionId};
use serde_json::{Value, json};

use crate::cli::CleanupArgs;
use crate::context::{Context, Setup, owner_and_package};
use crate::exit::{Code, usage};
use crate::output::{list, time};

/// The policy the flags describe.
pub(crate) fn policy(args: &CleanupArgs) -> anyhow::Result<RetentionPolicy> {
    let mut builder = RetentionPolicy::builder();
    if let Some(count) = args.keep_newest {
        builder = builder.keep_newest(count);
    }
    for pattern in &args.keep_tags {
        builder = builder.keep_tags(pattern);
    }
    if let Some(age) = &args.keep_newer_than {
        builder = builder.keep_newer_than(crate::duration::parse(age).map_err(usage)?);
    }
    if args.only_untagged {
        builder = builder.only_untagged();
    }
    for pattern in &args.only_tags_matching {
        builder = builder.only_tags_matching(pattern);
    }
    Ok(builder.build()?)
}

/// One line per version: what the plan does and why.
pub(crate) fn plan_text(plan: &CleanupPlan) -> String {
    let mut text = format!(
        "plan for package {} of {}: delete {} of {} version(s)",
        plan.package,
        plan.owner,
        plan.to_delete().count(),
        plan.entries.len()
    );
    for entry in &plan.entries {
        let (action, reason) = match &entry.decision {
            Decision::Delete(reason) => ("delete", reason.to_string()),
            Decision::Keep(reason) => ("keep  ", reason.to_string()),
            _ => ("keep  ", String::new()),
        };
        let _ = write!(
            text,
            "\n  {action} {}  {}  tags: {}  ({reason})",
            entry.version.id,
            entry.version.name,
            list(entry.version.tags())
        );
    }
    text
}

/// The plan as JSON.
pub(crate) fn plan_json(plan: &CleanupPlan) -> Value {
    let entries: Vec<Value> = plan
        .entries
        .iter()
        .map(|entry| {
            let (action, reason) = match &entry.decision {
                Decision::Delete(reason) => ("delete", reason.to_string()),
                Decision::Keep(reason) => ("keep", reason.to_string()),
                _ => ("keep", String::new()),
            };
            json!({
                "id": entry.version.id.0,
                "digest": entry.version.name,
                "tags": entry.version.tags(),
                "created_at": time(entry.version.created_at),
                "action": action,
                "reason": reason,
            })
        })
        .collect();
    json!({
        "owner": plan.owner.to_string(),
        "package": plan.package,
        "planned_at": time(plan.planned_at),
        "deletes_everything": plan.deletes_everything(),
        "versions": entries,
    })
}

/// The command that undoes deletions: `ghcr versions restore OWNER/PKG IDS`.
pub(crate) fn restore_command(owner: &Owner, package: &str, ids: &[PackageVersionId]) -> String {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let (login, org) = owner_words(owner);
    format!(
        "ghcr versions restore {login}/{package} {}{org}",
        ids.join(" ")
    )
}

/// How a command names `owner`: its login, and ` --org` for an organization.
pub(crate) fn owner_words(owner: &Owner) -> (&str, &'static str) {
    let org = if matches!(owner, Owner::Org(_)) {
        " --org"
    } else {
        ""
    };
    (owner.login().unwrap_or("OWNER"), org)
}

/// What a run did, in a few lines: counts, failures, and how to undo.
pub(crate) fn report_text(report: &CleanupReport) -> String {
    let hint = report.restore_hint();
    let mut text = report.headline();
    for failure in report.failed() {
        let _ = write!(
            text,
            "\n  version {} failed: {}",
            failure.id, failure.reason
        );
    }
    if !hint.ids.is_empty() {
        let _ = write!(
            text,
            "\nundo before {}: {}",
            time(hint.restorable_until),
            restore_command(&report.owner, &report.package, &hint.ids)
        );
    }
    if !hint.uncertain.is_empty() {
        let uncertain: Vec<String> = hint.uncertain.iter().map(ToString::to_string).collect();
        let _ = write!(
            text,
            "\n(the answer to deleting {} was lost, so the undo includes them; restoring a version that was not deleted changes nothing)",
            uncertain.join(", ")
        );
    }
    text
}

/// The report as JSON.
pub(crate) fn report_json(report: &CleanupReport) -> Value {
    let ids = |ids: &[PackageVersionId]| ids.iter().map(|id| id.0).collect::<Vec<_>>();
    let hint = report.restore_hint();
    let failed: Vec<Value> = report
        .failed()
        .iter()
        .map(|f| {
            json!({"id": f.id.0, "status": f.status, "reason": f.reason, "may_have_applied": f.may_have_applied})
        })
        .collect();
    let skipped: Vec<Value> = report
        .entries
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Skipped { reason } => Some(json!({"id": e.version.id.0, "reason": reason})),
            Outcome::Stopped => Some(json!({"id": e.version.id.0, "reason": "stopped"})),
            _ => None,
        })
        .collect();
    json!({
        "deleted": ids(&report.deleted()),
        "kept": ids(&report.kept()),
        "failed": failed,
        "skipped": skipped,
        "complete": report.is_complete(),
        "restore": restore_command(&report.owner, &report.package, &hint.ids),
        "restore_uncertain": ids(&hint.uncertain),
        "restorable_until": time(hint.restorable_until),
    })
}

pub(crate) async fn run(setup: Setup, args: &CleanupArgs) -> anyhow::Result<()> {
    if !args.package.contains('/') {
        if args.packages.is_empty() {
            return Err(usage(format!(
                "`{}` names no package: give OWNER/PACKAGE, or OWNER with --package GLOB (`--package '*'` for every package)",
                args.package
            )));
        }
        return super::cleanups::run(setup, args, &args.package).await;
    }
    if !args.packages.is_empty() {
        return Err(usage(
            "give OWNER/PACKAGE or OWNER with --package GLOB, not both",
        ));
    }
    let (login, package) = owner_and_package(&args.package)?;
    let policy = policy(args)?;
    let context = setup.connect(&[])?;
    let owner = context.owner(login, args.kind).await?;
    if let Some(path) = &args.resume {
        return super::journal::resume(&context, path, &owner, package, &policy).await;
    }
    let packages = context.client.packages();
    let plan = packages.plan_cleanup(&owner, package, &policy).await?;
    if !args.yes {
        context.out.result(
            || {
                let note = super::whole::plan_note(&plan, args.delete_package);
                [Some(plan_text(&plan)), note]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("\n")
            },
            || json!({"plan": plan_json(&plan), "executed": false}),
        );
        let count = plan.to_delete().count();
        if !args.dry_run && count > 0 && !context.out.is_json() {
            context.out.note(format!(
                "nothing was deleted: run again with --yes to delete {count} version(s)"
            ));
        }
        return context.finish();
    }
    if args.delete_package
        && let Some(deleted) = super::whole::delete_if_all_go(&context, &plan, None).await?
    {
        context.out.result(
            || format!("{}\n{}", plan_text(&plan), deleted.text()),
            || json!({"plan": plan_json(&plan), "executed": true, "package_deleted": deleted.json()}),
        );
        return context.finish();
    }
    let path = match &args.journal {
        Some(path) => path.clone(),
        None => super::journal::default_path(&owner, package)?,
    };
    let mut journal = Journal::create(&path, &plan)?;
    context.out.note(super::journal::started_note(&path));
    let report = packages
        .execute_cleanup_with_journal(&plan, &mut journal, stopped(&context))
        .await;
    context.out.result(
        || {
            format!(
                "{}\n{}\njournal: {}",
                plan_text(&plan),
                report_text(&report),
                path.display()
            )
        },
        || {
            json!({
                "plan": plan_json(&plan),
                "executed": true,
                "report": report_json(&report),
                "journal": path.display().to_string(),
            })
        },
    );
    context.finish()?;
    unfinished(&context, &report)
}

/// Ctrl-C or SIGTERM: stops the run between deletions; the one under way
/// completes, and the report still says how to undo what was done.
pub(crate) async fn stopped(context: &Context) {
    super::serve::signalled().await;
    context
        .out
        .note("stopping: the deletion under way completes, no other starts");
}

/// The failure a report that did not finish calls for, after its result.
pub(crate) fn unfinished(context: &Context, report: &CleanupReport) -> anyhow::Result<()> {
    if report.is_complete() {
        return Ok(());
    }
    let message = format!(
        "the cleanup did not finish: {} failed, {} not attempted; run it again once the cause is fixed",
        report.failed().len(),
        report.skipped().len()
    );
    Err(super::versions::failed_after_result(
        context,
        Code::Other,
        message,
    ))
}
