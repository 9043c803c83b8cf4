//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use crate::{cargo, install, package, run_step, trace_scan};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let install = !args.iter().any(|a| a == "--no-install");
    if install {
        println!("==> tools");
        install::cargo_deny()?;
        install::debian_packages()?;
        install::oras_venv()?;
        install::kubernetes_validate()?;
    }
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
    for features in ["", "registry", "packages", "sim"] {
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
    package::run()?;
    // One test run, its tracing at TRACE into files, scanned for secrets.
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
