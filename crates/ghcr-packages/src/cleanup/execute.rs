//! Carrying out a plan: re-check the package, then one DELETE at a time
//! within the secondary-limit budget, parents before their parts, each
//! outcome reported; a version GitHub refuses to delete keeps what it
//! references.
//!
//! The package may have changed since the dry run, and goes on changing
//! during a long run: a leftover tagged, or a new index reusing a manifest
//! the plan would delete. Execution lists the versions again before the
//! first deletion, and looks again before each batch (`recheck.rs`); when
//! anything changed it plans again with the same policy, and only versions
//! both plans delete are deleted.
//!
//! A caller can stop a run ([`PackagesClient::execute_cleanup_until`]): the
//! stop signal is looked at before each deletion and while waiting for the
//! pace, never during a DELETE, so the one under way completes and its
//! outcome is known; the versions left are reported as not attempted.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;

use futures_util::FutureExt as _;
use futures_util::future::{Either, select};

use ghcr_types::{Digest, PackageVersion, PackageVersionId};
use time::OffsetDateTime;
use tokio::time::Instant;

use super::journal::Journal;
use super::plan::{CleanupPlan, Decision, DeleteReason, KeepReason};
use super::policy::name_tags;
use super::protect::{Graph, Via};
use super::recheck::{RECHECK_AFTER, RECHECK_EVERY};
use super::report::{CleanupReport, Outcome, ReportEntry};
use crate::client::{PackagesClient, WRITE_POINTS};
use crate::error::Error;
use crate::pace::Pacer;
use crate::restore::VersionFailure;

/// Transport failures in a row after which the run stops.
const MAX_TRANSPORT_FAILURES: usize = 3;

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
pub(super) struct Run<'a> {
    pub(super) plan: &'a CleanupPlan,
    /// The package's versions now, for reachability after a failure.
    pub(super) current: Vec<PackageVersion>,
    pub(super) outcomes: Vec<Option<Outcome>>,
    stopped: Option<String>,
    transport_failures: usize,
    journal: Option<&'a mut Journal>,
}

impl<'a> Run<'a> {
    fn new(plan: &'a CleanupPlan, journal: Option<&'a mut Journal>) -> Self {
        Self {
            plan,
            current: plan.entries.iter().map(|e| e.version.clone()).collect(),
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
            journal,
        }
    }

    /// Marks every pending deletion as not attempted.
    fn stop(&mut self, reason: String) {
        for outcome in &mut self.outcomes {
            if outcome.is_none() {
                *outcome = Some(Outcome::Skipped {
                    reason: reason.clone(),
                });
            }
        }
        self.stopped = Some(reason);
    }

    /// The caller asked the run to stop: every pending deletion is not attempted.
    fn halt(&mut self) {
        for outcome in &mut self.outcomes {
            if outcome.is_none() {
                *outcome = Some(Outcome::Stopped);
            }
        }
    }

    /// Deletes the version at `index`, recording the outcome (in the
    /// journal too, when there is one: the intent before the DELETE is
    /// sent, the outcome after; no DELETE goes out unrecorded).
    async fn delete(&mut self, client: &PackagesClient, index: usize) {
        let plan = self.plan;
        let entry = &plan.entries[index];
        let Decision::Delete(reason) = &entry.decision else {
            return;
        };
        if let Some(reason) = &self.stopped {
            self.outcomes[index] = Some(Outcome::Skipped {
                reason: reason.clone(),
            });
            return;
        }
        if let Some(journal) = self.journal.as_deref_mut()
            && let Err(error) = journal.intent(&entry.version)
        {
            tracing::warn!(error = %error, "cleanup stopped: its journal could not be written");
            self.stop(error.to_string());
            return;
        }
        let outcome = self.send(client, &entry.version, reason).await;
        let failed = matches!(outcome, Outcome::Failed(_));
        let recorded = match self.journal.as_deref_mut() {
            Some(journal) => journal.outcome(entry.version.id, &outcome),
            None => Ok(()),
        };
        self.outcomes[index] = Some(outcome);
        if let Err(error) = recorded {
            tracing::warn!(error = %error, "cleanup stopped: its journal could not be written");
            self.stop(error.to_string());
            return;
        }
        if failed {
            self.keep_referenced(&entry.version).await;
        }
    }

