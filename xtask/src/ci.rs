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
    run_step(
        "cargo deny (licenses, bans, sources; advisories need the network: see README)",
        cargo().args(["deny", "--locked", "check", "licenses", "bans", "sources"]),
    )?;
    run_step("tests", cargo().args(["test", "--workspace", "--locked"]))?;
    println!("\nci: all steps passed");
    Ok(())
}
