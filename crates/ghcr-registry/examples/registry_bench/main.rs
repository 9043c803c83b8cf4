//! The registry-transfer benchmark behind `cargo xtask bench`.
//!
//! `registry_bench all [--reps N] [--quick]` starts Debian's
//! docker-registry (through ghcr-sim's peers) on loopback, writes two
//! incompressible OCI layouts (one 1 GiB layer; 16 layers of 64 MiB;
//! `--quick`: 64 MiB and 16 x 4 MiB, one run, to check that every row still
//! works), and runs each row as its own process under
//! `/usr/bin/time` so peak RSS is per row: this crate, skopeo
//! (`--preserve-digests`) and curl (one monolithic PUT, one GET to a file,
//! the loopback ceiling). It prints the median wall time, MB/s, peak RSS
//! and the ratio to skopeo. `registry_bench row …` is one of our rows;
//! `registry_bench sync …` runs the sync rows against `skopeo sync`
//! (`syncs/`).

mod layouts;
mod orchestrate;
mod plan;
mod rows;
mod syncs;
mod table;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("all") => orchestrate::run(&args[1..]),
        Some("row") => rows::run(&args[1..]),
        Some("sync") => syncs::run(&args[1..]),
        Some("sync-row") => syncs::run_row(&args[1..]),
        _ => Err("usage: registry_bench all|sync [--reps N] [--quick] | row <kind> <args…> | sync-row <args…>".to_owned()),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("registry_bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