    /// Sends the DELETE of `version` and says how it ended; a failure that
    /// calls for it stops the run.
    async fn send(
        &mut self,
        client: &PackagesClient,
        version: &PackageVersion,
        reason: &DeleteReason,
    ) -> Outcome {
        let written = client
            .delete_version_written(&self.plan.owner, &self.plan.package, version.id)
            .await;
        let error = match written.result {
            Ok(()) => {
                self.transport_failures = 0;
                return Outcome::Deleted(reason.clone());
            }
            // An earlier attempt was lost on its way back: it deleted the version.
            Err(error) if error.is_not_found() && written.attempts > 1 => {
                self.transport_failures = 0;
                return Outcome::LikelyDeleted(reason.clone());
            }
            Err(error) if error.is_not_found() => return Outcome::AlreadyGone,
            Err(error) => error,
        };
        if error.may_have_applied() && self.is_gone(client, version.id).await {
            // The answer was lost, but the version is gone: it was deleted.
            return Outcome::LikelyDeleted(reason.clone());
        }
        tracing::warn!(version = %version.id, error = %error, "cleanup could not delete a version");
        self.stopped = stop_reason(&error, &mut self.transport_failures);
        Outcome::Failed(VersionFailure::new(version.id, &error))
    }

    /// Whether GitHub says the version is deleted (a read that fails says no).
    async fn is_gone(&self, client: &PackagesClient, id: PackageVersionId) -> bool {
        client
            .is_version_deleted(&self.plan.owner, &self.plan.package, id)
            .await
            .unwrap_or(false)
    }

    /// `root` stays: so must every pending version it references.
    async fn keep_referenced(&mut self, root: &PackageVersion) {
        let pending: Vec<(usize, Digest)> = self
            .outcomes
            .iter()
            .zip(&self.plan.entries)
            .enumerate()
            .filter(|(_, (outcome, _))| outcome.is_none())
            .filter_map(|(index, (_, entry))| Some((index, entry.version.digest().ok()?)))
            .collect();
        let graph = Graph::new(&self.current);
        let reached = graph
            .reachable(&[root], self.plan.manifests.as_ref(), |reached| {
                pending
                    .iter()
                    .all(|(_, digest)| reached.contains_key(digest))
            })
            .await;
        let reached: HashMap<Digest, Via> = match reached {
            Ok(reached) => reached,
            Err(error) => {
                self.stop(format!(
                    "version {} could not be deleted and what it references is unknown ({error}); nothing more was deleted",
                    root.id
                ));
                return;
            }
        };
        for (index, digest) in pending {
            if let Some(via) = reached.get(&digest) {
                self.outcomes[index] = Some(Outcome::Kept(KeepReason::ReferencedByFailed {
                    root: via.root,
                    parent: via.parent.clone(),
                    link: via.link,
                }));
            }
        }
    }

    fn report(self, started_at: OffsetDateTime) -> CleanupReport {
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
            started_at,
        }
    }
}

impl PackagesClient {
    /// Carries out a plan: lists the package again (planning again with the
    /// same policy if it changed, and deleting only what both plans delete),
    /// then deletes one version at a time, paced within the secondary-limit
    /// budget (DELETE = 5 points), and reports every version. A refused
    /// deletion (GitHub's 400 for a public version with over 5,000
    /// downloads, a 403) is a failure line, and the parts the refused
    /// version references are kept so it still pulls. The run stops when the
    /// rate limit outlasts the transport's wait, the token is refused, or
    /// after repeated network failures; what is left is reported as not
    /// attempted.
    ///
    /// To stop a run from outside (a service shutting down), use
    /// [`PackagesClient::execute_cleanup_until`]: dropping this future could
    /// cut a DELETE whose outcome would then be unknown.
    pub async fn execute_cleanup(&self, plan: &CleanupPlan) -> CleanupReport {
        self.execute_cleanup_until(plan, std::future::pending())
            .await
    }

