//! `cargo xtask record` regenerates `fixtures/`; `cargo xtask fixtures-check`
//! proves every cassette still replays.
//!
//! Convention (documented in ghcr-sim's crate docs): replay tests live in a
//! module named `replay` inside a crate's `tests/it`, so
//! `cargo test --test it replay::` selects them. Recording runs them with
//! `GHCR_FIXTURES=record`: each starts ghcr-sim's fake ghcr.io (or, with
//! `GHCR_FIXTURES_REGISTRY`, `GHCR_FIXTURES_USER` and `GHCR_FIXTURES_TOKEN`
//! set, a real registry) and writes its cassette.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{cargo, project_root, run_step};

/// The variable ghcr-sim's fixture helper reads.
const MODE_VAR: &str = "GHCR_FIXTURES";

/// Packages whose `tests/it` has a `replay` module, sorted.
fn replay_packages(root: &Path) -> Vec<String> {
    let mut packages = Vec::new();
    let Ok(crates) = fs::read_dir(root.join("crates")) else {
        return packages;
    };
    for entry in crates.flatten() {
        let tests = entry.path().join("tests").join("it");
        let Ok(files) = fs::read_dir(&tests) else {
            continue;
        };
        let has_replay = files.flatten().any(|file| {
            fs::read_to_string(file.path()).is_ok_and(|text| text.contains("mod replay"))
        });
        if has_replay {
            packages.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    packages.sort();
    packages
}

/// `cargo test -p … --test it replay::<filter>`.
fn replay_tests(packages: &[String], filter: &str) -> Command {
    let mut command = cargo();
    command.arg("test");
    for package in packages {
        command.args(["-p", package]);
    }
    command.args(["--test", "it", &format!("replay::{filter}")]);
    command
}

pub(crate) fn record(args: &[String]) -> Result<(), String> {
    let filter = args.first().map_or("", String::as_str);
    let root = project_root();
    let packages = replay_packages(&root);
    if packages.is_empty() {
        return Err("no crate has a `replay` module in tests/it; nothing to record".into());
    }
    match std::env::var("GHCR_FIXTURES_REGISTRY") {
        Ok(registry) if !registry.is_empty() => {
            println!("recording against {registry} (GHCR_FIXTURES_REGISTRY)");
        }
        _ => println!(
            "recording against ghcr-sim's fake ghcr.io (set GHCR_FIXTURES_REGISTRY, _USER and _TOKEN for a real registry)"
        ),
    }
    let mut command = replay_tests(&packages, filter);
    command.env(MODE_VAR, "record");
    run_step("record fixtures", &mut command)?;
    let mut replay = replay_tests(&packages, filter);
    replay.env_remove(MODE_VAR);
    run_step("replay the new fixtures", &mut replay)?;
    println!(
        "\nfixtures written under {}",
        root.join("fixtures").display()
    );
    Ok(())
}

pub(crate) fn fixtures_check() -> Result<(), String> {
    let root = project_root();
    // Loads every cassette, verifies side files by hash, replays each against itself.
    let mut verify = cargo();
    verify
        .args(["test", "-p", "ghcr-sim", "--test", "it", "replay::"])
        .env_remove(MODE_VAR);
    run_step("load, verify and self-replay every cassette", &mut verify)?;
    let packages: Vec<String> = replay_packages(&root)
        .into_iter()
        .filter(|package| package != "ghcr-sim")
        .collect();
    if packages.is_empty() {
        return Ok(());
    }
    let mut replay = replay_tests(&packages, "");
    replay.env_remove(MODE_VAR);
    run_step("run the replay tests", &mut replay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_crates_with_replay_tests() {
        let dir = std::env::temp_dir().join(format!("xtask-record-{}", std::process::id()));
        for (name, text) in [("a", "mod replay;\n"), ("b", "mod other;\n")] {
            let tests = dir.join("crates").join(name).join("tests").join("it");
            fs::create_dir_all(&tests).unwrap();
            fs::write(tests.join("main.rs"), text).unwrap();
        }
        let found = replay_packages(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, ["a"]);
        let command = replay_tests(&found, "push_manifest");
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            ["test", "-p", "a", "--test", "it", "replay::push_manifest"]
        );
    }
}
