//! `cargo xtask bench [cleanup | registry | sync | trust] [--reps N] [--quick]`:
//! the benchmarks, not part of CI.
//!
//! Registry rows: installs docker-registry and skopeo when missing, as
//! `cargo xtask ci` does (apt-get as root, else it names the command),
//! checks curl and GNU time (naming the command that installs them); builds
//! `ghcr-registry`'s `registry_bench` example and the oci-client peer
//! (`xtask/peers/oci-client-peer`, its own workspace and lock file, so
//! oci-client never enters ours; target folder `<target>/peers`) in
//! release and runs them: docker-registry on loopback (a fresh one per
//! transfer row, with its access log on for the requests by method), this
//! crate against oci-client, skopeo and curl, one process per row, then
//! the latency rows and the small-image rows (256 images of 4 x 64 KiB
//! pushed and pulled in one process, open and token auth); the tables also
//! go to `target/bench/report.md` and `report.json`. The full run needs about 5 GiB in the temporary folder
//! (`BENCH_DIR` to put it elsewhere) and a machine that is not compiling;
//! `--quick` uses 64 MiB and 16 x 4 MiB images, 100 calls, 1,000 tags and
//! 32 small images, once, to check that every row still works.
//!
//! Cleanup rows, after the registry rows (`cleanup` runs only these,
//! `registry` only those): `ghcr-packages`' `cleanup_bench` example plans an
//! organization of 200 packages (10,000 and 100,000 versions, each with
//! few, some and many manifests to read; `--quick`: 10,000) against the
//! fake in its own process, then deletes 300 versions (`--quick`: 30) at
//! the default pacing, client and fake again in two processes, and
//! extrapolates the deletions of the planned rows from that rate; about
//! two and a half minutes (`--quick`: ten seconds); its tables and JSON
//! lines go to `target/bench/cleanup.md` and `cleanup.json`.
//!
//! Sync rows (`sync` runs only these; not part of the default run): the
//! same `registry_bench` binary, `sync` mode: issue 14's rows, our sync
//! library against `skopeo sync` from one fresh docker-registry to another
//! per run (200 tags of 4 x 64 KiB with a shared base, `--quick`: 20; 10
//! tags of 4 x 64 MiB, `--quick`: 2 of 4 x 8 MiB; that again unchanged),
//! each row marked `met` or `missed` against the targets; the full
//! run needs about 8 GiB in the temporary folder. Its table and JSON lines
//! go to `target/bench/sync.md` and `sync.json`. `--explain` adds the rows
//! that show where our RSS goes.
//!
//! Trust rows (`trust` runs only these; not part of the default run):
//! see `bench_trust.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, project_root, run_step};

/// The oci-client peer's own workspace, outside ours (see its Cargo.toml).
const PEER_MANIFEST: &str = "xtask/peers/oci-client-peer/Cargo.toml";

/// What the rows run besides docker-registry and skopeo: the binary and
/// the Debian package that has it.
const TOOLS: [(&str, &str); 2] = [("/usr/bin/curl", "curl"), ("/usr/bin/time", "time")];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("trust") {
        return crate::bench_trust::run(&args[1..]);
    }
    let (registry, cleanup, sync) = match args.first().map(String::as_str) {
        Some("cleanup") => (false, true, false),
        Some("registry") => (true, false, false),
        Some("sync") => (false, false, true),
        _ => (true, true, false),
    };
    let args: Vec<String> = args
        .iter()
        .filter(|a| !matches!(a.as_str(), "cleanup" | "registry" | "sync"))
        .cloned()
        .collect();
    let quick = args.iter().any(|a| a == "--quick");
    if registry {
        registry_rows(&args, quick)?;
    }
    if sync {
        sync_rows(&args, quick)?;
    }
    if cleanup {
        cleanup_rows(quick)?;
    }
    Ok(())
}

/// The target folder, `CARGO_TARGET_DIR` when set.
pub(crate) fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(
            || project_root().join("target"),
            |dir| project_root().join(dir),
        )
}

/// Builds `registry_bench` in release; its path.
fn build_registry_bench() -> Result<PathBuf, String> {
    run_step(
        "build the benchmark (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "ghcr-registry",
            "--example",
            "registry_bench",
        ]),
    )?;
    Ok(target().join("release/examples/registry_bench"))
}

/// Builds the oci-client peer in release, in its own target folder; its path.
fn build_peer() -> Result<PathBuf, String> {
    let peers = target().join("peers");
    let mut peer = cargo();
    peer.args(["build", "--release", "--locked", "--manifest-path"])
        .arg(project_root().join(PEER_MANIFEST))
        .arg("--target-dir")
        .arg(&peers);
    // `cargo run` gives xtask its own CARGO_PKG_* and CARGO_MANIFEST_*;
    // ring's build script reruns when they change, so without this the
    // peer's TLS crates rebuild whenever a build by hand came between.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_MANIFEST_") {
            peer.env_remove(key.as_ref());
        }
    }
    run_step(
        "build the oci-client peer (release, its own workspace and lock file)",
        &mut peer,
    )?;
    Ok(peers.join("release/oci-client-peer"))
}

fn registry_rows(args: &[String], quick: bool) -> Result<(), String> {
    tools()?;
    let binary = build_registry_bench()?;
    let peer = build_peer()?;
    let duration = if quick {
        "a few minutes"
    } else {
        "about ten minutes"
    };
    run_step(
        &format!("run it ({duration})"),
        Command::new(binary)
            .arg("all")
            .args(args)
            .arg("--peer")
            .arg(peer)
            .arg("--out")
            .arg(target().join("bench")),
    )
}

fn sync_rows(args: &[String], quick: bool) -> Result<(), String> {
    tools()?;
    let binary = build_registry_bench()?;
    let duration = if quick {
        "under a minute"
    } else {
        "about ten minutes"
    };
    run_step(
        &format!("run the sync rows ({duration})"),
        Command::new(binary)
            .arg("sync")
            .args(args)
            .arg("--out")
            .arg(target().join("bench")),
    )
}

fn cleanup_rows(quick: bool) -> Result<(), String> {
    run_step(
        "build the cleanup benchmark (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "ghcr-packages",
            "--example",
            "cleanup_bench",
        ]),
    )?;
    let target = target();
    let mut command = Command::new(target.join("release/examples/cleanup_bench"));
    command.arg("all").arg("--out").arg(target.join("bench"));
    if quick {
        command.arg("--quick");
    }
    let duration = if quick {
        "about ten seconds"
    } else {
        "about two and a half minutes"
    };
    run_step(&format!("run it ({duration})"), &mut command)
}

/// docker-registry and skopeo installed as `cargo xtask ci` installs them
/// (apt-get as root, else the command to run); curl and GNU time checked,
/// with the command that installs what is missing.
fn tools() -> Result<(), String> {
    crate::install::debian_packages()?;
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(binary, _)| !Path::new(binary).is_file())
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        println!("curl, GNU time: already installed");
        return Ok(());
    }
    Err(format!(
        "the benchmark also needs {}; run `sudo apt-get install -y {}`",
        missing.join(" and "),
        missing.join(" ")
    ))
}
