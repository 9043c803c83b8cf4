//! Runs every row `--reps` times (3 by default, 1 with `--quick`), each as
//! its own process under `/usr/bin/time -f %M`, and prints the medians.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ghcr_sim::peers::{Auth, DockerRegistry, require};

use crate::layouts;
use crate::plan::{LAYERS, Sizes, Tool, human, rows};
use crate::table::print_table;

/// One run of one row.
pub(crate) struct Sample {
    pub(crate) seconds: f64,
    pub(crate) rss_kib: u64,
    pub(crate) output: String,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let sizes = if quick { Sizes::QUICK } else { Sizes::FULL };
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
    require("/usr/bin/curl", "curl").map_err(|e| e.to_string())?;
    let base = std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let work = tempfile::tempdir_in(base).map_err(|e| e.to_string())?;
    let each = usize::try_from(sizes.each).map_err(|e| e.to_string())?;
    println!(
        "writing the layouts (1 x {}, {LAYERS} x {}) in {}",
        human(sizes.one),
        human(sizes.each),
        work.path().display()
    );
    let one = layouts::write(
        &work.path().join("one"),
        1,
        usize::try_from(sizes.one).map_err(|e| e.to_string())?,
        1,
    )?;
    let many = layouts::write(&work.path().join("many"), LAYERS, each, 100)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    println!("{reps} runs per row, each run on a fresh docker-registry; medians shown\n");
    let rows = rows(&one, &many)?;
    let mut samples: BTreeMap<usize, Vec<Sample>> = BTreeMap::new();
    let scratch = work.path().join("scratch");
    for _ in 0..reps {
        let registry = runtime
            .block_on(DockerRegistry::start(Auth::None))
            .map_err(|e| e.to_string())?;
        for (index, row) in rows.iter().enumerate() {
            std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
            let command = (row.build)(registry.host(), &scratch)?;
            let task = row.task.name(sizes);
            let sample = measure(&time, &command, &scratch.join("time.txt"))
                .map_err(|e| format!("{task} with {}: {e}", row.tool.name()))?;
            if row.tool == Tool::Ours && row.bytes == 0 && !sample.output.starts_with("0 ") {
                return Err(format!("{task}: blob bytes were sent: {}", sample.output));
            }
            samples.entry(index).or_default().push(sample);
            std::fs::remove_dir_all(&scratch).map_err(|e| e.to_string())?;
        }
    }
    print_table(&rows, &samples, sizes);
    Ok(())
}

pub(crate) fn measure(time: &Path, command: &Command, report: &Path) -> Result<Sample, String> {
    let mut timed = Command::new(time);
    timed
        .args(["-f", "%M", "-o"])
        .arg(report)
        .arg(command.get_program())
        .args(command.get_args());
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
    let rss_kib = std::fs::read_to_string(report)
        .map_err(|e| e.to_string())?
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("no RSS from /usr/bin/time")?;
    Ok(Sample {
        seconds,
        rss_kib,
        output: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    })
}
