//! Going on with a run that was killed or stopped, from its journal.
//!
//! The versions whose DELETE may have been under way are looked at first
//! (gone: deleted; still there: the DELETE never arrived). Then the package
//! is planned again with the same policy, and only versions both plans
//! delete, and that the journal does not show deleted, are deleted, each
//! recorded in the same journal. Nothing the journal shows deleted is
//! sent a DELETE again.

use std::collections::HashSet;
use std::future::Future;
use std::path::Path;

use ghcr_types::{Owner, PackageVersionId};

use super::journal::{Journal, JournalSummary};
use super::plan::{CleanupPlan, Decision, KeepReason};
use super::policy::RetentionPolicy;
use super::report::CleanupReport;
use crate::client::PackagesClient;
use crate::error::{Error, Result};

impl PackagesClient {
    /// Resumes the cleanup that the journal at `path` records, for `owner`,
    /// `package` and `policy` (which must be the ones it records), and
    /// appends to that journal. `stop` works as for
    /// [`PackagesClient::execute_cleanup_until`]. Read the journal again
    /// afterwards ([`JournalSummary::read`]) for everything both runs
    /// deleted, and its undo.
    ///
    /// # Errors
    ///
    /// The journal's errors ([`Error::JournalInvalid`],
    /// [`Error::JournalIo`]), [`Error::JournalMismatch`] for another
    /// package or policy, a failed look at a version whose DELETE may have
    /// been under way (nothing is deleted then: try again later), and the
    /// planning errors of [`PackagesClient::plan_cleanup`].
    pub async fn resume_cleanup_until(
        &self,
        path: &Path,
        owner: &Owner,
        package: &str,
        policy: &RetentionPolicy,
        stop: impl Future<Output = ()>,
    ) -> Result<CleanupReport> {
        let (mut journal, summary) = Journal::reopen(path)?;
        let asked = describe(owner, package, &policy.to_string());
        let recorded = describe(&summary.owner, &summary.package, &summary.policy);
        if asked != recorded {
            return Err(Error::JournalMismatch {
                path: path.to_owned(),
                recorded,
                asked,
            });
        }
        let mut gone: HashSet<PackageVersionId> = summary
            .deleted
            .iter()
            .chain(&summary.already_gone)
            .copied()
            .collect();
        for &id in &summary.possibly_deleted {
            let deleted = self.is_version_deleted(owner, package, id).await?;
            journal.checked(id, deleted)?;
            if deleted {
                gone.insert(id);
            }
        }
        let plan = self.plan_cleanup(owner, package, policy).await?;
        let plan = narrowed(plan, &summary, &gone);
        Ok(self.execute(&plan, Some(&mut journal), stop).await)
    }
}

/// `package app of user octo with policy --only-untagged`.
fn describe(owner: &Owner, package: &str, policy: &str) -> String {
    format!("package {package} of {owner} with policy `{policy}`")
}

/// `plan` without the versions already gone, deleting only what the
/// journal's plan deletes.
fn narrowed(
    mut plan: CleanupPlan,
    summary: &JournalSummary,
    gone: &HashSet<PackageVersionId>,
) -> CleanupPlan {
    let planned: HashSet<PackageVersionId> = summary.planned.iter().copied().collect();
    plan.entries
        .retain(|entry| !gone.contains(&entry.version.id));
    for entry in &mut plan.entries {
        if entry.decision.is_delete() && !planned.contains(&entry.version.id) {
            entry.decision = Decision::Keep(KeepReason::NotInResumedPlan);
        }
    }
    plan
}
