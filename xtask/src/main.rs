//! `cargo xtask`: the workspace's automation, in Rust so it runs wherever cargo does.
//!
//! ```text
//! cargo xtask ci      fmt, clippy, deny, tests; installs what a fresh machine lacks
//! cargo xtask tidy    the repository's own lint (file headers, sizes, leftovers, secrets)
//! cargo xtask bench   registry transfers against docker-registry, skopeo and curl; cleanup planning at scale
//! cargo xtask record  re-record fixtures/ by running the replay tests against the fake
//! cargo xtask fixtures-check  verify and replay every cassette in fixtures/
//! cargo xtask man     man pages for ghcr and each command into target/man
//! cargo xtask readmes each library crate's README.md from its crate docs
//! cargo xtask package cargo doc -D warnings, cargo package, and a scan of what it packs
//! cargo xtask scan-traces     scan the tests' trace files (GHCR_TEST_TRACE_DIR) for secrets
//! cargo xtask fuzz    run the cargo-fuzz targets in fuzz/, keep what crashes
//! ```

mod bench;
mod bench_trust;
mod ci;
mod fuzz;
mod install;
mod man;
mod package;
mod readme;
mod record;
mod tidy;
mod trace_scan;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("tidy") => tidy::run(),
        Some("install") => install::debian_packages()
            .and_then(|()| install::oras_venv())
            .and_then(|()| install::kubernetes_validate())
            .and_then(|()| install::cryptography())
            .and_then(|()| install::sigstore()),
        Some("bench") => bench::run(&args[1..]),
        Some("record") => record::record(&args[1..]),
        Some("fixtures-check") => record::fixtures_check(),
        Some("man") => man::run(&args[1..]),
        Some("readmes") => readme::run(),
        Some("package") => {
            let verify = if args.iter().any(|a| a == "--verify") {
                package::Verify::Build
            } else {
                package::Verify::Skip
            };
            package::docs().and_then(|()| package::run(verify))
        }
        Some("scan-traces") => trace_scan::run(&trace_scan::dir()),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         ci      run everything CI runs: fmt, clippy, cargo deny, the tests\n\
         \x20       (installs cargo-deny, docker-registry, skopeo and oras-py when missing)\n\
         install the test tools: docker-registry, skopeo, pass (apt), oras-py, sigstore-python (venvs)\n\
         tidy    check file headers, file sizes, leftover dbg!/todo!, secrets in fixtures\n\
         bench [cleanup|registry|sync|trust] [--reps N] [--quick]  push, pull, copy vs skopeo and curl on loopback;\n\
         \x20       cleanup planning of 10,000 and 100,000 versions, deletes/min (not CI);\n\
         \x20       `bench sync [--explain]`: issue 14's sync rows vs skopeo sync (target/bench/sync.md)\n\
         \x20       `bench trust`: verifications/s, ghcr verify vs sigstore-python (target/bench/trust.md)\n\
         record [FILTER]  re-record fixtures/ (replay:: tests with GHCR_FIXTURES=record)\n\
         fixtures-check   verify, self-replay and replay every cassette in fixtures/\n\
         man [DIR]        man pages (ghcr.1, one per command) into DIR (default target/man)\n\
         readmes          write each library crate's README.md from its src/lib.rs docs\n\
         package [--verify]  cargo doc -D warnings, cargo publish --dry-run (--verify: build each\n\
         \x20       packed crate, as CI does not for time), no tests/fixtures/secrets packed\n\
         scan-traces      scan target/test-traces (the tests' tracing, see ci) for secrets\n\
         fuzz [TARGET] [--seconds N] [--asan]  run the cargo-fuzz targets in fuzz/,\n\
         \x20       N s each (default 180), one core; crashes go to fuzz/regressions/ (not CI)"
    );
}

/// The workspace root, found from this crate's manifest directory.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The cargo that runs us, so that toolchain overrides carry through.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Prints a step, runs it, and fails with its name when it fails.
pub(crate) fn run_step(name: &str, command: &mut Command) -> Result<(), String> {
    println!("\n==> {name}");
    println!("    $ {}", describe(command));
    let status = command
        .status()
        .map_err(|err| format!("{name}: could not start `{}`: {err}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status})"))
    }
}

pub(crate) fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
