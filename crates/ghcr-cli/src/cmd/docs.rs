//! `ghcr completion SHELL` and `ghcr man DIR`: the command line
//! described for shells and for `man`, from the same clap definition.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Args;

/// Prints the completion script for `shell` on stdout.
pub(crate) fn completion(shell: Shell) -> anyhow::Result<()> {
    let mut command = Args::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ghcr", &mut script);
    std::io::stdout()
        .lock()
        .write_all(&script)
        .context("could not write the completion script to stdout")
}

/// Writes `ghcr.1` and `ghcr-COMMAND.1` for every command (and
/// `ghcr-COMMAND-SUB.1` below) into `dir`, and prints their paths.
pub(crate) fn man(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create the folder {}", dir.display()))?;
    let command = Args::command();
    clap_mangen::generate_to(command, dir)
        .with_context(|| format!("could not write man pages into {}", dir.display()))?;
    let mut pages: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "1"))
        .collect();
    pages.sort();
    let mut stdout = std::io::stdout().lock();
    for page in pages {
        writeln!(stdout, "{}", page.display())?;
    }
    Ok(())
}
