//! `serve`: a long-running service (design completion 7). It answers
//! `/health`, `/ready` and `/metrics`, and runs the retention policies of a
//! TOML file on a schedule, logging each plan and result. SIGTERM stops it
//! between deletions (see `stop.rs`).
//!
//! Run one replica: two schedulers would plan and delete the same package
//! at once (deploy/kubernetes/deployment.yaml says so).
//!
//! `serve --once` runs every policy one time, as one run of the schedule
//! does, and exits: non-zero when a plan or a deletion failed. It opens no
//! HTTP listener (`--bind` and `--port` are ignored): it is what a
//! Kubernetes CronJob runs (deploy/kubernetes/cronjob.yaml).

mod health;
mod http;
mod policies;
mod stop;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use ghcr::packages::{CleanupPlan, PolicySet};
use ghcr::types::Owner;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use self::policies::{Job, Kind, Packages, Schedule};
use self::stop::Stop;
pub(crate) use self::stop::signalled;
use super::cleanup::{plan_text, report_text};
use crate::context::{Context, Setup};
use crate::exit::{Code, classify, failure};

/// The scheduler's own metrics, beside the transport's.
#[derive(Clone, Default)]
struct Counters {
    runs: Counter,
    synced: Counter,
    deleted: Counter,
    failed: Counter,
    plan_errors: Counter,
    last_run: Gauge,
}

impl Counters {
    fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("ghcr_serve");
        registry.register("runs", "Scheduled cleanup runs started", self.runs.clone());
        registry.register(
            "tags_synced",
            "Tags copied by scheduled syncs",
            self.synced.clone(),
        );
        registry.register(
            "versions_deleted",
            "Package versions deleted by cleanups",
            self.deleted.clone(),
        );
        registry.register(
            "deletions_failed",
            "Deletions GitHub or the network refused",
            self.failed.clone(),
        );
        registry.register(
            "plan_errors",
            "Packages whose cleanup could not be planned",
            self.plan_errors.clone(),
        );
        registry.register(
            "last_run_timestamp_seconds",
            "When the last run started (Unix time)",
            self.last_run.clone(),
        );
    }
}

/// `serve --check`: reads the policy file and says what would run.
pub(crate) fn check(
    out: crate::output::Output,
    policies: &Path,
    registry: &str,
) -> anyhow::Result<()> {
    let schedule = policies::load(policies, registry)?;
    let jobs: Vec<String> = schedule
        .jobs
        .iter()
        .map(|job| {
            let packages = match &job.packages {
                Packages::One(name) => name.clone(),
                Packages::All => "*".to_owned(),
                Packages::Matching(selection) => format!("{{{selection}}}"),
            };
            format!("{}/{packages}", job.owner)
        })
        .collect();
    let syncs: Vec<String> = schedule
        .syncs
        .iter()
        .map(|pair| format!("{} to {}", pair.source, pair.target))
        .collect();
    out.result(
        || {
            format!(
                "{}: {} policy(ies) every {}{}: {}",
                policies.display(),
                jobs.len(),
                crate::duration::show(schedule.interval),
                if schedule.dry_run { " (dry run)" } else { "" },
                jobs.join(", ")
            ) + &syncs.iter().fold(String::new(), |mut text, sync| {
                text.push_str("\nsync ");
                text.push_str(sync);
                text
            })
        },
        || {
            serde_json::json!({
                "interval_seconds": schedule.interval.as_secs(),
                "dry_run": schedule.dry_run,
                "policies": jobs,
                "syncs": syncs,
            })
        },
    );
    Ok(())
}

pub(crate) async fn run(
    setup: Setup,
    policies: &Path,
    bind: &str,
    port: u16,
) -> anyhow::Result<()> {
    let schedule = policies::load(policies, setup.registry())?;
    let stop = Stop::default();
    let configured = setup.registry().to_owned();
    let context = setup.connect(&schedule.hosts(&configured))?;
    let counters = Counters::default();
    let mut registry = Registry::default();
    context.client.transport().register_metrics(&mut registry);
    counters.register(&mut registry);
    let listener = TcpListener::bind((bind, port))
        .await
        .with_context(|| format!("cannot listen on {bind}:{port}"))?;
    let address = listener.local_addr()?;
    tracing::info!(
        "listening on {address}: /health, /ready, /metrics; {} policy(ies) every {}{}",
        schedule.jobs.len(),
        crate::duration::show(schedule.interval),
        if schedule.dry_run {
            " (dry run: nothing is deleted)"
        } else {
            ""
        }
    );
    stop.on_signals();
    let state = http::State {
        health: Arc::new(health::HealthCache::new(
            context.client.clone(),
            health::HEALTH_MAX_AGE,
        )),
        metrics: Arc::new(registry),
        stop: stop.clone(),
    };
    let server = tokio::spawn(http::serve(listener, state, http::Limits::default()));
    scheduler(&context, &schedule, &stop, &counters).await;
    stop.trigger();
    let _ = server.await;
    tracing::info!("stopped");
    context.finish()
}

