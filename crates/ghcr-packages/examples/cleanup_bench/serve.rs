//! `cleanup_bench serve plan VERSIONS_PER_PACKAGE SHAPE`: a fake ghcr.io in
//! its own process (so the client's peak RSS is the client's alone), seeded
//! with the organization; `serve deletes COUNT`: one user's package with
//! COUNT untagged leftovers beside a release, behind GitHub's secondary
//! limit. It prints `ready HOST VERSIONS INDEXES_KEPT`, then
//! answers lines on stdin: `log` prints the request counts since the last
//! `log` as one JSON line, `quit` (or the end of stdin) stops it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, Write as _};

use ghcr_sim::fake::{FakeGhcr, LoggedRequest, RequestLog};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::seed::{self, ORG, Shape, TOKEN, USER};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: cleanup_bench serve plan VERSIONS_PER_PACKAGE SHAPE | serve deletes COUNT";
    let number = |at: usize| -> Result<usize, String> {
        args.get(at)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| usage.to_owned())
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // No added latency: loopback, no delay faults. Planning: no secondary
    // limit (reads are not paced), the primary one as for a PAT. Deleting:
    // GitHub's secondary limit, 900 points a minute per endpoint.
    let (fake, ready) = match args.first().map(String::as_str) {
        Some("plan") => {
            let per_package = number(1)?;
            let shape = Shape::parse(args.get(2).map_or("releases", String::as_str))?;
            let fake = runtime
                .block_on(
                    FakeGhcr::builder()
                        .user(USER, TOKEN)
                        .org(ORG, &[USER])
                        .start(),
                )
                .map_err(|e| e.to_string())?;
            let seeded = seed::organization(&fake.store(), per_package, shape)?;
            let ready = format!(
                "ready {} {} {}",
                fake.registry_host(),
                seeded.versions,
                seeded.indexes_kept
            );
            (fake, ready)
        }
        Some("deletes") => {
            let count = number(1)?;
            let fake = runtime
                .block_on(
                    FakeGhcr::builder()
                        .user(USER, TOKEN)
                        .secondary_rate_limit(900)
                        .start(),
                )
                .map_err(|e| e.to_string())?;
            seed::leftovers(&fake.store(), count)?;
            let ready = format!("ready {} {} 0", fake.registry_host(), count + 1);
            (fake, ready)
        }
        _ => return Err(usage.to_owned()),
    };
    fake.log().clear();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ready}")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        match line.map_err(|e| e.to_string())?.trim() {
            "log" => {
                let counts = counts(fake.log());
                fake.log().clear();
                writeln!(out, "{counts}")
                    .and_then(|()| out.flush())
                    .map_err(|e| e.to_string())?;
            }
            "quit" => break,
            other => return Err(format!("`{other}`: expected log or quit")),
        }
    }
    runtime.block_on(fake.shutdown());
    Ok(())
}

/// Whether a request went to the registry (`/v2/…` and the token
/// endpoint) rather than the Packages API, which share one listener.
fn is_registry(entry: &LoggedRequest) -> bool {
    entry.path.starts_with("/v2/") || entry.path == "/v2" || entry.path.starts_with("/token")
}

/// The log as counts: API and registry requests by method, token fetches,
/// manifests read (and how many distinct), pages of versions, and answers
/// that were not 2xx by status.
fn counts(log: &RequestLog) -> Value {
    let mut api: BTreeMap<String, usize> = BTreeMap::new();
    let mut registry: BTreeMap<String, usize> = BTreeMap::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let (mut tokens, mut manifests, mut pages) = (0, 0, 0);
    let mut distinct = BTreeSet::new();
    for entry in log.entries() {
        let method = entry.method.as_str().to_owned();
        if !entry.status.is_success() {
            *statuses
                .entry(entry.status.as_u16().to_string())
                .or_default() += 1;
        }
        if !is_registry(&entry) {
            *api.entry(method).or_default() += 1;
            if entry.path.ends_with("/versions") {
                pages += 1;
            }
            continue;
        }
        *registry.entry(method).or_default() += 1;
        if entry.path.starts_with("/token") {
            tokens += 1;
        } else if entry.path.contains("/manifests/")
            && entry.method == Method::GET
            && entry.status == StatusCode::OK
        {
            manifests += 1;
            distinct.insert(entry.path);
        }
    }
    json!({
        "api": api,
        "registry": registry,
        "token_fetches": tokens,
        "manifests_read": manifests,
        "manifests_distinct": distinct.len(),
        "version_pages": pages,
        "not_2xx": statuses,
    })
}
