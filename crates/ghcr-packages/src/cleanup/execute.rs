//! Carrying out a plan: one DELETE at a time within the secondary-limit
//! budget, parents before their parts, each outcome reported; a version
//! GitHub refuses to delete keeps what it references.

use std::fmt;

use ghcr_types::{Owner, PackageVersion, PackageVersionId};
use time::OffsetDateTime;

use super::plan::{CleanupPlan, Decision, DeleteReason, KeepReason};
use super::policy::name_tags;
use super::protect::Graph;
use crate::client::{PackagesClient, WRITE_POINTS};
use crate::error::Error;
use crate::pace::Pacer;
use crate::restore::{RestoreHint, VersionFailure};

/// Transport failures in a row after which the run stops.
const MAX_TRANSPORT_FAILURES: usize = 3;

/// What happened to one version.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Deleted now.
    Deleted(DeleteReason),
    /// Already gone when its turn came (a re-run, or someone else).
    AlreadyGone,
    /// Kept, by the plan or because a failed deletion references it.
    Kept(KeepReason),
    /// GitHub (or the network) refused the deletion.
    Failed(VersionFailure),
    /// Not attempted: the run stopped before it.
    Skipped {
        /// Why the run stopped.
        reason: String,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deleted(reason) => write!(f, "deleted: {reason}"),
            Self::AlreadyGone => f.write_str("already deleted"),
            Self::Kept(reason) => write!(f, "kept: {reason}"),
            Self::Failed(failure) => write!(f, "failed: {}", failure.reason),
            Self::Skipped { reason } => write!(f, "not attempted: {reason}"),
        }
    }
}

/// One version in a [`CleanupReport`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReportEntry {
    /// The version, as planned.
    pub version: PackageVersion,
    /// What happened.
    pub outcome: Outcome,
}

/// What a cleanup did. Running the same policy again is safe: the plan is
/// recomputed from what is left, and versions already gone are reported as such.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CleanupReport {
    /// The owner.
    pub owner: Owner,
    /// The package.
    pub package: String,
    /// Every version of the plan, in plan order.
    pub entries: Vec<ReportEntry>,
    /// When the run ended.
    pub finished_at: OffsetDateTime,
}

impl CleanupReport {
    fn ids(&self, wanted: impl Fn(&Outcome) -> bool) -> Vec<PackageVersionId> {
        self.entries
            .iter()
            .filter(|e| wanted(&e.outcome))
            .map(|e| e.version.id)
            .collect()
    }

    /// Versions deleted by this run.
    pub fn deleted(&self) -> Vec<PackageVersionId> {
        self.ids(|o| matches!(o, Outcome::Deleted(_)))
    }

    /// Versions kept.
    pub fn kept(&self) -> Vec<PackageVersionId> {
        self.ids(|o| matches!(o, Outcome::Kept(_)))
    }

    /// Versions whose deletion failed, with why.
    pub fn failed(&self) -> Vec<&VersionFailure> {
        self.entries
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::Failed(failure) => Some(failure),
                _ => None,
            })
            .collect()
    }

    /// Versions not attempted because the run stopped.
    pub fn skipped(&self) -> Vec<PackageVersionId> {
        self.ids(|o| matches!(o, Outcome::Skipped { .. }))
    }

    /// Whether every planned deletion happened (or was already done).
    pub fn is_complete(&self) -> bool {
        self.failed().is_empty() && self.skipped().is_empty()
    }

    /// How to undo this run's deletions.
    pub fn restore_hint(&self) -> RestoreHint {
        RestoreHint::new(
            self.owner.clone(),
            &self.package,
            self.deleted(),
            self.finished_at,
        )
    }
}

impl fmt::Display for CleanupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cleanup of package {} of {}: {} deleted, {} kept, {} failed, {} not attempted",
            self.package,
            self.owner,
            self.deleted().len(),
            self.kept().len(),
            self.failed().len(),
            self.skipped().len()
        )?;
        for entry in &self.entries {
            writeln!(
                f,
                "  {} {} {}",
                entry.version.id, entry.version.name, entry.outcome
            )?;
        }
        write!(f, "{}", self.restore_hint())
    }
}

/// Deletion order: tagged versions (roots) first, then referrer-only ones,
/// then untagged; newest first within each, so an index goes before the
/// parts pushed ahead of it.
fn deletion_order(plan: &CleanupPlan) -> Vec<usize> {
    let kind = |version: &PackageVersion| {
        if name_tags(version).next().is_some() {
            0
        } else if version.is_tagged() {
            1
        } else {
            2
        }
    };
    let mut order: Vec<usize> = (0..plan.entries.len())
        .filter(|&i| plan.entries[i].decision.is_delete())
        .collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&plan.entries[a].version, &plan.entries[b].version);
        kind(a)
            .cmp(&kind(b))
            .then(b.created_at.cmp(&a.created_at))
            .then(b.id.cmp(&a.id))
    });
    order
}