async fn scheduler(context: &Context, schedule: &Schedule, stop: &Stop, counters: &Counters) {
    let mut ticker = tokio::time::interval(schedule.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stop.wait() => return,
        }
        counters.runs.inc();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        counters.last_run.set(now);
        run_policies(context, schedule, stop, counters).await;
        if stop.is_set() {
            return;
        }
        tracing::info!(
            "run done; next in {}",
            crate::duration::show(schedule.interval)
        );
    }
}

/// What one run of the policies met, for `--once`'s exit code (the
/// scheduler logs it and goes on).
#[derive(Debug, Default)]
struct Run {
    /// Policies and packages that could not be planned, in order.
    errors: Vec<anyhow::Error>,
    /// Deletions GitHub or the network refused.
    failed_deletions: usize,
    /// Tags a sync could not copy.
    failed_syncs: usize,
}

impl Run {
    /// Ok when everything ran; else the failure with the exit code of the
    /// first plan error (or `Other` for refused deletions).
    fn outcome(self, stopped: bool) -> anyhow::Result<()> {
        if let Some(first) = self.errors.first() {
            let also = if self.failed_deletions > 0 {
                format!(", and {} deletion(s) failed", self.failed_deletions)
            } else {
                String::new()
            };
            return Err(failure(
                classify(first),
                format!(
                    "{} policy or package plan(s) failed{also}; the first: {first:#}",
                    self.errors.len()
                ),
            ));
        }
        if self.failed_syncs > 0 {
            return Err(failure(
                Code::Other,
                format!(
                    "{} tag(s) failed to sync (see the log above; their target tags were left as they were); run again once the cause is fixed",
                    self.failed_syncs
                ),
            ));
        }
        if self.failed_deletions > 0 {
            return Err(failure(
                Code::Other,
                format!(
                    "{} deletion(s) failed (see the reports above); run again once the cause is fixed",
                    self.failed_deletions
                ),
            ));
        }
        if stopped {
            return Err(failure(
                Code::Other,
                "stopped before every policy ran to its end; the next run plans the rest again",
            ));
        }
        Ok(())
    }
}

/// `serve --once`: every policy of the file once, then exit.
pub(crate) async fn once(setup: Setup, policies: &Path) -> anyhow::Result<()> {
    let schedule = policies::load(policies, setup.registry())?;
    let stop = Stop::default();
    let configured = setup.registry().to_owned();
    let context = setup.connect(&schedule.hosts(&configured))?;
    let counters = Counters::default();
    tracing::info!(
        "running {} policy(ies) once{}",
        schedule.jobs.len(),
        if schedule.dry_run {
            " (dry run: nothing is deleted)"
        } else {
            ""
        }
    );
    stop.on_signals();
    let run = run_policies(&context, &schedule, &stop, &counters).await;
    context.finish()?;
    tracing::info!(
        "run done: {} deleted, {} deletion(s) failed, {} plan error(s)",
        counters.deleted.get(),
        run.failed_deletions,
        run.errors.len()
    );
    run.outcome(stop.is_set())
}

/// One run: every policy in order, until a stop.
async fn run_policies(
    context: &Context,
    schedule: &Schedule,
    stop: &Stop,
    counters: &Counters,
) -> Run {
    let mut run = Run::default();
    for job in &schedule.jobs {
        if stop.is_set() {
            tracing::info!("stopping: the remaining policies of this run are skipped");
            break;
        }
        if let Err(error) = run_job(context, job, schedule.dry_run, stop, counters, &mut run).await
        {
            counters.plan_errors.inc();
            tracing::error!(
                "policy for {} {:?} failed: {error:#}",
                job.owner,
                job.packages
            );
            run.errors.push(error);
        }
    }
    for pair in &schedule.syncs {
        if stop.is_set() {
            tracing::info!("stopping: the remaining syncs of this run are skipped");
            break;
        }
        if let Err(error) =
            run_sync(context, pair, schedule.dry_run, stop, counters, &mut run).await
        {
            counters.plan_errors.inc();
            tracing::error!(
                "sync of {} to {} failed: {error:#}",
                pair.source,
                pair.target
            );
            run.errors.push(error);
        }
    }
    run
}

