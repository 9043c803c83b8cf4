//! The fuzz targets' checks, replayed without cargo-fuzz: every seed in
//! `fuzz/corpus/<target>` and every input a fuzz run kept in
//! `fuzz/regressions/<target>` goes through the very function the target
//! calls (`fuzz/src/checks.rs`), which panics when a parser panics or a
//! parsed value does not survive being written back.
//!
//! This crate's tests hold every parser the targets cover (references,
//! manifests and GitHub JSON from ghcr-types, challenges from ghcr-auth,
//! `Link` from here, cassettes from ghcr-sim), so no dependency is added.

use std::path::{Path, PathBuf};

#[allow(unreachable_pub)]
#[path = "../../../../fuzz/src/checks.rs"]
mod checks;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Files of `dir`, sorted; none when it does not exist (a target without findings).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `check` on every seed and kept finding of `target`: none may panic,
/// and every seed must be an input the parser accepts (a seed that stops
/// parsing would test only the error path).
fn replay(target: &str, check: fn(&[u8]) -> bool) {
    let seeds = inputs(&fuzz_dir().join("corpus").join(target));
    assert!(!seeds.is_empty(), "fuzz/corpus/{target} has no seed");
    let kept = inputs(&fuzz_dir().join("regressions").join(target));
    for path in seeds.iter().chain(&kept) {
        let data = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let Ok(parsed) = std::panic::catch_unwind(|| check(&data)) else {
            panic!(
                "{target}: {} fails its check (replay it with `cargo fuzz run {target} {}`)",
                path.display(),
                path.display()
            );
        };
        assert!(
            parsed || !seeds.contains(path),
            "{target}: the seed {} does not parse",
            path.display()
        );
    }
}

#[test]
fn reference_inputs() {
    replay("reference", checks::reference);
}

#[test]
fn www_authenticate_inputs() {
    replay("www_authenticate", checks::www_authenticate);
}

#[test]
fn link_inputs() {
    replay("link", checks::link);
}

#[test]
fn manifest_inputs() {
    replay("manifest", checks::manifest);
}

#[test]
fn github_json_inputs() {
    replay("github_json", checks::github_json);
}

#[test]
fn cassette_inputs() {
    replay("cassette", checks::cassette);
}
