//! The publish check CI runs: every crate goes through `cargo publish
//! --dry-run --no-verify` (verifying would build each crate again from
//! crates.io, where the workspace's own crates are not published yet), and
//! no packaged file is a test, a fixture or holds a credential.

use std::path::Path;
use std::process::Command;

use crate::tidy::credential_in;
use crate::{cargo, project_root, run_step};

/// The crates that would be published, in layer order.
const CRATES: [&str; 9] = [
    "ghcr-types",
    "ghcr-auth",
    "ghcr-transport",
    "ghcr-registry",
    "ghcr-trust",
    "ghcr-packages",
    "ghcr-sim",
    "ghcr",
    "ghcr-cli",
];

pub(crate) fn run() -> Result<(), String> {
    run_step(
        "cargo publish --dry-run (every crate packed and checked as for crates.io; --no-verify: our crates are not on crates.io yet)",
        cargo().args([
            "publish",
            "--dry-run",
            "--workspace",
            "--exclude",
            "xtask",
            "--no-verify",
            "--locked",
            "--allow-dirty",
        ]),
    )?;
    println!("\n==> packaged files: no tests, fixtures or credentials");
    let mut problems = Vec::new();
    for name in CRATES {
        let output = cargo()
            .args(["package", "--list", "--allow-dirty", "-p", name])
            .output()
            .map_err(|e| format!("cargo package --list -p {name}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo package --list -p {name} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let listed = String::from_utf8_lossy(&output.stdout).into_owned();
        problems.extend(check(name, &listed, &crate_dir(name)));
    }
    if problems.is_empty() {
        println!("    {} crates clean", CRATES.len());
        Ok(())
    } else {
        Err(format!("packaged files:\n  {}", problems.join("\n  ")))
    }
}

fn crate_dir(name: &str) -> std::path::PathBuf {
    project_root().join("crates").join(name)
}

/// What is wrong with the files `listed` for crate `name` (paths relative
/// to `dir`; files cargo generates are not on disk and are skipped).
fn check(name: &str, listed: &str, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for file in listed.lines().map(str::trim).filter(|f| !f.is_empty()) {
        let test_data = file.starts_with("tests/")
            || file.starts_with("benches/")
            || file
                .split('/')
                .any(|part| part == "fixtures" || part == "proptest-regressions");
        if test_data {
            problems.push(format!("{name}: {file} is test data"));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        // A made-up credential in an example says so on its line.
        let text: String = text
            .lines()
            .filter(|line| !line.contains("example credential"))
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(kind) = credential_in(&text) {
            problems.push(format!("{name}: {file} holds {kind}"));
        }
    }
    problems
}

/// `RUSTDOCFLAGS=-D warnings cargo doc` for the library crates: every
/// intra-doc link resolves.
pub(crate) fn docs() -> Result<(), String> {
    let mut command: Command = cargo();
    command
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--locked"])
        .args(["--exclude", "ghcr-cli", "--exclude", "xtask"]);
    run_step(
        "cargo doc (RUSTDOCFLAGS=-D warnings; library crates)",
        &mut command,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_fixtures_and_credentials_are_refused() {
        let dir = tempfile_dir();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let token = format!("ghp_{}", "a1".repeat(18));
        std::fs::write(
            dir.join("src/leak.rs"),
            format!("const T: &str = \"{token}\";"),
        )
        .unwrap();
        let listed = "Cargo.toml\nsrc/lib.rs\nsrc/leak.rs\ntests/it/main.rs\nsrc/fixtures/a.json\n";
        let problems = check("demo", listed, &dir);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("src/leak.rs") && problems[0].contains("GitHub token"));
        assert!(problems[1].contains("tests/it/main.rs"));
        assert!(problems[2].contains("fixtures"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-package-{}", std::process::id()));
        drop(std::fs::remove_dir_all(&dir));
        dir
    }
}
