//! When a policy would delete every version, GitHub still refuses the last
//! (tagged) one: the plan keeps it, and the only way to honour the policy
//! is to delete the package itself (restorable for 30 days). That is
//! opt-in, and done only while the package is exactly as planned.

use std::collections::{BTreeMap, HashSet};

use ghcr_types::PackageVersionId;

use super::plan::{CleanupPlan, Decision, KeepReason};
use crate::client::PackagesClient;
use crate::error::Result;
use crate::versions::VersionState;

impl CleanupPlan {
    /// Whether the policy deletes every version: all that the plan keeps,
    /// it keeps only because GitHub refuses to delete a package's last
    /// (tagged) version, or because such a version references it.
    pub fn deletes_everything(&self) -> bool {
        let refused: HashSet<PackageVersionId> = self
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    e.decision,
                    Decision::Keep(KeepReason::LastTagged | KeepReason::LastVersion)
                )
            })
            .map(|e| e.version.id)
            .collect();
        !self.entries.is_empty()
            && self.entries.iter().all(|e| match &e.decision {
                Decision::Delete(_)
                | Decision::Keep(KeepReason::LastTagged | KeepReason::LastVersion) => true,
                Decision::Keep(KeepReason::Reachable { root, .. }) => refused.contains(root),
                _ => false,
            })
    }
}

/// What [`PackagesClient::delete_planned_package`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackageDeletion {
    /// The package went, with this many versions.
    Deleted {
        /// Its active versions.
        versions: usize,
    },
    /// The policy keeps something, so the package stays.
    PolicyKeeps,
    /// Versions or tags changed since the plan: nothing was deleted.
    Changed,
}

impl PackagesClient {
    /// Deletes the plan's package when the plan deletes every version
    /// ([`CleanupPlan::deletes_everything`]) and the package's active
    /// versions and their tags are still exactly those planned (a version
    /// pushed or tagged since is never deleted unplanned). Restorable for 30
    /// days with [`PackagesClient::restore_package`].
    ///
    /// # Errors
    ///
    /// The listing's errors and [`PackagesClient::delete_package`]'s.
    pub async fn delete_planned_package(&self, plan: &CleanupPlan) -> Result<PackageDeletion> {
        if !plan.deletes_everything() {
            return Ok(PackageDeletion::PolicyKeeps);
        }
        let tags_of = |id, tags: Vec<String>| {
            let mut tags = tags;
            tags.sort();
            (id, tags)
        };
        let planned: BTreeMap<PackageVersionId, Vec<String>> = plan
            .entries
            .iter()
            .map(|e| tags_of(e.version.id, e.version.tags().to_vec()))
            .collect();
        let now: BTreeMap<PackageVersionId, Vec<String>> = self
            .list_versions(&plan.owner, &plan.package, VersionState::Active)
            .await?
            .into_iter()
            .map(|v| tags_of(v.id, v.tags().to_vec()))
            .collect();
        if now != planned {
            return Ok(PackageDeletion::Changed);
        }
        self.delete_package(&plan.owner, &plan.package).await?;
        Ok(PackageDeletion::Deleted {
            versions: planned.len(),
        })
    }
}
