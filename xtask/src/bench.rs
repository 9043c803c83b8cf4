//! `cargo xtask bench`: the registry-transfer benchmark, not part of CI.
//!
//! Builds `ghcr-registry`'s `registry_bench` example in release and runs
//! it: docker-registry on loopback, this crate against skopeo and curl,
//! one process per row. Needs docker-registry, skopeo, curl and
//! `/usr/bin/time` (Debian's `time`), about 5 GiB in the temporary folder
//! (`BENCH_DIR` to put it elsewhere), and a machine that is not compiling.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, project_root, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
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
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(
            || project_root().join("target"),
            |dir| project_root().join(dir),
        );
    let binary = target.join("release/examples/registry_bench");
    run_step(
        "run it (about five minutes)",
        Command::new(binary).arg("all").args(args),
    )
}
