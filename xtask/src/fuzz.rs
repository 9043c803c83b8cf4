//! `cargo xtask fuzz [TARGET] [--seconds N]`: builds the libFuzzer targets in
//! `fuzz/` with cargo-fuzz on the stable toolchain, runs each for N seconds in
//! one process on one core, and copies what crashed into `fuzz/regressions/`,
//! where the workspace's regression test replays it on every `cargo test`.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{install, project_root, run_step};

/// The targets of `fuzz/Cargo.toml`, in the order they run.
const TARGETS: [&str; 6] = [
    "reference",
    "www_authenticate",
    "link",
    "manifest",
    "github_json",
    "cassette",
];

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 180;

/// What one target's run found.
struct Outcome {
    target: &'static str,
    executions: Option<u64>,
    findings: Vec<PathBuf>,
}

/// What the command line asked for.
struct Options {
    targets: Vec<&'static str>,
    seconds: u64,
    sanitizer: Sanitizer,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let Options {
        targets,
        seconds,
        sanitizer,
    } = parse_args(args)?;
    ensure_cargo_fuzz()?;
    let fuzz_dir = project_root().join("fuzz");
    let mut outcomes = Vec::new();
    for target in targets {
        run_step(
            &format!("build fuzz target {target}"),
            cargo_fuzz(&fuzz_dir, "build", sanitizer).arg(target),
        )?;
        outcomes.push(run_target(&fuzz_dir, target, seconds, sanitizer)?);
    }
    println!("\nfuzz: {seconds} s per target");
    println!("{:<18} {:>14}  findings", "target", "executions");
    for outcome in &outcomes {
        let executions = outcome
            .executions
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        println!(
            "{:<18} {executions:>14}  {}",
            outcome.target,
            outcome.findings.len()
        );
        for finding in &outcome.findings {
            println!("{:<18} {:>14}  kept as {}", "", "", finding.display());
        }
    }
    let found: usize = outcomes.iter().map(|o| o.findings.len()).sum();
    if found == 0 {
        Ok(())
    } else {
        Err(format!(
            "{found} finding(s), copied into fuzz/regressions/; fix each, and \
             `cargo test -p ghcr-transport --test it fuzz` replays them"
        ))
    }
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut targets = Vec::new();
    let mut seconds = DEFAULT_SECONDS;
    let mut sanitizer = Sanitizer::None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--asan" {
            sanitizer = Sanitizer::Address;
        } else if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or("--seconds takes a whole number above 0")?;
        } else if let Some(target) = TARGETS.iter().find(|t| **t == arg.as_str()) {
            targets.push(*target);
        } else {
            return Err(format!(
                "unknown fuzz target `{arg}`; the targets are {}",
                TARGETS.join(", ")
            ));
        }
    }
    if targets.is_empty() {
        targets.extend(TARGETS);
    }
    Ok(Options {
        targets,
        seconds,
        sanitizer,
    })
}

/// `cargo install --locked cargo-fuzz` unless it is already there.
fn ensure_cargo_fuzz() -> Result<(), String> {
    if install::on_path("cargo-fuzz") {
        return Ok(());
    }
    println!("cargo-fuzz: missing, installing it from crates.io (a few minutes on 2 cores)");
    run_step(
        "install cargo-fuzz",
        crate::cargo().args(["install", "--locked", "cargo-fuzz"]),
    )
}

/// Which sanitizer the targets are built with.
#[derive(Clone, Copy)]
enum Sanitizer {
    /// Coverage instrumentation only: stable flags, so the stable toolchain builds it as is.
    None,
    /// AddressSanitizer: cargo-fuzz passes `-Zsanitizer=address`, which a
    /// stable rustc accepts only with `RUSTC_BOOTSTRAP=1` (its runtime ships with stable).
    Address,
}

impl Sanitizer {
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Address => "address",
        }
    }
}

/// `cargo fuzz <subcommand> --sanitizer <s>` in `fuzz/`.
fn cargo_fuzz(fuzz_dir: &Path, subcommand: &str, sanitizer: Sanitizer) -> Command {
    let mut command = crate::cargo();
    command
        .current_dir(fuzz_dir)
        .args(["fuzz", subcommand, "--sanitizer", sanitizer.name()]);
    if matches!(sanitizer, Sanitizer::Address) {
        command.env("RUSTC_BOOTSTRAP", "1");
    }
    command
}

