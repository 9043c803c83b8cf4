//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use std::process::Command;

use crate::{install, package, project_root, run_step, trace_scan};

/// Cargo as CI runs it: without incremental caches, which are half of a
/// debug target (1.1 of 2.5 GiB) and only pay off on a rebuild, which a
/// clean clone never does; CI machines have run out of disk with them.
fn cargo() -> Command {
    let mut command = crate::cargo();
    command.env("CARGO_INCREMENTAL", "0");
    command
}

/// Prints the free space where the target folder is, so that a run that
/// fails for want of disk says so up front.
fn disk_report() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), std::path::PathBuf::from);
    let existing = target
        .ancestors()
        .find(|dir| dir.exists())
        .map(std::path::Path::to_path_buf);
    let Some(dir) = existing else { return };
    match Command::new("df")
        .args(["-h", "--output=avail,target"])
        .arg(&dir)
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let free = text.lines().nth(1).unwrap_or("?").trim();
            println!("    free disk for the target folder: {free}");
        }
        _ => println!("    free disk for the target folder: unknown (df failed)"),
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let install = !args.iter().any(|a| a == "--no-install");
    if install {
        println!("==> tools");
        install::cargo_deny()?;
        install::debian_packages()?;
        install::oras_venv()?;
        install::kubernetes_validate()?;
        install::cryptography()?;
        install::sigstore()?;
    }
    println!("\n==> disk");
    disk_report();
    run_step("rustfmt", cargo().args(["fmt", "--all", "--check"]))?;
    run_step(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The umbrella crate's features gate whole crates; the workspace build
    // turns every one on, so each subset is checked on its own.
    for features in ["", "registry", "packages", "trust", "sim"] {
        run_step(
            &format!("clippy: ghcr with features [{features}] only"),
            cargo().args([
                "clippy",
                "--package",
                "ghcr",
                "--locked",
                "--no-default-features",
                "--features",
                features,
                "--",
                "-D",
                "warnings",
            ]),
        )?;
    }
    run_step(
        "cargo deny (licenses, bans, sources; advisories need the network: see README)",
        cargo().args(["deny", "--locked", "check", "licenses", "bans", "sources"]),
    )?;
    package::docs()?;
    // Verified: each crate built from its package, in a folder of its own
    // removed before the test build (see package.rs for its cost).
    package::run(package::Verify::Build)?;
    // One test run, its tracing at TRACE into files, scanned for secrets.
    disk_report();
    let traces = trace_scan::dir();
    let _ = std::fs::remove_dir_all(&traces);
    run_step(
        &format!("tests (tracing into {})", traces.display()),
        cargo()
            .args(["test", "--workspace", "--locked"])
            .env("GHCR_TEST_TRACE_DIR", &traces),
    )?;
    println!("\n==> secrets in the tests' traces");
    trace_scan::run(&traces)?;
    println!("\nci: all steps passed");
    Ok(())
}
