//! The repository's own lint, run by `cargo xtask tidy` and by `cargo test`.
//!
//! Every Rust file opens with a `//!` doc, stays under the size where it
//! stops being one concern, and holds no leftover `dbg!`, `todo!` or
//! `unimplemented!`; fixtures hold no credentials.

use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// Files above this many lines fail tidy; STYLE.md asks to split at about 600.
const MAX_LINES: usize = 800;

pub(crate) fn run() -> Result<(), String> {
    let problems = check(&project_root());
    if problems.is_empty() {
        println!("tidy: clean");
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for dir in ["crates", "xtask"] {
        for file in files(&root.join(dir), "rs") {
            check_rust_file(root, &file, &mut problems);
        }
    }
    for file in files(&root.join("fixtures"), "") {
        check_fixture(root, &file, &mut problems);
    }
    problems
}

fn check_rust_file(root: &Path, file: &Path, problems: &mut Vec<String>) {
    let Ok(text) = fs::read_to_string(file) else {
        return;
    };
    let name = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    if !text.trim_start().starts_with("//!") {
        problems.push(format!("{name}: does not start with a `//!` doc comment"));
    }
    let lines = text.lines().count();
    if lines > MAX_LINES {
        problems.push(format!(
            "{name}: {lines} lines; split it (limit {MAX_LINES})"
        ));
    }
    // Split the needles so this file does not trip over itself.
    for needle in [
        concat!("db", "g!("),
        concat!("to", "do!("),
        concat!("unimpl", "emented!("),
    ] {
        if text.contains(needle) {
            problems.push(format!("{name}: contains `{needle}`"));
        }
    }
}

fn check_fixture(root: &Path, file: &Path, problems: &mut Vec<String>) {
    let Ok(text) = fs::read_to_string(file) else {
        return;
    };
    let name = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    let lowered = text.to_ascii_lowercase();
    for needle in ["ghp_", "github_pat_", "gho_", "ghs_", "basic ", "bearer "] {
        if lowered.contains(needle) {
            problems.push(format!(
                "{name}: looks like it holds a credential (`{needle}`)"
            ));
        }
    }
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            found.extend(files(&path, extension));
        } else if extension.is_empty() || path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_is_tidy() {
        let problems = check(&project_root());
        assert!(problems.is_empty(), "tidy:\n{}", problems.join("\n"));
    }

    #[test]
    fn tidy_catches_what_it_claims_to() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let src = dir.join("crates").join("demo");
        let fixtures = dir.join("fixtures");
        fs::create_dir_all(&src).unwrap();
        fs::create_dir_all(&fixtures).unwrap();
        fs::write(
            src.join("bad.rs"),
            format!("fn main() {{ {}1); }}\n", concat!("db", "g!(")),
        )
        .unwrap();
        fs::write(
            fixtures.join("cassette.json"),
            "{\"authorization\": \"Bearer abc\"}",
        )
        .unwrap();
        let problems = check(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("`//!`")));
        assert!(problems.iter().any(|p| p.contains("dbg")));
        assert!(problems.iter().any(|p| p.contains("credential")));
    }
}
