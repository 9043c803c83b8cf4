//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use crate::{cargo, install, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let install = !args.iter().any(|a| a == "--no-install");
    if install {
        println!("==> tools");
        install::cargo_deny()?;
        install::debian_packages()?;
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
    run_step("tests", cargo().args(["test", "--workspace", "--locked"]))?;
    println!("\nci: all steps passed");
    Ok(())
}
