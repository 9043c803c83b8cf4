//! `registry_bench sync [--reps N] [--quick] [--explain]`: `ghcr sync`'s
//! library against `skopeo sync`, each row its own process under
//! `/usr/bin/time -f %M`, every run on two fresh docker-registries:
//!
//! - a) 20 tags of small images (a shared base layer, one small layer of
//!   their own) to another repository of the same registry (we mount);
//! - b) 10 tags of 4 x 8 MiB incompressible layers (`--quick`: 4 tags) to
//!   the other registry, streamed registry to registry;
//! - c) (b) again with nothing changed: ours must send no blob byte.
//!
//! `--explain` adds our (b) again with the defaults (after the others, to
//! see the spread), one image at a time, one blob at a time per image, and
//! a 1 MiB resume buffer, to show where our peak RSS goes.

mod row;
mod seed;

use std::collections::BTreeMap;
use std::process::Command;

use ghcr_registry::RegistryClient;
use ghcr_sim::peers::{Auth, DockerRegistry, require};
use ghcr_transport::Transport;
use ghcr_types::Reference;

use crate::orchestrate::{Sample, measure};
pub(crate) use row::run as run_row;
use seed::SyncSizes;

/// What a row does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Task {
    Small,
    Large,
    Unchanged,
}

/// Builds a row's command from the two registries' hosts.
type Build = Box<dyn Fn(&str, &str) -> Command>;

/// One task done by one tool.
struct Row {
    task: Task,
    /// `ghcr-registry`, `skopeo 1.9`, or a variant of ours.
    tool: String,
    ours: bool,
    /// The repository the tags land in, on the target registry.
    lands: &'static str,
    /// `(source registry, target registry)` to the command.
    build: Build,
}

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
    let time = require("/usr/bin/time", "time").map_err(|e| e.to_string())?;
    require("/usr/bin/skopeo", "skopeo").map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let rows = rows(explain);
    println!(
        "sync rows: {} small tags; {} tags of {} x {} MiB; {reps} runs per row, each on two fresh docker-registries; medians shown\n",
        sizes.small_tags,
        sizes.large_tags,
        sizes.large_layers,
        sizes.large_layer >> 20
    );
    let base = std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let work = tempfile::tempdir_in(base).map_err(|e| e.to_string())?;
    let report = work.path().join("time.txt");
    let mut samples: BTreeMap<usize, Vec<Sample>> = BTreeMap::new();
    for _ in 0..reps {
        let (here, far) = runtime.block_on(registries(sizes))?;
        for (index, row) in rows.iter().enumerate() {
            let command = (row.build)(here.host(), far.host());
            let sample = measure(&time, &command, &report)
                .map_err(|e| format!("{:?} with {}: {e}", row.task, row.tool))?;
            if row.ours && row.task == Task::Unchanged && !sample.output.starts_with("0 ") {
                return Err(format!(
                    "unchanged re-run: blob bytes were sent: {}",
                    sample.output
                ));
            }
            let (host, tags) = match row.task {
                Task::Small => (here.host(), sizes.small_tags),
                _ => (far.host(), sizes.large_tags),
            };
            runtime.block_on(check(host, row.lands, tags))?;
            samples.entry(index).or_default().push(sample);
        }
    }
    print_table(&rows, &samples, sizes);
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
    let client = RegistryClient::new(transport);
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

fn ours(source: String, target: String, extra: &[&str]) -> Command {
    let mut command =
        Command::new(std::env::current_exe().unwrap_or_else(|_| "registry_bench".into()));
    command.arg("sync-row").arg(source).arg(target).args(extra);
    command
}

/// `skopeo sync` of a whole repository into `prefix` (it lands at
/// `prefix/<the source's last path component>`).
fn skopeo(source: String, prefix: String) -> Command {
    let mut command = Command::new("/usr/bin/skopeo");
    command.args([
        "sync",
        "--src",
        "docker",
        "--dest",
        "docker",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--preserve-digests",
    ]);
    command.arg(source).arg(prefix);
    command
}

fn row(
    (task, tool, ours): (Task, &str, bool),
    lands: &'static str,
    build: impl Fn(&str, &str) -> Command + 'static,
) -> Row {
    Row {
        task,
        tool: tool.to_owned(),
        ours,
        lands,
        build: Box::new(build),
    }
}

