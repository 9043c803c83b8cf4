//! The client side: `cleanup_bench plan HOST` plans an only-untagged
//! cleanup of every package of the organization on the fake at `HOST` and
//! prints one JSON line (wall time, versions, deletions, and the process's
//! peak RSS, VmHWM); the deletion row runs in-process ([`execute`]).

use std::sync::Arc;
use std::time::Instant;

use ghcr_packages::{PackageSelection, PackagesClient, RetentionPolicy};
use ghcr_sim::fake::FakeGhcr;
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
use ghcr_types::Owner;
use http::{Method, StatusCode};
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

/// What the deletion row measured.
pub(crate) struct Executed {
    pub(crate) deleted: usize,
    pub(crate) seconds: f64,
    pub(crate) deletes: usize,
    pub(crate) refused: usize,
}

/// Deletes `count` untagged leftovers of one package with the default
/// pacing, against a fake that enforces GitHub's secondary limit (900
/// points a minute per endpoint), and times the run.
pub(crate) fn execute(count: usize) -> Result<Executed, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let fake = FakeGhcr::builder()
            .user(USER, TOKEN)
            .secondary_rate_limit(900)
            .start()
            .await
            .map_err(|e| e.to_string())?;
        let store = fake.store();
        let seed = |tag, layer: String| {
            store
                .push_image("octo/app", tag, &[bytes::Bytes::from(layer)])
                .map_err(|e| e.to_string())
        };
        seed(Some("v1"), "release".to_owned())?;
        for n in 0..count {
            seed(None, format!("leftover {n}"))?;
        }
        let client = client(fake.registry_host())?;
        let plan = client
            .plan_cleanup(&Owner::user(USER), "app", &only_untagged()?)
            .await
            .map_err(|e| e.to_string())?;
        fake.log().clear();
        let started = Instant::now();
        let report = client.execute_cleanup(&plan).await;
        let seconds = started.elapsed().as_secs_f64();
        let log = fake.log();
        let executed = Executed {
            deleted: report.deleted().len(),
            seconds,
            deletes: log.count_where(|e| e.method == Method::DELETE),
            refused: log.count_where(|e| {
                e.status == StatusCode::FORBIDDEN || e.status == StatusCode::TOO_MANY_REQUESTS
            }),
        };
        fake.shutdown().await;
        Ok::<_, String>(executed)
    })
}

/// Deletions a minute over `seconds`.
pub(crate) fn per_minute(deleted: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        deleted as f64 * 60.0 / seconds
    } else {
        f64::NAN
    }
}