/// One sync pair: planned, then (unless a dry run) carried out. A stop
/// abandons either: a tag moves only once its image is complete, so an
/// abandoned sync leaves no tag on a half-copied image.
async fn run_sync(
    context: &Context,
    pair: &crate::cmd::sync_pairs::Pair,
    dry_run: bool,
    stop: &Stop,
    counters: &Counters,
    run: &mut Run,
) -> anyhow::Result<()> {
    let registry = context.client.registry();
    let plan = tokio::select! {
        plan = registry.plan_sync(&pair.source, &pair.target, &pair.options) => plan?,
        () = stop.wait() => return Ok(()),
    };
    let copies = plan.to_copy().count();
    tracing::info!(
        "sync {} to {}: copy {copies} of {} tag(s){}",
        plan.source,
        plan.target,
        plan.entries.len(),
        if dry_run {
            " (dry run: nothing is copied)"
        } else {
            ""
        }
    );
    if dry_run || copies == 0 {
        return Ok(());
    }
    let options = ghcr::registry::TransferOptions::new();
    let report = tokio::select! {
        report = registry.run_sync(&plan, &options) => report,
        () = stop.wait() => {
            tracing::info!("stopping: the sync to {} was abandoned between images", plan.target);
            return Ok(());
        }
    };
    counters.synced.inc_by(report.copied.len() as u64);
    for (tag, error) in &report.failed {
        tracing::error!("sync of {}:{tag} failed: {error}", plan.source);
    }
    run.failed_syncs += report.failed.len();
    tracing::info!(
        "sync {} to {}: copied {}, skipped {}, failed {}",
        plan.source,
        plan.target,
        report.copied.len(),
        report.skipped.len(),
        report.failed.len()
    );
    Ok(())
}

async fn run_job(
    context: &Context,
    job: &Job,
    dry_run: bool,
    stop: &Stop,
    counters: &Counters,
    run: &mut Run,
) -> anyhow::Result<()> {
    // Planning only reads, so a stop abandons it at once.
    let planning = async {
        let owner = match job.kind {
            Some(Kind::Org) => Owner::org(&job.owner),
            Some(Kind::User) => Owner::user(&job.owner),
            None => context.client.resolve_owner(&job.owner).await?,
        };
        let packages = context.client.packages();
        let plans = match &job.packages {
            Packages::One(name) => vec![(
                name.clone(),
                packages.plan_cleanup(&owner, name, &job.policy).await,
            )],
            Packages::All => {
                let set = PolicySet::new().default_policy(job.policy.clone());
                packages.plan_cleanups(&owner, &set).await?
            }
            Packages::Matching(selection) => {
                packages
                    .plan_selected(&owner, selection, &job.policy)
                    .await?
            }
        };
        anyhow::Ok((owner, plans))
    };
    let (owner, plans) = tokio::select! {
        planned = planning => planned?,
        () = stop.wait() => {
            tracing::info!("stopping: the plan for {} was abandoned; nothing was deleted", job.owner);
            return Ok(());
        }
    };
    for (name, plan) in plans {
        match plan {
            Ok(plan) => {
                run.failed_deletions += carry_out(context, &plan, dry_run, stop, counters).await;
            }
            Err(error) => {
                counters.plan_errors.inc();
                tracing::error!("package {name} of {owner} could not be planned: {error}");
                run.errors.push(
                    anyhow::Error::from(error)
                        .context(format!("package {name} of {owner} could not be planned")),
                );
            }
        }
        if stop.is_set() {
            break;
        }
    }
    Ok(())
}

/// Logs the plan and, unless a dry run, carries it out: the number of
/// deletions that failed.
async fn carry_out(
    context: &Context,
    plan: &CleanupPlan,
    dry_run: bool,
    stop: &Stop,
    counters: &Counters,
) -> usize {
    for line in plan_text(plan).lines() {
        tracing::info!("{line}");
    }
    let planned = plan.to_delete().count();
    if planned == 0 || dry_run {
        return 0;
    }
    if stop.is_set() {
        tracing::info!("stopping: the plan above was not carried out");
        return 0;
    }
    // The stop is looked at between deletions only: the one under way
    // completes, no other starts, and the rest is reported not attempted.
    let report = context
        .client
        .packages()
        .execute_cleanup_until(plan, stop.wait())
        .await;
    counters.deleted.inc_by(report.deleted().len() as u64);
    counters.failed.inc_by(report.failed().len() as u64);
    for line in report_text(&report).lines() {
        tracing::info!("{line}");
    }
    if report.was_stopped() {
        tracing::info!(
            "stopped between deletions: {} planned deletion(s) of package {} were not attempted; the next run plans them again",
            report.skipped().len(),
            plan.package
        );
    }
    report.failed().len()
}
