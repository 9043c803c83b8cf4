//! Looking at the package again while a run deletes: the whole listing
//! before the first deletion, then, before each batch of deletions, the
//! first page (where a new push lands: a new tag, a new index) and each
//! version of the batch (a tag moved onto an old digest). When anything
//! changed the run plans again with the same policy and keeps every
//! pending deletion the new plan keeps, with the new plan's reason.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ghcr_types::{PackageVersion, PackageVersionId};

use super::execute::Run;
use super::plan::Decision;
use super::report::Outcome;
use super::run::plan_versions;
use crate::client::PackagesClient;
use crate::error::Result;
use crate::versions::VersionState;

/// Deletions between two looks at the package.
pub(super) const RECHECK_EVERY: usize = 10;

/// The longest time between two looks at the package (a slow pace: one
/// deletion a minute under a small budget looks before each).
pub(super) const RECHECK_AFTER: Duration = Duration::from_secs(30);

/// A version's tags, sorted: the same set compares equal in any order.
fn sorted_tags(version: &PackageVersion) -> Vec<String> {
    let mut tags = version.tags().to_vec();
    tags.sort();
    tags
}

/// Each version's sorted tags, by id.
fn tag_sets(versions: &[PackageVersion]) -> HashMap<PackageVersionId, Vec<String>> {
    versions.iter().map(|v| (v.id, sorted_tags(v))).collect()
}

impl Run<'_> {
    /// Lists the whole package again; when it changed, plans again.
    pub(super) async fn recheck(&mut self, client: &PackagesClient) -> Result<()> {
        let plan = self.plan;
        let current = client
            .list_versions(&plan.owner, &plan.package, VersionState::Active)
            .await?;
        if tag_sets(&self.current) == tag_sets(&current) {
            return Ok(());
        }
        tracing::warn!("the package changed since the plan; planning again");
        self.replan(current).await
    }

    /// The cheap look before a batch: the first page, and each version of
    /// `batch` (indexes of pending deletions). Versions found gone are
    /// [`Outcome::AlreadyGone`]; any other change plans again.
    pub(super) async fn refresh(&mut self, client: &PackagesClient, batch: &[usize]) -> Result<()> {
        let plan = self.plan;
        let mut pages = client.versions(&plan.owner, &plan.package, VersionState::Active)?;
        let mut seen: Vec<PackageVersion> = pages.next_page().await?.unwrap_or_default();
        let mut gone = HashSet::new();
        for &index in batch {
            let id = plan.entries[index].version.id;
            match client.get_version(&plan.owner, &plan.package, id).await {
                Ok(version) if version.deleted_at.is_none() => seen.push(version),
                Ok(_) => {
                    gone.insert(id);
                }
                Err(error) if error.is_not_found() => {
                    gone.insert(id);
                }
                Err(error) => return Err(error),
            }
        }
        for (outcome, entry) in self.outcomes.iter_mut().zip(&plan.entries) {
            if outcome.is_none() && gone.contains(&entry.version.id) {
                *outcome = Some(Outcome::AlreadyGone);
            }
        }
        // The versions now: as known, without those gone, updated with what was read.
        let done: HashSet<PackageVersionId> = self.finished().chain(gone).collect();
        let known = tag_sets(&self.current);
        let changed = seen
            .iter()
            .any(|v| known.get(&v.id) != Some(&sorted_tags(v)));
        let mut current: Vec<PackageVersion> = self
            .current
            .iter()
            .filter(|v| !done.contains(&v.id))
            .cloned()
            .collect();
        for version in seen {
            match current.iter_mut().find(|v| v.id == version.id) {
                Some(known) => *known = version,
                None => current.push(version),
            }
        }
        if !changed {
            self.current = current;
            return Ok(());
        }
        tracing::warn!("the package changed during the run; planning again");
        self.replan(current).await
    }

    /// Versions this run deleted or found gone.
    fn finished(&self) -> impl Iterator<Item = PackageVersionId> + '_ {
        self.outcomes
            .iter()
            .zip(&self.plan.entries)
            .filter(|(outcome, _)| {
                matches!(
                    outcome,
                    Some(Outcome::Deleted(_) | Outcome::LikelyDeleted(_) | Outcome::AlreadyGone)
                )
            })
            .map(|(_, entry)| entry.version.id)
    }

    /// Plans `current` with the plan's policy and clock; a pending deletion
    /// the new plan keeps is kept, one it does not list is gone.
    async fn replan(&mut self, current: Vec<PackageVersion>) -> Result<()> {
        let plan = self.plan;
        let fresh = plan_versions(
            current.clone(),
            &plan.policy,
            plan.planned_at,
            plan.manifests.as_ref(),
        )
        .await?;
        let now: HashMap<PackageVersionId, Decision> = fresh
            .into_iter()
            .map(|entry| (entry.version.id, entry.decision))
            .collect();
        for (outcome, entry) in self.outcomes.iter_mut().zip(&plan.entries) {
            match now.get(&entry.version.id) {
                None if !matches!(
                    outcome,
                    Some(Outcome::Deleted(_) | Outcome::LikelyDeleted(_) | Outcome::Failed(_))
                ) =>
                {
                    *outcome = Some(Outcome::AlreadyGone);
                }
                Some(Decision::Keep(reason)) if outcome.is_none() => {
                    *outcome = Some(Outcome::Kept(reason.clone()));
                }
                _ => {}
            }
        }
        self.current = current;
        Ok(())
    }
}
