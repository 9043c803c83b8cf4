//! `sync SRC DST`: every tag of a repository (or those a pattern or
//! `--newest` chooses) copied to another repository, within or across
//! registries, with its signatures and attestations; tags the target
//! already holds at the same digest are skipped, so a re-run copies only
//! what changed. `--dry-run` shows the plan with the bytes each tag
//! would send at most; a run prints `[done/total] TAG copied` per tag on
//! a terminal, beside the blobs' bars.

use std::collections::HashMap;
use std::fmt::Write as _;

use futures_util::StreamExt as _;
use ghcr::registry::{SyncAction, SyncPlan, SyncReport, TransferOptions};
use serde_json::{Value, json};

use super::sync_pairs::{self, Pair};
use super::versions::failed_after_result;
use crate::cli::SyncArgs;
use crate::context::Setup;
use crate::exit::{Code, usage};
use crate::output::bytes;

/// The bytes each tag to copy references (`--dry-run` only: one manifest
/// read per platform of each image, which a real run does not need).
type Sizes = HashMap<String, u64>;

async fn sizes(registry: &ghcr::registry::RegistryClient, plan: &SyncPlan) -> Sizes {
    futures_util::stream::iter(plan.to_copy())
        .map(|entry| async move {
            let image = plan.source.with_digest(entry.digest.clone());
            let size = registry.image_size(&image).await.ok()?;
            Some((entry.tag.to_string(), size.total))
        })
        .buffered(8)
        .filter_map(std::future::ready)
        .collect()
        .await
}

fn plan_text(plan: &SyncPlan, sizes: &Sizes) -> String {
    let mut text = format!(
        "sync {} to {}: copy {} of {} tag(s)",
        plan.source,
        plan.target,
        plan.to_copy().count(),
        plan.entries.len()
    );
    if !sizes.is_empty() {
        let total: u64 = sizes.values().sum();
        let how = if plan.mounts {
            "blobs mounted within the registry"
        } else {
            "blobs streamed from source to target"
        };
        let _ = write!(
            text,
            ", up to {} ({how}; those the target has are skipped)",
            bytes(total)
        );
    }
    for tag in &plan.unmatched {
        let _ = write!(text, "\n  skip {tag}  (no child for the chosen platforms)");
    }
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
        let size = sizes
            .get(entry.tag.as_str())
            .map(|size| format!(", {}", bytes(*size)))
            .unwrap_or_default();
        let _ = write!(
            text,
            "\n  {action} {}  {}  ({why}{size})",
            entry.tag, entry.digest
        );
    }
    text
}

fn plan_json(plan: &SyncPlan, sizes: &Sizes) -> Value {
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
                "bytes": sizes.get(e.tag.as_str()),
            })
        })
        .collect();
    json!({
        "source": plan.source.to_string(),
        "target": plan.target.to_string(),
        "mounts": plan.mounts,
        "unmatched": plan.unmatched.iter().map(|t| t.as_str().to_owned()).collect::<Vec<_>>(),
        "tags": entries,
    })
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

/// The pairs to run: the config file's, or the one the arguments name.
fn pairs(setup: &Setup, args: &SyncArgs) -> anyhow::Result<Vec<Pair>> {
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path).map_err(|error| {
            usage(format!(
                "the sync config {} cannot be read: {error}",
                path.display()
            ))
        })?;
        return sync_pairs::parse_file(&text, setup.registry())
            .map_err(|error| usage(format!("sync config {}: {error}", path.display())));
    }
    let (Some(source), Some(target)) = (&args.source, &args.target) else {
        return Err(usage("give SRC and DST, or --config FILE"));
    };
    let entry = sync_pairs::Entry {
        source: source.clone(),
        target: target.clone(),
        tags: args.tags.clone(),
        semver: args.semver.clone(),
        newest: args.newest,
        no_referrers: args.no_referrers,
        platforms: args.platforms.clone(),
        concurrency: args.concurrency,
    };
    let pair = sync_pairs::pair(entry, setup.registry()).map_err(usage)?;
    Ok(vec![pair])
}

pub(crate) async fn run(setup: Setup, args: &SyncArgs) -> anyhow::Result<()> {
    let pairs = pairs(&setup, args)?;
    let mut hosts: Vec<&str> = Vec::new();
    for pair in &pairs {
        hosts.extend([pair.source.registry(), pair.target.registry()]);
    }
    let context = setup.connect(&hosts)?;
    let registry = context.client.registry();
    let mut texts = Vec::new();
    let mut values = Vec::new();
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let mut failed_tags = 0;
    for pair in &pairs {
        let plan = match registry
            .plan_sync(&pair.source, &pair.target, &pair.options)
            .await
        {
            Ok(plan) => plan,
            Err(error) if args.config.is_some() => {
                texts.push(format!(
                    "sync {} to {} could not be planned: {error}",
                    pair.source, pair.target
                ));
                values.push(json!({"source": pair.source.to_string(), "target": pair.target.to_string(), "error": error.to_string()}));
                errors.push(error.into());
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        if args.dry_run {
            let sizes = sizes(registry, &plan).await;
            texts.push(plan_text(&plan, &sizes));
            values.push(json!({"plan": plan_json(&plan, &sizes), "executed": false}));
            continue;
        }
        let report = registry
            .run_sync(
                &plan,
                &TransferOptions::new().progress(crate::progress::bars()),
            )
            .await;
        failed_tags += report.failed.len();
        let sizes = Sizes::new();
        texts.push(format!(
            "{}\n{}",
            plan_text(&plan, &sizes),
            report_text(&report)
        ));
        values.push(
            json!({"plan": plan_json(&plan, &sizes), "executed": true, "report": report_json(&report)}),
        );
    }
    context.out.result(
        || texts.join("\n\n"),
        || match (args.config.is_some(), values.as_slice()) {
            (false, [only]) => only.clone(),
            _ => json!({"pairs": values}),
        },
    );
    context.finish()?;
    if let Some(first) = errors.first() {
        return Err(failed_after_result(
            &context,
            crate::exit::classify(first),
            format!(
                "{} sync pair(s) could not be planned; the first: {first:#}",
                errors.len()
            ),
        ));
    }
    if failed_tags == 0 {
        return Ok(());
    }
    Err(failed_after_result(
        &context,
        Code::Other,
        format!(
            "{failed_tags} tag(s) failed to sync and their target tags were left as they were; run the same command again to finish"
        ),
    ))
}
