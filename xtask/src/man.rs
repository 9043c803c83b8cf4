//! `cargo xtask man [DIR]`: the man pages (`ghcr.1` and one per command),
//! written by the `ghcr` binary itself into DIR (default `target/man`).

use crate::{cargo, project_root, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let dir = args
        .first()
        .map_or_else(|| project_root().join("target").join("man"), Into::into);
    run_step(
        "man pages",
        cargo()
            .args(["run", "--quiet", "--locked", "-p", "ghcr-cli", "--", "man"])
            .arg(&dir),
    )?;
    println!("\nman: pages in {}; read one with `man -l`", dir.display());
    Ok(())
}
