//! `cleanup OWNER --package GLOB...`: one policy over many packages. One
//! plan (packages planned a few at once), one report, and with `--yes` one
//! journal folder holding a journal per package, every one written before
//! the first DELETE, so `--resume DIR` finishes a run cut short anywhere
//! and `versions restore --journal DIR` undoes all of it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ghcr::packages::{
    CleanupPlan, CleanupReport, Journal, JournalSummary, PackageSelection, RetentionPolicy,
};
use ghcr::types::Owner;
use serde_json::{Value, json};

use super::cleanup::{plan_json, plan_text, policy, report_json, report_text, stopped};
use super::versions::failed_after_result;
use crate::cli::CleanupArgs;
use crate::context::{Context, Setup};
use crate::exit::{Code, failure, usage};

/// What one run over many packages came to.
#[derive(Default)]
struct Outcome {
    plans: Vec<CleanupPlan>,
    /// Whether `--delete-package` was given.
    delete_package: bool,
    /// Packages deleted whole.
    deleted_packages: Vec<super::whole::Deleted>,
    reports: Vec<CleanupReport>,
    errors: Vec<(String, String)>,
}

impl Outcome {
    fn deleted(&self) -> usize {
        self.reports
            .iter()
            .map(|r| r.deleted().len())
            .sum::<usize>()
            + self
                .deleted_packages
                .iter()
                .map(|d| d.versions)
                .sum::<usize>()
    }

