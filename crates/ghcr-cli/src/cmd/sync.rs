//! `sync SRC DST`: every tag of a repository (or those a pattern or
//! `--newest` chooses) copied to another repository, within or across
//! registries, with its signatures and attestations; tags the target
//! already holds at the same digest are skipped, so a re-run copies only
//! what changed. `--dry-run` shows the plan.

use std::fmt::Write as _;

use ghcr::registry::{SyncAction, SyncOptions, SyncPlan, SyncReport, TransferOptions};
use serde_json::{Value, json};

use super::versions::failed_after_result;
use crate::cli::SyncArgs;
use crate::context::Setup;
use crate::exit::Code;
use crate::output::bytes;

fn options(args: &SyncArgs) -> SyncOptions {
    let mut options = SyncOptions::new();
    if let Some(pattern) = &args.tags {
        options = options.tags(pattern);
    }
    if let Some(n) = args.newest {
        options = options.newest(n);
    }
    if args.no_referrers {
        options = options.no_referrers();
    }
    if let Some(images) = args.concurrency {
        options = options.concurrency(images);
    }
    options
}

fn plan_text(plan: &SyncPlan) -> String {
    let mut text = format!(
        "sync {} to {}: copy {} of {} tag(s)",
        plan.source,
        plan.target,
        plan.to_copy().count(),
        plan.entries.len()
    );
    for entry in &plan.entries {
        let action = match entry.action {
            SyncAction::Copy => "copy",
            _ => "skip",
        };
        let why = match (&entry.target_digest, entry.action) {
            (_, SyncAction::Skip) => "the target has it".to_owned(),
            (Some(other), _) => format!("the target's tag is {other}"),
            (None, _) => "the target lacks it".to_owned(),
        };
        let _ = write!(
            text,
            "\n  {action} {}  {}  ({why})",
            entry.tag, entry.digest
        );
    }
    text
}

fn plan_json(plan: &SyncPlan) -> Value {
    let entries: Vec<Value> = plan
        .entries
        .iter()
        .map(|e| {
            json!({
                "tag": e.tag.as_str(),
                "digest": e.digest.as_str(),
                "target_digest": e.target_digest.as_ref().map(|d| d.as_str().to_owned()),
                "attached": e.attached,
                "action": if e.action == SyncAction::Copy { "copy" } else { "skip" },
            })
        })
        .collect();
    json!({"source": plan.source.to_string(), "target": plan.target.to_string(), "tags": entries})
}

fn report_text(report: &SyncReport) -> String {
    let (uploaded, existed, mounted) = report.blob_counts();
    let mut text = format!(
        "copied {} tag(s), skipped {}, failed {}; blobs: {uploaded} uploaded ({}), {existed} already there, {mounted} mounted",
        report.copied.len(),
        report.skipped.len(),
        report.failed.len(),
        bytes(report.bytes_uploaded())
    );
    for (tag, error) in &report.failed {
        let _ = write!(text, "\n  {tag} failed: {error}");
    }
    text
}

fn report_json(report: &SyncReport) -> Value {
    let (uploaded, existed, mounted) = report.blob_counts();
    json!({
        "copied": report.copied.iter().map(|t| json!({
            "tag": t.tag.as_str(),
            "digest": t.digest.as_str(),
            "referrers": t.referrers.iter().map(|d| d.as_str().to_owned()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "skipped": report.skipped.iter().map(|t| t.as_str().to_owned()).collect::<Vec<_>>(),
        "failed": report.failed.iter().map(|(t, e)| json!({"tag": t.as_str(), "error": e.to_string()})).collect::<Vec<_>>(),
        "blobs": {"uploaded": uploaded, "existed": existed, "mounted": mounted},
        "bytes_uploaded": report.bytes_uploaded(),
        "complete": report.is_complete(),
    })
}

pub(crate) async fn run(setup: Setup, args: &SyncArgs) -> anyhow::Result<()> {
    let source = setup.reference(&args.source)?;
    let target = setup.reference(&args.target)?;
    let context = setup.connect(&[source.registry(), target.registry()])?;
    let registry = context.client.registry();
    let plan = registry.plan_sync(&source, &target, &options(args)).await?;
    if args.dry_run {
        context.out.result(
            || plan_text(&plan),
            || json!({"plan": plan_json(&plan), "executed": false}),
        );
        return context.finish();
    }
    let report = registry
        .run_sync(
            &plan,
            &TransferOptions::new().progress(crate::progress::bars()),
        )
        .await;
    context.out.result(
        || format!("{}\n{}", plan_text(&plan), report_text(&report)),
        || json!({"plan": plan_json(&plan), "executed": true, "report": report_json(&report)}),
    );
    context.finish()?;
    if report.is_complete() {
        return Ok(());
    }
    Err(failed_after_result(
        &context,
        Code::Other,
        format!(
            "{} tag(s) failed to sync and their target tags were left as they were; run the same command again to finish",
            report.failed.len()
        ),
    ))
}
