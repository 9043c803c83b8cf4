//! The cleanup journal on the command line: where it goes by default,
//! `cleanup --resume FILE`, and `versions restore --journal FILE`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ghcr::packages::{Error as PackagesError, JournalSummary, RetentionPolicy};
use ghcr::types::{Owner, PackageVersionId};
use serde_json::{Value, json};

use super::cleanup::{report_json, report_text, stopped, unfinished};
use super::versions::failed_after_result;
use crate::context::{Context, Setup};
use crate::exit::{Code, usage};
use crate::output::time;

/// `$XDG_STATE_HOME/ghcr/cleanup` (else `~/.local/state/ghcr/cleanup`),
/// created if missing, and a new name in it for this run.
pub(crate) fn default_path(owner: &Owner, package: &str) -> anyhow::Result<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|dir| !dir.is_empty())
                .map(|home| PathBuf::from(home).join(".local/state"))
        })
        .ok_or_else(|| {
            usage("neither XDG_STATE_HOME nor HOME is set: name the journal with --journal FILE")
        })?;
    let folder = state.join("ghcr/cleanup");
    std::fs::create_dir_all(&folder).with_context(|| {
        format!(
            "the journal folder {} could not be created; name another with --journal FILE",
            folder.display()
        )
    })?;
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let login = owner.login().unwrap_or("user");
    let name = format!(
        "{login}-{}-{stamp}-{}.jsonl",
        package.replace('/', "_"),
        std::process::id()
    );
    Ok(folder.join(name))
}

/// What to do with the journal if the run is cut short.
pub(crate) fn started_note(path: &Path) -> String {
    format!(
        "journal: {path} (if this run is cut short, run the same command with `--resume {path}` to go on, or `ghcr versions restore --journal {path}` to undo it)",
        path = path.display()
    )
}

/// A journal's lists as JSON.
fn summary_json(path: &Path, summary: &JournalSummary) -> Value {
    let ids = |ids: &[PackageVersionId]| ids.iter().map(|id| id.0).collect::<Vec<_>>();
    let failed: Vec<Value> = summary
        .failed
        .iter()
        .map(|f| json!({"id": f.id.0, "status": f.status, "reason": f.reason}))
        .collect();
    json!({
        "path": path.display().to_string(),
        "deleted": ids(&summary.deleted),
        "possibly_deleted": ids(&summary.possibly_deleted),
        "failed": failed,
        "already_gone": ids(&summary.already_gone),
        "not_attempted": ids(&summary.not_attempted),
        "restore": format!("ghcr versions restore --journal {}", path.display()),
        "restorable_until": time(summary.restore_hint().restorable_until),
    })
}

/// A journal's counts in a line, and its undo.
fn summary_text(path: &Path, summary: &JournalSummary) -> String {
    format!(
        "journal {}: {} deleted, {} possibly deleted, {} failed, {} not attempted in all runs\nundo before {}: ghcr versions restore --journal {}",
        path.display(),
        summary.deleted.len(),
        summary.possibly_deleted.len(),
        summary.failed.len(),
        summary.not_attempted.len(),
        time(summary.restore_hint().restorable_until),
        path.display()
    )
}

/// A journal for another package or policy is a usage error.
fn journal_error(error: PackagesError) -> anyhow::Error {
    match error {
        PackagesError::JournalMismatch { .. } => usage(error.to_string()),
        other => other.into(),
    }
}

/// `cleanup OWNER/PKG POLICY --yes --resume FILE`.
pub(crate) async fn resume(
    context: &Context,
    path: &Path,
    owner: &Owner,
    package: &str,
    policy: &RetentionPolicy,
) -> anyhow::Result<()> {
    let report = context
        .client
        .packages()
        .resume_cleanup_until(path, owner, package, policy, stopped(context))
        .await
        .map_err(journal_error)?;
    let summary = JournalSummary::read(path)?;
    context.out.result(
        || {
            format!(
                "resumed {}\n{}\n{}",
                path.display(),
                report_text(&report),
                summary_text(path, &summary)
            )
        },
        || {
            json!({
                "executed": true,
                "resumed": true,
                "report": report_json(&report),
                "journal": summary_json(path, &summary),
            })
        },
    );
    context.finish()?;
    unfinished(context, &report)
}

/// `versions restore --journal FILE`: restores every version the journal
/// shows deleted or possibly deleted. One that was not deleted after all
/// (GitHub's 404, and the version is active) is reported as such, not as a
/// failure: restoring it changes nothing.
pub(crate) async fn restore(setup: Setup, path: &Path) -> anyhow::Result<()> {
    let summary = JournalSummary::read(path)?;
    let context = setup.connect(&[])?;
    let packages = context.client.packages();
    let (owner, package) = (&summary.owner, summary.package.as_str());
    let undo = summary.undo();
    let restored = packages.restore_versions(owner, package, &undo).await;
    let mut not_deleted = Vec::new();
    let mut failed = Vec::new();
    for failure in restored.failed {
        let active = failure.status == Some(404)
            && packages
                .get_version(owner, package, failure.id)
                .await
                .is_ok_and(|version| version.deleted_at.is_none());
        if active {
            not_deleted.push(failure.id);
        } else {
            failed.push(failure);
        }
    }
    let ids = |ids: &[PackageVersionId]| ids.iter().map(|id| id.0).collect::<Vec<_>>();
    if context.out.is_json() {
        let failures: Vec<Value> = failed
            .iter()
            .map(|f| json!({"id": f.id.0, "status": f.status, "error": f.reason}))
            .collect();
        context.out.value(&json!({
            "journal": path.display().to_string(),
            "restored": ids(&restored.restored),
            "not_deleted": ids(&not_deleted),
            "possibly_deleted": ids(&summary.possibly_deleted),
            "failed": failures,
        }));
    } else {
        for id in &restored.restored {
            context.out.line(format!("restored version {id}"));
        }
        for id in &not_deleted {
            context.out.line(format!(
                "version {id} was not deleted after all: nothing to restore"
            ));
        }
    }
    if !summary.possibly_deleted.is_empty() && !context.out.is_json() {
        let uncertain: Vec<String> = summary
            .possibly_deleted
            .iter()
            .map(ToString::to_string)
            .collect();
        context.out.note(format!(
            "version(s) {} may not have been deleted (the run stopped while their DELETE was on its way, or its answer was lost); restoring a version that was not deleted is harmless",
            uncertain.join(", ")
        ));
    }
    if undo.is_empty() && !context.out.is_json() {
        context
            .out
            .note("the journal shows nothing deleted: nothing to restore");
    }
    context.finish()?;
    let Some(first) = failed.first() else {
        return Ok(());
    };
    let code = first.status.map_or(Code::Other, |status| match status {
        401 | 403 => Code::Auth,
        404 => Code::NotFound,
        _ => Code::Other,
    });
    let message = failed
        .iter()
        .map(|f| f.reason.clone())
        .collect::<Vec<_>>()
        .join("\n");
    Err(failed_after_result(&context, code, message))
}
