//! The registry-transfer benchmark behind `cargo xtask bench`.
//!
//! `registry_bench all [--reps N] [--quick] [--peer PATH] [--out DIR] [--only TEXT]`
//! starts Debian's docker-registry (through ghcr-sim's peers) on loopback,
//! writes two incompressible OCI layouts (one 1 GiB layer; 16 layers of 64
//! MiB; `--quick`: 64 MiB and 16 x 4 MiB, one run, to check that every row
//! still works), and runs each row as its own process under
//! `/usr/bin/time` so peak RSS and CPU are per row: this crate, the
//! oci-client peer (`xtask/peers/oci-client-peer`, its own workspace),
//! skopeo (`--preserve-digests`) and curl (one monolithic PUT, one GET to
//! a file, the loopback ceiling). Then the latency rows: manifest HEADs and
//! GETs on one tag and full tag listings of a seeded repository, on an open
//! registry and on a token-auth one, and the small-image rows (`small.rs`:
//! many 4 x 64 KiB images pushed, then pulled, one after another in one
//! process) on both. It prints the median wall time, MB/s,
//! peak RSS, CPU, p50/p99, token requests and requests by method (from
//! the registry's access log, `access.rs`), and the ratio ours / peer.
//! `registry_bench row …` is one of our rows.
//! `registry_bench sync …` runs the sync rows against `skopeo sync`
//! (`syncs/`).

mod access;
mod curl;
mod latency;
mod layouts;
mod orchestrate;
mod plan;
mod report;
mod rows;
mod seed;
mod small;
mod stats;
mod syncs;
mod table;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("all") => orchestrate::run(&args[1..]),
        Some("row") => rows::run(&args[1..]),
        Some("sync") => syncs::run(&args[1..]),
        Some("sync-row") => syncs::run_row(&args[1..]),
        _ => Err("usage: registry_bench all|sync [--reps N] [--quick] [--peer PATH] [--out DIR] [--only TEXT] | row <kind> <args…> | sync-row <args…>".to_owned()),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("registry_bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
