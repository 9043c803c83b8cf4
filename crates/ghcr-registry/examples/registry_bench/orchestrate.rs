//! Runs every row `--reps` times (3 by default, 1 with `--quick`), each as
//! its own process under `/usr/bin/time -f '%M %U %S'`, and prints the
//! medians; `--out DIR` also writes `report.md` and `report.json` there.
//! `--peer PATH` (or `OCI_CLIENT_PEER`) is the oci-client peer binary;
//! without it its rows are left out. `--only TEXT` keeps the rows whose
//! name has `TEXT` in it. Each run starts two registries for the latency
//! rows: an open one, and a token-auth one (ghcr-sim's issuer, which counts
//! the token requests); each transfer row gets a fresh registry of its own
//! (see `plan.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ghcr_sim::peers::{Auth, DockerRegistry, PASSWORD, USER, require};

use crate::plan::{LAYERS, Row, Sizes, Task, Tool, human, rows};
use crate::{access, latency, layouts, report, seed, small, table};

/// One run of one row.
pub(crate) struct Sample {
    pub(crate) seconds: f64,
    pub(crate) rss_kib: u64,
    /// User plus system CPU seconds of the client process.
    pub(crate) cpu: f64,
    /// Token requests the issuer answered during the row.
    pub(crate) tokens: usize,
    /// Requests the registry logged during the row, by method.
    pub(crate) requests: BTreeMap<String, usize>,
    pub(crate) output: String,
}

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let sizes = if quick { Sizes::QUICK } else { Sizes::FULL };
    let reps: usize = match option(args, "--reps") {
        Some(n) => n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("--reps needs a number of at least 1")?,
        None if quick => 1,
        None => 3,
    };
    let peer = option(args, "--peer")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("OCI_CLIENT_PEER").map(PathBuf::from));
    if let Some(peer) = peer.as_ref().filter(|p| !p.is_file()) {
        return Err(format!(
            "no oci-client peer at {} (`cargo xtask bench` builds it)",
            peer.display()
        ));
    }
    let time = require("/usr/bin/time", "time").map_err(|e| e.to_string())?;
    require("/usr/bin/skopeo", "skopeo").map_err(|e| e.to_string())?;
    require("/usr/bin/curl", "curl").map_err(|e| e.to_string())?;
    let only = option(args, "--only");
    let kept = |name: &str| only.is_none_or(|only| name.contains(only.as_str()));
    let base = std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let work = tempfile::tempdir_in(base).map_err(|e| e.to_string())?;
    // Writing the two layouts (2 GiB) takes a minute; a run that keeps no
    // transfer row gets one-byte stand-ins, which no kept row reads.
    let transfers = Task::TRANSFERS.iter().any(|t| kept(&t.name(sizes)));
    let (one_size, each_size) = if transfers {
        println!(
            "writing the layouts (1 x {}, {LAYERS} x {}) in {}",
            human(sizes.one),
            human(sizes.each),
            work.path().display()
        );
        (sizes.one, sizes.each)
    } else {
        (1, 1)
    };
    let size = |n: u64| usize::try_from(n).map_err(|e| e.to_string());
    let one = layouts::write(&work.path().join("one"), 1, size(one_size)?, 1)?;
    let many = layouts::write(&work.path().join("many"), LAYERS, size(each_size)?, 100)?;
    let smalls = small::write(&work.path().join("smalls"), sizes.small)?;
    // One worker serves the token issuer while the rows run.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows = rows(&one, &many, peer.as_deref())?;
    if !transfers && rows.iter().any(|row| kept(&row.name(sizes))) {
        return Err("a transfer row is missing from Task::TRANSFERS".to_owned());
    }
    rows.extend(latency::rows(sizes, peer.as_deref(), false));
    rows.extend(latency::rows(sizes, peer.as_deref(), true));
    rows.extend(small::rows(&smalls, peer.as_deref(), false));
    rows.extend(small::rows(&smalls, peer.as_deref(), true));
    rows.retain(|row| kept(&row.name(sizes)));
    println!("{reps} runs per row, each run on fresh registries; medians shown\n");
    let mut samples: BTreeMap<usize, Vec<Sample>> = BTreeMap::new();
    let scratch = work.path().join("scratch");
    for _ in 0..reps {
        let started = |auth| runtime.block_on(DockerRegistry::start_with_access_log(auth));
        let open = started(Auth::None).map_err(|e| e.to_string())?;
        let token = started(Auth::Token).map_err(|e| e.to_string())?;
        let small = work.path().join("small");
        runtime.block_on(seed::seed(open.host(), &small, sizes.tags, None))?;
        let credentials = Some((USER, PASSWORD));
        runtime.block_on(seed::seed(token.host(), &small, sizes.tags, credentials))?;
        for (index, row) in rows.iter().enumerate() {
            let failed = |e: String| format!("{} with {}: {e}", row.name(sizes), row.tool.name());
            let fresh;
            let registry = match &row.seeds {
                None if row.token => &token,
                None => &open,
                Some(seeds) => {
                    let auth = if row.token { Auth::Token } else { Auth::None };
                    fresh = started(auth).map_err(|e| failed(e.to_string()))?;
                    let credentials = fresh.credentials();
                    runtime
                        .block_on(seed::row_seeds(fresh.host(), seeds, credentials))
                        .map_err(failed)?;
                    &fresh
                }
            };
            let sample = one_run(row, registry, &time, &scratch).map_err(failed)?;
            samples.entry(index).or_default().push(sample);
        }
    }
    let text = table::render(&rows, &samples, sizes);
    println!("{text}");
    if let Some(out) = option(args, "--out") {
        report::write(Path::new(out), &text, &rows, &samples, sizes)?;
        println!("wrote {out}/report.md and {out}/report.json");
    }
    Ok(())
}