    /// As [`PackagesClient::execute_cleanup`], but ends early once `stop`
    /// completes (a shutdown signal, a deadline, a cancellation token's
    /// `cancelled()`). `stop` is polled before each deletion and during the
    /// pacing waits, never while a DELETE is on its way: the deletion under
    /// way completes and is reported, no other starts, and every version
    /// not yet attempted is reported as [`Outcome::Stopped`] (not a
    /// failure). Running the policy again later plans them again.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # use std::sync::Arc;
    /// # use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
    /// # use ghcr_packages::{PackagesClient, RetentionPolicy, Outcome};
    /// # use ghcr_types::Owner;
    /// # let fake = ghcr_sim::fake::FakeGhcr::builder().user("octo", "token-o").start().await?;
    /// # fake.store().push_image("octo/app", Some("v1"), &[bytes::Bytes::from_static(b"kept")])?;
    /// # for n in 0..3 {
    /// #     fake.store().push_image("octo/app", None, &[bytes::Bytes::from(format!("old {n}"))])?;
    /// # }
    /// # let credentials = StaticProvider::new(Credentials::basic("octo", "token-o")).for_host(fake.registry_host());
    /// # let transport = ghcr_transport::Transport::builder()
    /// #     .allow_plain_http(fake.registry_host())
    /// #     .credentials(Arc::new(credentials))
    /// #     .build()?;
    /// # let client = PackagesClient::builder(transport)
    /// #   .api_base(&fake.api_base())
    /// #   .registry_host(fake.registry_host())
    /// #   .build()?;
    /// # let owner = Owner::user("octo");
    /// let policy = RetentionPolicy::builder().only_untagged().build()?;
    /// let plan = client.plan_cleanup(&owner, "app", &policy).await?;
    /// // A stop that has already happened: nothing is deleted.
    /// let report = client.execute_cleanup_until(&plan, std::future::ready(())).await;
    /// assert!(report.deleted().is_empty());
    /// assert_eq!(report.skipped().len(), 3);
    /// assert!(report.entries.iter().any(|e| e.outcome == Outcome::Stopped));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn execute_cleanup_until(
        &self,
        plan: &CleanupPlan,
        stop: impl Future<Output = ()>,
    ) -> CleanupReport {
        self.execute(plan, None, stop).await
    }

    /// As [`PackagesClient::execute_cleanup_until`], recording each
    /// deletion in `journal` ([`Journal::create`] for this plan, or
    /// [`Journal::reopen`] through [`PackagesClient::resume_cleanup_until`]):
    /// the intent is written and synced before each DELETE is sent, the
    /// outcome after it. When the journal cannot be written no further
    /// DELETE is sent, and the versions left are reported as not attempted.
    pub async fn execute_cleanup_with_journal(
        &self,
        plan: &CleanupPlan,
        journal: &mut Journal,
        stop: impl Future<Output = ()>,
    ) -> CleanupReport {
        self.execute(plan, Some(journal), stop).await
    }

    #[tracing::instrument(skip_all, fields(owner = %plan.owner, package = %plan.package))]
    pub(super) async fn execute(
        &self,
        plan: &CleanupPlan,
        journal: Option<&mut Journal>,
        stop: impl Future<Output = ()>,
    ) -> CleanupReport {
        let started_at = OffsetDateTime::now_utc();
        let mut stop = pin!(stop.fuse());
        let mut run = Run::new(plan, journal);
        let checked = match select(pin!(run.recheck(self)), stop.as_mut()).await {
            Either::Left((checked, _)) => Some(checked),
            Either::Right(((), _)) => None,
        };
        match checked {
            None => {
                run.halt();
                return run.report(started_at);
            }
            Some(Err(error)) => run.stop(format!(
                "the package could not be checked again before deleting ({error}); nothing was deleted"
            )),
            Some(Ok(())) => {}
        }
        let mut pacer = Pacer::new(self.inner.write_points_per_minute, WRITE_POINTS);
        let order = deletion_order(plan);
        let (mut since_check, mut checked_at) = (0, Instant::now());
        for (position, &index) in order.iter().enumerate() {
            if run.outcomes[index].is_some() {
                continue;
            }
            if run.stopped.is_none() {
                // The stop is polled first: once it has happened, no deletion starts.
                if let Either::Left(((), _)) = select(stop.as_mut(), pin!(pacer.wait())).await {
                    tracing::warn!(
                        "cleanup stopped on request; the deletions left are not attempted"
                    );
                    run.halt();
                    break;
                }
            }
            if run.stopped.is_none()
                && (since_check >= RECHECK_EVERY || checked_at.elapsed() >= RECHECK_AFTER)
            {
                let batch: Vec<usize> = order[position..]
                    .iter()
                    .copied()
                    .filter(|&i| run.outcomes[i].is_none())
                    .take(RECHECK_EVERY)
                    .collect();
                let refreshed = match select(pin!(run.refresh(self, &batch)), stop.as_mut()).await {
                    Either::Left((refreshed, _)) => Some(refreshed),
                    Either::Right(((), _)) => None,
                };
                match refreshed {
                    None => {
                        run.halt();
                        break;
                    }
                    Some(Err(error)) => run.stop(format!(
                        "the package could not be checked again during the run ({error}); the deletions left were not attempted"
                    )),
                    Some(Ok(())) => {}
                }
                (since_check, checked_at) = (0, Instant::now());
                if run.outcomes[index].is_some() {
                    continue;
                }
            }
            run.delete(self, index).await;
            since_check += 1;
        }
        run.report(started_at)
    }
}
