//! The client side: `cleanup_bench plan HOST` plans an only-untagged
//! cleanup of every package of the organization on the fake at `HOST` and
//! prints one JSON line (wall time, versions, deletions, and the process's
//! peak RSS, VmHWM); `cleanup_bench execute HOST` carries out the deletion
//! row's plan ([`execute`]).

use std::sync::Arc;
use std::time::Instant;

use ghcr_packages::{PackageSelection, PackagesClient, RetentionPolicy};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
use ghcr_types::Owner;
use serde_json::json;

use crate::seed::{ORG, TOKEN, USER};

/// A client as the CLI builds one: default pacing (900 points a minute,
/// 5 a DELETE) and retries, signed in as the organization's admin.
fn client(host: &str) -> Result<PackagesClient, String> {
    let credentials = StaticProvider::new(Credentials::basic(USER, TOKEN)).for_host(host);
    let transport = Transport::builder()
        .allow_plain_http(host)
        .credentials(Arc::new(credentials))
        .build()
        .map_err(|e| e.to_string())?;
    PackagesClient::builder(transport)
        .api_base(&format!("http://{host}"))
        .registry_host(host)
        .build()
        .map_err(|e| e.to_string())
}

fn only_untagged() -> Result<RetentionPolicy, String> {
    RetentionPolicy::builder()
        .only_untagged()
        .build()
        .map_err(|e| e.to_string())
}

pub(crate) fn plan(args: &[String]) -> Result<(), String> {
    let host = args.first().ok_or("usage: cleanup_bench plan HOST")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = client(host)?;
    let policy = only_untagged()?;
    let started = Instant::now();
    let plans = runtime
        .block_on(client.plan_selected(&Owner::org(ORG), &PackageSelection::all(), &policy))
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let (mut versions, mut delete) = (0, 0);
    for (package, plan) in &plans {
        let plan = plan.as_ref().map_err(|e| format!("{package}: {e}"))?;
        delete += plan.to_delete().count();
        versions += plan.to_delete().count() + plan.to_keep().count();
    }
    let line = json!({
        "seconds": seconds,
        "packages": plans.len(),
        "versions": versions,
        "delete": delete,
        "peak_rss_kib": peak_rss_kib()?,
    });
    println!("{line}");
    Ok(())
}

/// This process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status (Linux only)".to_owned())
}

/// `cleanup_bench execute HOST`: plans the only-untagged cleanup of the
/// user's `app` on the fake at `HOST` (see `serve deletes`), prints
/// `planned N`, waits for a line on stdin (the orchestrator reads the
/// fake's counts of the planning meanwhile), carries the plan out with the
/// default pacing and prints one JSON line: deletions, wall time, and this
/// process's peak RSS.
pub(crate) fn execute(args: &[String]) -> Result<(), String> {
    use std::io::{BufRead as _, Write as _};

    let host = args.first().ok_or("usage: cleanup_bench execute HOST")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = client(host)?;
    let plan = runtime
        .block_on(client.plan_cleanup(&Owner::user(USER), "app", &only_untagged()?))
        .map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "planned {}", plan.to_delete().count())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    let mut go = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut go)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let report = runtime.block_on(client.execute_cleanup(&plan));
    let seconds = started.elapsed().as_secs_f64();
    let line = json!({
        "deleted": report.deleted().len(),
        "seconds": seconds,
        "peak_rss_kib": peak_rss_kib()?,
    });
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}
