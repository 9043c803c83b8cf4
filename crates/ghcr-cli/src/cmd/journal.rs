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
pub(crate) fn journal_error(error: PackagesError) -> anyhow::Error {
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

/// What restoring one journal did.
struct JournalRestore {
    path: PathBuf,
    summary: JournalSummary,
    restored: Vec<PackageVersionId>,
    not_deleted: Vec<PackageVersionId>,
    failed: Vec<ghcr::packages::VersionFailure>,
}

impl JournalRestore {
    fn json(&self) -> Value {
        let ids = |ids: &[PackageVersionId]| ids.iter().map(|id| id.0).collect::<Vec<_>>();
        let failures: Vec<Value> = self
            .failed
            .iter()
            .map(|f| json!({"id": f.id.0, "status": f.status, "error": f.reason}))
            .collect();
        json!({
            "journal": self.path.display().to_string(),
            "package": self.summary.package,
            "restored": ids(&self.restored),
            "not_deleted": ids(&self.not_deleted),
            "possibly_deleted": ids(&self.summary.possibly_deleted),
            "failed": failures,
        })
    }
}

/// Restores what one journal shows deleted or possibly deleted.
async fn restore_one(context: &Context, path: &Path, summary: JournalSummary) -> JournalRestore {
    let packages = context.client.packages();
    let (owner, package) = (&summary.owner, summary.package.as_str());
    let restored = packages
        .restore_versions(owner, package, &summary.undo())
        .await;
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
    JournalRestore {
        path: path.to_path_buf(),
        summary,
        restored: restored.restored,
        not_deleted,
        failed,
    }
}

/// `versions restore --journal FILE|DIR`: restores every version the
/// journal (or each journal of a many-package run's folder) shows deleted
/// or possibly deleted. One that was not deleted after all (GitHub's 404,
/// and the version is active) is reported as such, not as a failure:
/// restoring it changes nothing.
pub(crate) async fn restore(setup: Setup, path: &Path) -> anyhow::Result<()> {
    let folder = path.is_dir();
    let paths = if folder {
        super::cleanups::journals_in(path)?
    } else {
        vec![path.to_path_buf()]
    };
    let summaries = paths
        .iter()
        .map(|p| JournalSummary::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let markers = if folder {
        super::whole::markers_in(path)?
    } else {
        Vec::new()
    };
    let context = setup.connect(&[])?;
    // Packages deleted whole first (`cleanup --delete-package`).
    let (mut packages_restored, mut packages_not_deleted, mut package_errors) =
        (Vec::new(), Vec::new(), Vec::new());
    for (owner, package) in &markers {
        match context
            .client
            .packages()
            .restore_package(owner, package)
            .await
        {
            Ok(()) => packages_restored.push(package.clone()),
            Err(error) if error.is_not_found() => packages_not_deleted.push(package.clone()),
            Err(error) => package_errors.push(format!("package {package}: {error}")),
        }
    }
    let mut results = Vec::new();
    for (path, summary) in paths.iter().zip(summaries) {
        results.push(restore_one(&context, path, summary).await);
    }
    if context.out.is_json() {
        let value = match results.as_slice() {
            [only] if !folder => only.json(),
            all => json!({
                "journal": path.display().to_string(),
                "journals": all.iter().map(JournalRestore::json).collect::<Vec<_>>(),
                "packages_restored": packages_restored,
                "packages_not_deleted": packages_not_deleted,
                "package_errors": package_errors,
            }),
        };
        context.out.value(&value);
    } else {
        for package in &packages_restored {
            context.out.line(format!("restored package {package}"));
        }
        for package in &packages_not_deleted {
            context.out.line(format!(
                "package {package} was not deleted (or its name was reused): nothing to restore"
            ));
        }
    }
    for result in &results {
        report_restored(&context, result, folder);
    }
    if folder && results.is_empty() && markers.is_empty() && !context.out.is_json() {
        context.out.note(format!(
            "{} holds no journal: nothing to restore",
            path.display()
        ));
    }
    context.finish()?;
    let failed: Vec<&ghcr::packages::VersionFailure> =
        results.iter().flat_map(|r| &r.failed).collect();
    if failed.is_empty() && !package_errors.is_empty() {
        return Err(failed_after_result(
            &context,
            Code::Other,
            package_errors.join("\n"),
        ));
    }
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

/// One journal's restore, in lines (named by package for a folder).
fn report_restored(context: &Context, result: &JournalRestore, folder: bool) {
    if context.out.is_json() {
        return;
    }
    let of = if folder {
        format!(" of {}", result.summary.package)
    } else {
        String::new()
    };
    for id in &result.restored {
        context.out.line(format!("restored version {id}{of}"));
    }
    for id in &result.not_deleted {
        context.out.line(format!(
            "version {id}{of} was not deleted after all: nothing to restore"
        ));
    }
    let uncertain = &result.summary.possibly_deleted;
    if !uncertain.is_empty() {
        let uncertain: Vec<String> = uncertain.iter().map(ToString::to_string).collect();
        context.out.note(format!(
            "version(s) {}{of} may not have been deleted (the run stopped while their DELETE was on its way, or its answer was lost); restoring a version that was not deleted is harmless",
            uncertain.join(", ")
        ));
    }
    if result.summary.undo().is_empty() {
        context.out.note(format!(
            "the journal {} shows nothing deleted: nothing to restore",
            result.path.display()
        ));
    }
}