/// One row once, in a fresh scratch folder, with the token requests it
/// caused and the requests the registry logged.
fn one_run(
    row: &Row<'_>,
    registry: &DockerRegistry,
    time: &Path,
    scratch: &Path,
) -> Result<Sample, String> {
    std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
    let mut command = (row.build)(registry.host(), scratch)?;
    if row.token {
        command
            .env("BENCH_USER", USER)
            .env("BENCH_PASSWORD", PASSWORD);
    }
    let asked = || registry.issuer().map_or(0, |i| i.scopes_asked().len());
    let before = asked();
    let offset = registry.log_offset();
    let mut sample = measure(time, &command, &scratch.join("time.txt"))?;
    sample.tokens = asked() - before;
    sample.requests = access::since(registry, offset)?;
    if row.tool == Tool::Ours && row.task == Task::RepeatPush && !sample.output.starts_with("0 ") {
        return Err(format!("blob bytes were sent: {}", sample.output));
    }
    std::fs::remove_dir_all(scratch).map_err(|e| e.to_string())?;
    Ok(sample)
}

pub(crate) fn measure(time: &Path, command: &Command, report: &Path) -> Result<Sample, String> {
    let mut timed = Command::new(time);
    timed.args(["-f", "%M %U %S", "-o"]).arg(report);
    // `BENCH_WRAP="perf record -g -o /tmp/perf-{tool}.data"` (or `strace
    // -f -c -w -o /tmp/strace-{tool}`) profiles each row's process alone.
    if let Ok(wrap) = std::env::var("BENCH_WRAP") {
        let program = Path::new(command.get_program());
        let tool = program.file_name().unwrap_or_default().to_string_lossy();
        timed.args(wrap.split_whitespace().map(|w| w.replace("{tool}", &tool)));
    }
    timed.arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
        }
    }
    let started = Instant::now();
    let output = timed.output().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let written = std::fs::read_to_string(report).map_err(|e| e.to_string())?;
    let fields: Vec<&str> = written
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let parsed = match fields[..] {
        [rss, user, system] => rss.parse::<u64>().ok().zip(
            user.parse::<f64>()
                .ok()
                .zip(system.parse::<f64>().ok())
                .map(|(u, s)| u + s),
        ),
        _ => None,
    };
    let Some((rss_kib, cpu)) = parsed else {
        return Err(format!("no `%M %U %S` from /usr/bin/time: {written}"));
    };
    Ok(Sample {
        seconds,
        rss_kib,
        cpu,
        tokens: 0,
        requests: BTreeMap::new(),
        output: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    })
}
