//! What a cleanup did: each version's outcome, and how to undo it.

use std::fmt;

use ghcr_types::{Owner, PackageVersion, PackageVersionId};
use time::OffsetDateTime;

use super::plan::{DeleteReason, KeepReason};
use crate::restore::{RestoreHint, VersionFailure};

/// What happened to one version.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Deleted now.
    Deleted(DeleteReason),
    /// Most likely deleted now: the answer to the DELETE was lost (a 5xx,
    /// a timeout), and GitHub then said the version is gone (a 404 when the
    /// DELETE was sent again, or when the version was read).
    LikelyDeleted(DeleteReason),
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
    /// Not attempted: the caller stopped the run
    /// ([`crate::PackagesClient::execute_cleanup_until`]) before it.
    Stopped,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deleted(reason) => write!(f, "deleted: {reason}"),
            Self::LikelyDeleted(reason) => write!(
                f,
                "deleted (most likely: the DELETE's answer was lost, then GitHub said the version is gone): {reason}"
            ),
            Self::AlreadyGone => f.write_str("already deleted"),
            Self::Kept(reason) => write!(f, "kept: {reason}"),
            Self::Failed(failure) if failure.may_have_applied => write!(
                f,
                "failed: {}; it may have been deleted all the same, so it is in the undo (restoring a version that was not deleted is harmless)",
                failure.reason
            ),
            Self::Failed(failure) => write!(f, "failed: {}", failure.reason),
            Self::Skipped { reason } => write!(f, "not attempted: {reason}"),
            Self::Stopped => f.write_str("not attempted (stopped)"),
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
    /// When the run started, before its first deletion: GitHub's 30-day
    /// restore window of every version it deleted runs from no earlier.
    pub started_at: OffsetDateTime,
}

impl CleanupReport {
    fn ids(&self, wanted: impl Fn(&Outcome) -> bool) -> Vec<PackageVersionId> {
        self.entries
            .iter()
            .filter(|e| wanted(&e.outcome))
            .map(|e| e.version.id)
            .collect()
    }

    /// Versions deleted by this run ([`Outcome::Deleted`] and
    /// [`Outcome::LikelyDeleted`]). A failed deletion that may have
    /// happened all the same is in [`CleanupReport::restore_hint`] too.
    pub fn deleted(&self) -> Vec<PackageVersionId> {
        self.ids(|o| matches!(o, Outcome::Deleted(_) | Outcome::LikelyDeleted(_)))
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

    /// Versions not attempted because the run stopped (on its own, or on
    /// request: [`Outcome::Stopped`]).
    pub fn skipped(&self) -> Vec<PackageVersionId> {
        self.ids(|o| matches!(o, Outcome::Skipped { .. } | Outcome::Stopped))
    }

    /// Whether the caller stopped the run before it was done.
    pub fn was_stopped(&self) -> bool {
        self.entries.iter().any(|e| e.outcome == Outcome::Stopped)
    }

    /// Whether every planned deletion happened (or was already done).
    pub fn is_complete(&self) -> bool {
        self.failed().is_empty() && self.skipped().is_empty()
    }

    /// One line of counts: `cleanup of package P of O: N deleted, N kept,
    /// N failed, N not attempted`.
    pub fn headline(&self) -> String {
        format!(
            "cleanup of package {} of {}: {} deleted, {} kept, {} failed, {} not attempted",
            self.package,
            self.owner,
            self.deleted().len(),
            self.kept().len(),
            self.failed().len(),
            self.skipped().len()
        )
    }

    /// How to undo this run's deletions, restorable until 30 days after
    /// the run started (the first deletion's deadline: a long run must not
    /// promise its early deletions more time than GitHub gives them).
    /// Its ids are every version the run may have deleted: the deleted
    /// ones, and failures whose answer was lost
    /// ([`VersionFailure::may_have_applied`], listed as `uncertain`).
    pub fn restore_hint(&self) -> RestoreHint {
        let uncertain = self
            .failed()
            .into_iter()
            .filter(|failure| failure.may_have_applied)
            .map(|failure| failure.id)
            .collect();
        RestoreHint::new(
            self.owner.clone(),
            &self.package,
            self.deleted(),
            self.started_at,
        )
        .with_uncertain(uncertain)
    }
}

impl fmt::Display for CleanupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
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