/// Every row, in the order they run within one run.
fn rows(explain: bool) -> Vec<Row> {
    const OURS: &str = "ghcr-registry";
    const SKOPEO: &str = "skopeo 1.9";
    let mut rows = vec![
        row((Task::Small, OURS, true), "bench/ours-small", |here, _| {
            ours(
                format!("{here}/bench/small"),
                format!("{here}/bench/ours-small"),
                &[],
            )
        }),
        row((Task::Small, SKOPEO, false), "sk/small", |here, _| {
            skopeo(format!("{here}/bench/small"), format!("{here}/sk"))
        }),
    ];
    for task in [Task::Large, Task::Unchanged] {
        rows.extend([
            row((task, OURS, true), "bench/ours-large", |here, far| {
                ours(
                    format!("{here}/bench/large"),
                    format!("{far}/bench/ours-large"),
                    &[],
                )
            }),
            row((task, SKOPEO, false), "sk/large", |here, far| {
                skopeo(format!("{here}/bench/large"), format!("{far}/sk"))
            }),
        ]);
    }
    if explain {
        for (tool, repo, extra) in [
            (
                "ours, defaults, after the rest",
                "bench/ours-again",
                &[][..],
            ),
            ("ours, 1 image at a time", "bench/ours-images", &["1"][..]),
            (
                "ours, 1 blob per image",
                "bench/ours-blobs",
                &["0", "1"][..],
            ),
            (
                "ours, 1 MiB resume buffer",
                "bench/ours-window",
                &["0", "0", "1048576"][..],
            ),
        ] {
            rows.push(row((Task::Large, tool, true), repo, move |here, far| {
                ours(
                    format!("{here}/bench/large"),
                    format!("{far}/{repo}"),
                    extra,
                )
            }));
        }
    }
    rows
}

fn median(samples: &[Sample]) -> f64 {
    let mut seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN)
}

fn print_table(rows: &[Row], samples: &BTreeMap<usize, Vec<Sample>>, sizes: SyncSizes) {
    let empty = Vec::new();
    let of = |i: usize| samples.get(&i).unwrap_or(&empty);
    let skopeo = |task: Task| {
        rows.iter()
            .position(|r| r.task == task && !r.ours)
            .map(|i| median(of(i)))
    };
    println!(
        "| row | tool | wall s (median) | best s | peak RSS MiB | requests | blob bytes sent | skopeo / this |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (index, row) in rows.iter().enumerate() {
        let runs = of(index);
        let seconds = median(runs);
        let best = runs
            .iter()
            .map(|s| s.seconds)
            .min_by(f64::total_cmp)
            .unwrap_or(f64::NAN);
        let rss = runs.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        // Ours prints `uploaded wire requests counts`; skopeo nothing we count.
        let fields: Vec<&str> = runs
            .last()
            .map_or("", |s| s.output.as_str())
            .split(' ')
            .collect();
        let (bytes, requests) = if row.ours {
            (
                fields.first().copied().unwrap_or("?"),
                fields.get(2).copied().unwrap_or("?"),
            )
        } else {
            ("-", "-")
        };
        let ratio = match (row.ours, skopeo(row.task)) {
            (true, Some(sk)) => format!("{:.2}", sk / seconds),
            _ => "-".to_owned(),
        };
        println!(
            "| {} | {} | {seconds:.2} | {best:.2} | {rss:.1} | {requests} | {bytes} | {ratio} |",
            name(row.task, sizes),
            row.tool
        );
    }
    println!();
    let peak = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.tool == "ghcr-registry")
        .flat_map(|(i, _)| of(i).iter().map(|s| s.rss_kib))
        .max()
        .unwrap_or(0);
    println!(
        "peak RSS of our sync rows: {:.1} MiB (target: at most 64 MiB)",
        peak as f64 / 1024.0
    );
}

fn name(task: Task, sizes: SyncSizes) -> String {
    match task {
        Task::Small => format!("a) sync {} small tags, same registry", sizes.small_tags),
        Task::Large => format!(
            "b) sync {} tags x {} x {} MiB, registry to registry",
            sizes.large_tags,
            sizes.large_layers,
            sizes.large_layer >> 20
        ),
        Task::Unchanged => "c) (b) again, nothing changed".to_owned(),
    }
}
