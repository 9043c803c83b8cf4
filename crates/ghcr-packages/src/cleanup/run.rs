//! The client's cleanup operations: plan (nothing deleted), carry out, and
//! plan for every package a [`PolicySet`] covers.

use std::sync::Arc;

use futures_util::StreamExt;
use ghcr_types::{Owner, PackageVersion};
use time::OffsetDateTime;

use super::parts::{PartsCache, PartsSource};
use super::plan::{self, CleanupPlan, PlanEntry};
use super::policy::{self, PolicySet, RetentionPolicy};
use super::protect;
use super::report::CleanupReport;
use super::select::PackageSelection;
use crate::client::PackagesClient;
use crate::error::Result;
use crate::versions::VersionState;

impl PackagesClient {
    /// Plans a cleanup of one package: lists its active versions, applies
    /// the policy, and keeps everything the kept versions reference (reading
    /// each needed manifest from the registry once). Deletes nothing.
    ///
    /// # Errors
    ///
    /// The listing's errors, and [`crate::Error::Unreachable`] when a kept
    /// version's manifest cannot be read (what it references is then unknown).
    #[tracing::instrument(skip_all, fields(owner = %owner, package = %package))]
    pub async fn plan_cleanup(
        &self,
        owner: &Owner,
        package: &str,
        policy: &RetentionPolicy,
    ) -> Result<CleanupPlan> {
        let versions = self
            .list_versions(owner, package, VersionState::Active)
            .await?;
        let repository = self.repository(owner, package).await?;
        let manifests = Arc::new(PartsCache::new(self.registry().clone(), repository));
        let planned_at = OffsetDateTime::now_utc();
        let entries = plan_versions(versions, policy, planned_at, manifests.as_ref()).await?;
        Ok(CleanupPlan {
            owner: owner.clone(),
            package: package.to_owned(),
            planned_at,
            entries,
            policy: policy.clone(),
            manifests,
        })
    }

    /// Plans and carries out a cleanup of one package.
    ///
    /// # Errors
    ///
    /// As [`PackagesClient::plan_cleanup`]; failures while deleting are
    /// lines of the report.
    #[tracing::instrument(skip_all, fields(owner = %owner, package = %package))]
    pub async fn cleanup(
        &self,
        owner: &Owner,
        package: &str,
        policy: &RetentionPolicy,
    ) -> Result<CleanupReport> {
        let plan = self.plan_cleanup(owner, package, policy).await?;
        Ok(self.execute_cleanup(&plan).await)
    }

    /// Plans a cleanup of each of the owner's container packages that
    /// `policies` has a policy for.
    ///
    /// # Errors
    ///
    /// The package listing's errors; each package's own planning error is
    /// returned beside its name instead of stopping the others.
    pub async fn plan_cleanups(
        &self,
        owner: &Owner,
        policies: &PolicySet,
    ) -> Result<Vec<(String, Result<CleanupPlan>)>> {
        let chosen = self
            .list_packages(owner, None)
            .await?
            .into_iter()
            .filter_map(|package| {
                let policy = policies.policy_for(&package.name)?;
                Some((package.name, policy))
            })
            .collect();
        Ok(self.plan_each(owner, chosen).await)
    }

    /// Plans a cleanup under one policy of each of the owner's container
    /// packages that `selection` chooses, in name order; a single name
    /// without wildcards is planned without listing the packages.
    ///
    /// # Errors
    ///
    /// The package listing's errors; each package's own planning error is
    /// returned beside its name instead of stopping the others.
    pub async fn plan_selected(
        &self,
        owner: &Owner,
        selection: &PackageSelection,
        policy: &RetentionPolicy,
    ) -> Result<Vec<(String, Result<CleanupPlan>)>> {
        if let Some(name) = selection.single() {
            let plan = self.plan_cleanup(owner, name, policy).await;
            return Ok(vec![(name.to_owned(), plan)]);
        }
        let mut names: Vec<String> = self
            .list_packages(owner, None)
            .await?
            .into_iter()
            .map(|package| package.name)
            .filter(|name| selection.matches(name))
            .collect();
        names.sort();
        let chosen = names.into_iter().map(|name| (name, policy)).collect();
        Ok(self.plan_each(owner, chosen).await)
    }

    /// Plans each package, [`PLANS_AT_ONCE`] at a time (each reads its own
    /// versions and manifests; the transport keeps them all within the
    /// rate limit), keeping the order given.
    async fn plan_each(
        &self,
        owner: &Owner,
        chosen: Vec<(String, &RetentionPolicy)>,
    ) -> Vec<(String, Result<CleanupPlan>)> {
        futures_util::stream::iter(chosen)
            .map(|(name, policy)| async move {
                let plan = self.plan_cleanup(owner, &name, policy).await;
                (name, plan)
            })
            .buffered(PLANS_AT_ONCE)
            .collect()
            .await
    }
}

/// Packages planned at once by [`PackagesClient::plan_selected`] and
/// [`PackagesClient::plan_cleanups`].
pub const PLANS_AT_ONCE: usize = 4;

/// The plan's entries for `versions`, newest first, one per id (a version
/// a shifted page listed twice gets one place and one decision).
pub(crate) async fn plan_versions(
    mut versions: Vec<PackageVersion>,
    policy: &RetentionPolicy,
    now: OffsetDateTime,
    manifests: &impl PartsSource,
) -> Result<Vec<PlanEntry>> {
    let mut ids = std::collections::HashSet::new();
    versions.retain(|version| ids.insert(version.id));
    versions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let ranking = policy::ranking(&versions, policy);
    let parts = if ranking.count > 0 {
        protect::parts_of_newest(&versions, &ranking, manifests).await
    } else {
        std::collections::HashSet::new()
    };
    let mut decisions = policy::decide(&versions, policy, now, &parts);
    plan::keep_what_github_refuses(&versions, &mut decisions);
    let reached = if decisions.iter().any(Result::is_err) {
        let graph = protect::Graph::new(&versions);
        let roots: Vec<&PackageVersion> = versions
            .iter()
            .zip(&decisions)
            .filter(|(_, decision)| decision.is_ok())
            .map(|(version, _)| version)
            .collect();
        let candidates: Vec<_> = versions
            .iter()
            .zip(&decisions)
            .filter(|(_, decision)| decision.is_err())
            .filter_map(|(version, _)| version.digest().ok())
            .collect();
        graph
            .reachable(&roots, manifests, |reached| {
                candidates.iter().all(|digest| reached.contains_key(digest))
            })
            .await?
    } else {
        std::collections::HashMap::new()
    };
    let decisions = plan::protect_reached(&versions, decisions, &reached);
    Ok(versions
        .into_iter()
        .zip(decisions)
        .map(|(version, decision)| PlanEntry { version, decision })
        .collect())
}