/// Why a failure stops the run, if it does: a rate limit that outlasted the
/// transport's wait, a refused token, or repeated network failures.
fn stop_reason(error: &Error, transport_failures: &mut usize) -> Option<String> {
    match error {
        Error::Transport(ghcr_transport::Error::RateLimited { .. }) => Some(format!(
            "stopped by a rate limit ({error}); run the cleanup again later"
        )),
        Error::Api { status: 401, .. } => {
            Some("the token was refused; fix it and run the cleanup again".into())
        }
        Error::Transport(_) | Error::Interrupted { .. } => {
            *transport_failures += 1;
            (*transport_failures >= MAX_TRANSPORT_FAILURES).then(|| {
                format!(
                    "{MAX_TRANSPORT_FAILURES} network failures in a row; run the cleanup again later"
                )
            })
        }
        _ => {
            *transport_failures = 0;
            None
        }
    }
}

/// One run over a plan.
struct Run<'a> {
    plan: &'a CleanupPlan,
    versions: Vec<PackageVersion>,
    outcomes: Vec<Option<Outcome>>,
    stopped: Option<String>,
    transport_failures: usize,
}

impl<'a> Run<'a> {
    fn new(plan: &'a CleanupPlan) -> Self {
        Self {
            plan,
            versions: plan.entries.iter().map(|e| e.version.clone()).collect(),
            outcomes: plan
                .entries
                .iter()
                .map(|entry| match &entry.decision {
                    Decision::Keep(reason) => Some(Outcome::Kept(reason.clone())),
                    Decision::Delete(_) => None,
                })
                .collect(),
            stopped: None,
            transport_failures: 0,
        }
    }

    /// Deletes the version at `index`, recording the outcome.
    async fn delete(&mut self, client: &PackagesClient, index: usize, pacer: &mut Pacer) {
        let entry = &self.plan.entries[index];
        let Decision::Delete(reason) = &entry.decision else {
            return;
        };
        if let Some(reason) = &self.stopped {
            self.outcomes[index] = Some(Outcome::Skipped {
                reason: reason.clone(),
            });
            return;
        }
        pacer.wait().await;
        let result = client
            .delete_version(&self.plan.owner, &self.plan.package, entry.version.id)
            .await;
        let error = match result {
            Ok(()) => {
                self.transport_failures = 0;
                self.outcomes[index] = Some(Outcome::Deleted(reason.clone()));
                return;
            }
            Err(error) if error.is_not_found() => {
                self.outcomes[index] = Some(Outcome::AlreadyGone);
                return;
            }
            Err(error) => error,
        };
        tracing::warn!(version = %entry.version.id, error = %error, "cleanup could not delete a version");
        self.stopped = stop_reason(&error, &mut self.transport_failures);
        self.outcomes[index] = Some(Outcome::Failed(VersionFailure::new(
            entry.version.id,
            &error,
        )));
        self.keep_referenced(index).await;
    }

    /// The version at `index` stays: so must every pending version it references.
    async fn keep_referenced(&mut self, index: usize) {
        let graph = Graph::new(&self.versions);
        let root = &self.versions[index];
        let outcomes = &self.outcomes;
        let versions = &self.versions;
        let protected = |reached: &std::collections::HashMap<ghcr_types::Digest, _>| {
            outcomes.iter().zip(versions).all(|(outcome, version)| {
                outcome.is_some()
                    || version
                        .digest()
                        .is_ok_and(|digest| reached.contains_key(&digest))
            })
        };
        let reached = graph
            .reachable(&[root], self.plan.manifests.as_ref(), protected)
            .await;
        match reached {
            Ok(reached) => {
                for (outcome, version) in self.outcomes.iter_mut().zip(&self.versions) {
                    let via = version.digest().ok().and_then(|d| reached.get(&d));
                    if let (None, Some(via)) = (&outcome, via) {
                        *outcome = Some(Outcome::Kept(KeepReason::ReferencedByFailed {
                            root: via.root,
                            parent: via.parent.clone(),
                            link: via.link,
                        }));
                    }
                }
            }
            Err(error) => {
                self.stopped = Some(format!(
                    "version {} could not be deleted and what it references is unknown ({error}); nothing more was deleted",
                    root.id
                ));
            }
        }
    }

    fn report(self) -> CleanupReport {
        let entries = self
            .plan
            .entries
            .iter()
            .zip(self.outcomes)
            .map(|(entry, outcome)| ReportEntry {
                version: entry.version.clone(),
                outcome: outcome.unwrap_or_else(|| Outcome::Skipped {
                    reason: "the run ended before it".into(),
                }),
            })
            .collect();
        CleanupReport {
            owner: self.plan.owner.clone(),
            package: self.plan.package.clone(),
            entries,
            finished_at: OffsetDateTime::now_utc(),
        }
    }
}

impl PackagesClient {
    /// Carries out a plan: deletes its versions one by one, paced within
    /// the secondary-limit budget (DELETE = 5 points), and reports every
    /// version. A refused deletion (GitHub's 400 for a public version with
    /// over 5,000 downloads, a 403) is a failure line, and the parts the
    /// refused version references are kept so it still pulls. The run stops
    /// when the rate limit outlasts the transport's wait, or after repeated
    /// network failures; what is left is reported as not attempted.
    #[tracing::instrument(skip_all, fields(owner = %plan.owner, package = %plan.package))]
    pub async fn execute_cleanup(&self, plan: &CleanupPlan) -> CleanupReport {
        let mut run = Run::new(plan);
        let mut pacer = Pacer::new(self.inner.write_points_per_minute, WRITE_POINTS);
        for index in deletion_order(plan) {
            if run.outcomes[index].is_none() {
                run.delete(self, index, &mut pacer).await;
            }
        }
        run.report()
    }
}