    fn text(&self, journal: Option<&Path>) -> String {
        let mut parts: Vec<String> = self
            .plans
            .iter()
            .map(|plan| {
                let note = super::whole::plan_note(plan, self.delete_package);
                [Some(plan_text(plan)), note]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        for deleted in &self.deleted_packages {
            parts.push(deleted.text());
        }
        for report in &self.reports {
            parts.push(format!(
                "package {}: {}",
                report.package,
                report_text(report)
            ));
        }
        for (package, error) in &self.errors {
            parts.push(format!("package {package} skipped: {error}"));
        }
        let to_delete: usize = self.plans.iter().map(|p| p.to_delete().count()).sum();
        let mut summary = format!(
            "{} package(s): {} version(s) to delete",
            self.plans.len() + self.errors.len(),
            to_delete
        );
        if !self.reports.is_empty() {
            let _ = write!(summary, ", {} deleted", self.deleted());
        }
        if !self.errors.is_empty() {
            let _ = write!(
                summary,
                ", {} package(s) could not be planned",
                self.errors.len()
            );
        }
        parts.push(summary);
        if let Some(journal) = journal {
            parts.push(format!(
                "journal: {dir}\nundo (within 30 days): ghcr versions restore --journal {dir}",
                dir = journal.display()
            ));
        }
        parts.join("\n\n")
    }

    fn json(&self, executed: bool, journal: Option<&Path>) -> Value {
        json!({
            "executed": executed,
            "plans": self.plans.iter().map(plan_json).collect::<Vec<_>>(),
            "reports": self.reports.iter().map(report_json).collect::<Vec<_>>(),
            "packages_deleted": self.deleted_packages.iter().map(super::whole::Deleted::json).collect::<Vec<_>>(),
            "errors": self.errors.iter().map(|(package, error)| json!({"package": package, "error": error})).collect::<Vec<_>>(),
            "deleted": self.deleted(),
            "journal": journal.map(|dir| dir.display().to_string()),
            "restore": journal.map(|dir| format!("ghcr versions restore --journal {}", dir.display())),
        })
    }

    /// The failure the run calls for, after its result.
    fn finish(self, context: &Context) -> anyhow::Result<()> {
        context.finish()?;
        let unfinished = self.reports.iter().filter(|r| !r.is_complete()).count();
        if self.errors.is_empty() && unfinished == 0 {
            return Ok(());
        }
        let mut reasons: Vec<String> = self
            .errors
            .iter()
            .map(|(package, error)| format!("package {package} could not be planned: {error}"))
            .collect();
        if unfinished > 0 {
            reasons.push(format!(
                "{unfinished} package(s) did not finish; run the same command with --resume to go on once the cause is fixed"
            ));
        }
        Err(failed_after_result(
            context,
            Code::Other,
            reasons.join("\n"),
        ))
    }
}

/// `cleanup OWNER --package GLOB... [POLICY] [--yes [--journal DIR | --resume DIR]]`.
pub(crate) async fn run(setup: Setup, args: &CleanupArgs, login: &str) -> anyhow::Result<()> {
    let selection = PackageSelection::parse(&args.packages).map_err(|e| usage(e.to_string()))?;
    let policy = policy(args)?;
    let context = setup.connect(&[])?;
    let owner = context.owner(login, args.kind).await?;
    if let Some(dir) = &args.resume {
        return resume(&context, dir, &owner, &selection, &policy).await;
    }
    let planned = context
        .client
        .packages()
        .plan_selected(&owner, &selection, &policy)
        .await?;
    let mut outcome = Outcome {
        delete_package: args.delete_package,
        ..Outcome::default()
    };
    for (package, plan) in planned {
        match plan {
            Ok(plan) => outcome.plans.push(plan),
            Err(error) => outcome.errors.push((package, error.to_string())),
        }
    }
    if outcome.plans.is_empty() && outcome.errors.is_empty() {
        return Err(failure(
            Code::NotFound,
            format!(
                "no container package of {owner} matches `{selection}`; `ghcr packages ls {login}` lists them"
            ),
        ));
    }
    if !args.yes {
        context
            .out
            .result(|| outcome.text(None), || outcome.json(false, None));
        let count: usize = outcome.plans.iter().map(|p| p.to_delete().count()).sum();
        if !args.dry_run && count > 0 && !context.out.is_json() {
            context.out.note(format!(
                "nothing was deleted: run again with --yes to delete {count} version(s)"
            ));
        }
        return outcome.finish(&context);
    }
    let dir = match &args.journal {
        Some(dir) => dir.clone(),
        None => super::journal::default_path(&owner, "packages")?.with_extension(""),
    };
    std::fs::create_dir_all(&dir).map_err(|err| {
        usage(format!(
            "the journal folder {} could not be created ({err}); name another with --journal DIR",
            dir.display()
        ))
    })?;
    let whole = |plan: &CleanupPlan| args.delete_package && plan.deletes_everything();
    // Every journal first: a run killed before a package's turn still
    // leaves that package's plan for --resume.
    let mut journals = Vec::new();
    for plan in &outcome.plans {
        journals.push(if !whole(plan) && plan.to_delete().next().is_some() {
            Some(Journal::create(&journal_file(&dir, &plan.package), plan)?)
        } else {
            None
        });
    }
    context.out.note(format!(
        "journal folder: {dir} (if this run is cut short, run the same command with `--resume {dir}` to go on, or `ghcr versions restore --journal {dir}` to undo it)",
        dir = dir.display()
    ));
    let packages = context.client.packages();
    let (mut deleted_packages, mut reports) = (Vec::new(), Vec::new());
    for (plan, mut journal) in outcome.plans.iter().zip(journals) {
        if whole(plan) {
            // A marker goes in the folder before the DELETE, for the undo.
            if let Some(deleted) =
                super::whole::delete_if_all_go(&context, plan, Some(&dir)).await?
            {
                deleted_packages.push(deleted);
                continue;
            }
            if plan.to_delete().next().is_some() {
                journal = Some(Journal::create(&journal_file(&dir, &plan.package), plan)?);
            }
        }
        let Some(mut journal) = journal else {
            continue;
        };
        let report = packages
            .execute_cleanup_with_journal(plan, &mut journal, stopped(&context))
            .await;
        let cut_short = report.was_stopped();
        reports.push(report);
        if cut_short {
            break;
        }
    }
    outcome.deleted_packages = deleted_packages;
    outcome.reports = reports;
    context.out.result(
        || outcome.text(Some(&dir)),
        || outcome.json(true, Some(&dir)),
    );
    outcome.finish(&context)
}

/// A package's journal in the run's folder (`team/app` → `team_app.jsonl`).
fn journal_file(dir: &Path, package: &str) -> PathBuf {
    dir.join(format!("{}.jsonl", package.replace('/', "_")))
}

/// The journals of a run folder, in name order.
pub(crate) fn journals_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| {
            usage(format!(
                "the journal folder {} cannot be read: {err}",
                dir.display()
            ))
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// `--resume DIR`: each package's journal carried on where it stopped.
async fn resume(
    context: &Context,
    dir: &Path,
    owner: &Owner,
    selection: &PackageSelection,
    policy: &RetentionPolicy,
) -> anyhow::Result<()> {
    let packages = context.client.packages();
    let mut outcome = Outcome::default();
    for path in journals_in(dir)? {
        let summary = JournalSummary::read(&path)?;
        if !selection.matches(&summary.package) {
            return Err(usage(format!(
                "journal {} is for package {}, which `{selection}` does not choose; resume with the flags of the run that wrote it",
                path.display(),
                summary.package
            )));
        }
        let report = packages
            .resume_cleanup_until(&path, owner, &summary.package, policy, stopped(context))
            .await
            .map_err(super::journal::journal_error)?;
        outcome.reports.push(report);
    }
    context
        .out
        .result(|| outcome.text(Some(dir)), || outcome.json(true, Some(dir)));
    outcome.finish(context)
}
