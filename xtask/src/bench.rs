//! `cargo xtask bench [--reps N] [--quick]`: the registry-transfer
//! benchmark, not part of CI.
//!
//! Installs docker-registry and skopeo when missing, as `cargo xtask ci`
//! does (apt-get as root, else it names the command), checks curl and GNU
//! time (naming the command that installs them); builds `ghcr-registry`'s
//! `registry_bench` example in release and runs it: docker-registry on
//! loopback, this crate against skopeo and curl, one process per row.
//! The full run needs about 5 GiB in the temporary folder (`BENCH_DIR` to
//! put it elsewhere) and a machine that is not compiling; `--quick` uses
//! 64 MiB and 16 x 4 MiB images, once, to check that every row still works.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, project_root, run_step};

/// What the rows run besides docker-registry and skopeo: the binary and
/// the Debian package that has it.
const TOOLS: [(&str, &str); 2] = [("/usr/bin/curl", "curl"), ("/usr/bin/time", "time")];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    tools()?;
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
    let duration = if args.iter().any(|a| a == "--quick") {
        "under a minute"
    } else {
        "about five minutes"
    };
    run_step(
        &format!("run it ({duration})"),
        Command::new(binary).arg("all").args(args),
    )
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
