//! `registry_bench sync [--reps N] [--quick] [--explain] [--out DIR]`:
//! issue 14's sync rows, `ghcr sync`'s library against `skopeo sync`, each
//! row its own process under `/usr/bin/time -f %M`, every run on two fresh
//! docker-registries, always from the first to the second:
//!
//! - a) 200 tags of small images, 4 layers of 64 KiB each of which the
//!   first is a base all share (`--quick`: 20 tags);
//! - b) 10 tags of 4 x 64 MiB incompressible layers (`--quick`: 2 tags of
//!   4 x 8 MiB, still above the 4 MiB chunk size so they stream);
//! - c) (b) again with nothing changed: ours must send no blob byte.
//!
//! Targets: a) at least 2x faster than skopeo, b) at least as fast, c) at
//! least 5x faster, peak RSS under 64 MiB on every row; the `target` column
//! says `met` or what was missed. The table and JSON lines (one a row) are
//! printed, and written to `DIR/sync.md` and `DIR/sync.json` with `--out`.
//!
//! `--explain` adds our (b) again with the defaults (after the others, to
//! see the spread), one image at a time, one blob at a time per image, and
//! a 1 MiB resume buffer, to show where our peak RSS goes.

mod plan;
mod row;
mod seed;
mod table;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ghcr_registry::RegistryClient;
use ghcr_sim::peers::{Auth, DockerRegistry, require};
use ghcr_transport::Transport;
use ghcr_types::Reference;

use crate::orchestrate::{Sample, measure};
use plan::{Task, Tool, rows};
pub(crate) use row::run as run_row;
use seed::SyncSizes;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let explain = args.iter().any(|a| a == "--explain");
    let sizes = if quick {
        SyncSizes::QUICK
    } else {
        SyncSizes::FULL
    };
    let reps: usize = match args.iter().position(|a| a == "--reps") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or("--reps needs a number of at least 1")?,
        None if quick => 1,
        None => 3,
    };
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => Some(PathBuf::from(
            args.get(i + 1).ok_or("--out needs a folder")?,
        )),
        None => None,
    };
    let time = require("/usr/bin/time", "time").map_err(|e| e.to_string())?;
    require("/usr/bin/skopeo", "skopeo").map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let rows = rows(explain);
    let heading = format!(
        "`registry_bench sync{}{}` on {} cores: {} small tags; {} tags of {} x {} MiB; {reps} runs per row, each on two fresh docker-registries; medians shown",
        if quick { " --quick" } else { "" },
        if explain { " --explain" } else { "" },
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        sizes.small_tags,
        sizes.large_tags,
        sizes.large_layers,
        sizes.large_layer >> 20
    );
    println!("{heading}\n");
    let base = std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let work = tempfile::tempdir_in(base).map_err(|e| e.to_string())?;
    let report = work.path().join("time.txt");
    let mut samples: BTreeMap<usize, Vec<Sample>> = BTreeMap::new();
    for rep in 1..=reps {
        let started = Instant::now();
        let (here, far) = runtime.block_on(registries(sizes))?;
        println!(
            "run {rep}/{reps}: seeded the source in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        for (index, row) in rows.iter().enumerate() {
            let command = (row.build)(here.host(), far.host());
            let sample = measure(&time, &command, &report)
                .map_err(|e| format!("{:?} with {}: {e}", row.task, row.name))?;
            if row.tool == Tool::Ours
                && row.task == Task::Unchanged
                && !sample.output.starts_with("0 ")
            {
                return Err(format!(
                    "unchanged re-run: blob bytes were sent: {}",
                    sample.output
                ));
            }
            runtime.block_on(check(far.host(), row.lands, row.task.tags(sizes)))?;
            samples.entry(index).or_default().push(sample);
        }
    }
    let markdown = table::markdown(&rows, &samples, sizes, &heading, quick);
    let json = table::json_lines(&rows, &samples, sizes, quick);
    println!("\n{markdown}\n{json}");
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (name, text) in [("sync.md", &markdown), ("sync.json", &json)] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// Two fresh registries, the first holding `bench/small` and `bench/large`.
async fn registries(sizes: SyncSizes) -> Result<(DockerRegistry, DockerRegistry), String> {
    let here = DockerRegistry::start(Auth::None)
        .await
        .map_err(|e| e.to_string())?;
    let far = DockerRegistry::start(Auth::None)
        .await
        .map_err(|e| e.to_string())?;
    let transport = Transport::builder()
        .allow_plain_http(here.host())
        .build()
        .map_err(|e| e.to_string())?;
    let client = seed::client(transport)?;
    let repo = |name: &str| here.reference(name).map_err(|e| e.to_string());
    seed::small(&client, &repo("bench/small")?, sizes.small_tags).await?;
    seed::large(&client, &repo("bench/large")?, sizes).await?;
    Ok((here, far))
}

/// Whether `repo` on `host` holds every tag: each tool's sync did its job.
async fn check(host: &str, repo: &'static str, tags: usize) -> Result<(), String> {
    let transport = Transport::builder()
        .allow_plain_http(host)
        .build()
        .map_err(|e| e.to_string())?;
    let reference = Reference::parse(&format!("{host}/{repo}")).map_err(|e| e.to_string())?;
    let found = RegistryClient::new(transport)
        .list_tags(&reference)
        .await
        .map_err(|e| e.to_string())?;
    if found.len() == tags {
        Ok(())
    } else {
        Err(format!(
            "{reference} holds {} tags, not {tags}",
            found.len()
        ))
    }
}