fn run_target(
    fuzz_dir: &Path,
    target: &'static str,
    seconds: u64,
    sanitizer: Sanitizer,
) -> Result<Outcome, String> {
    // New inputs go to fuzz/work (ignored by git); the seeds in fuzz/corpus stay as committed.
    let work = fuzz_dir.join("work").join(target);
    let seeds = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    for dir in [&work, &artifacts] {
        fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    let before = file_names(&artifacts);
    let log_path = fuzz_dir.join("work").join(format!("{target}.log"));
    let mut command = cargo_fuzz(fuzz_dir, "run", sanitizer);
    command
        .arg(target)
        .arg(&work)
        .arg(&seeds)
        .arg("--")
        // One process, one thread: `-jobs`/`-fork` would start more, and
        // `-jobs=1` alone already moves the output into a log file.
        .arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .stderr(Stdio::piped());
    println!(
        "\n==> fuzz {target} for {seconds} s (full output in {})",
        log_path.display()
    );
    let mut child = command
        .spawn()
        .map_err(|err| format!("could not start cargo fuzz: {err}"))?;
    let executions = follow_output(&mut child, &log_path)?;
    let status = child
        .wait()
        .map_err(|err| format!("cargo fuzz {target}: {err}"))?;
    let found: Vec<String> = file_names(&artifacts)
        .difference(&before)
        .cloned()
        .collect();
    if !status.success() && found.is_empty() {
        return Err(format!(
            "cargo fuzz run {target} failed ({status}) without a finding; see {}",
            log_path.display()
        ));
    }
    let kept_dir = fuzz_dir.join("regressions").join(target);
    let mut findings = Vec::new();
    for name in found {
        fs::create_dir_all(&kept_dir).map_err(|err| format!("{}: {err}", kept_dir.display()))?;
        let kept = kept_dir.join(&name);
        fs::copy(artifacts.join(&name), &kept)
            .map_err(|err| format!("{}: {err}", kept.display()))?;
        findings.push(kept);
    }
    Ok(Outcome {
        target,
        executions,
        findings,
    })
}

/// Copies libFuzzer's output into `log_path`, shows all but the lines for
/// each new input, and returns the executions it reported at the end.
fn follow_output(child: &mut std::process::Child, log_path: &Path) -> Result<Option<u64>, String> {
    let stderr = child.stderr.take().ok_or("cargo fuzz has no stderr")?;
    let mut log =
        fs::File::create(log_path).map_err(|err| format!("{}: {err}", log_path.display()))?;
    let mut executions = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|err| format!("reading cargo fuzz's output: {err}"))?;
        writeln!(log, "{line}").map_err(|err| format!("{}: {err}", log_path.display()))?;
        if let Some(n) = executions_in(&line) {
            executions = Some(n);
        }
        // `#123\tNEW    cov: …`: one line per input added to the corpus.
        let per_input =
            line.starts_with('#') && (line.contains("NEW ") || line.contains("REDUCE "));
        if !per_input {
            eprintln!("{line}");
        }
    }
    Ok(executions)
}

/// The count in `stat::number_of_executed_units: N` or `Done N runs in …`.
fn executions_in(line: &str) -> Option<u64> {
    let count = if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
        rest.trim()
    } else {
        line.strip_prefix("Done ")?.split_whitespace().next()?
    };
    count.parse().ok()
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.path().is_file())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executions_are_read_from_either_closing_line() {
        for (line, expected) in [
            ("stat::number_of_executed_units: 1234567", Some(1_234_567)),
            ("Done 42 runs in 181 second(s)", Some(42)),
            (
                "#1024\tpulse  cov: 1 ft: 2 corp: 3/4b exec/s: 5 rss: 6Mb",
                None,
            ),
            ("stat::peak_rss_mb: 40", None),
        ] {
            assert_eq!(executions_in(line), expected, "{line}");
        }
    }

    #[test]
    fn every_target_has_a_seed_corpus_and_a_binary() {
        let fuzz = project_root().join("fuzz");
        let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "fuzz/Cargo.toml has no [[bin]] {target}"
            );
            assert!(
                !file_names(&fuzz.join("corpus").join(target)).is_empty(),
                "fuzz/corpus/{target} has no seed"
            );
        }
    }
}
