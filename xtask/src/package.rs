//! The publish check CI runs: every crate goes through `cargo publish
//! --dry-run` (packed, its manifest and lock file checked against
//! crates.io), and no packaged file is a test, a fixture or holds a
//! credential.
//!
//! CI verifies: each packed crate is built from its package, as crates.io
//! would build it (cargo 1.90+ verifies a workspace publish against a
//! local overlay of the crates it packs, so our unpublished path
//! dependencies resolve). That build shares nothing with the test build (a
//! packed crate has no workspace `[profile]` and its own feature set: 302
//! crates compiled again, 310 s of CPU, about 2 GB), so it goes into a
//! target folder of its own, removed when the step ends, and runs before
//! the test build: the two never hold the disk at once. Measured on the
//! project's 2-core build machine (cargo 1.95), shared with other builds
//! (load 7): 12 min 18 s cold, 53 s warm; the CI run states its own time.
//! `cargo xtask package` (no `--verify`) packs with `--no-verify`, for a
//! quick look at what the packages hold.
//!
//! When crates.io cannot be reached (no network, `CARGO_NET_OFFLINE`), the
//! same packing runs offline as `cargo package --workspace --offline`,
//! and says so; with `--verify` on a cargo whose verification cannot see
//! our unpublished crates, it falls back to `--no-verify`, and says so.
//! Any other failure fails the step.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

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

/// Whether the packed crates are built, as crates.io would build them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// `--no-verify`: packed and checked, not built (a quick look).
    Skip,
    /// Each packed crate built from its package (CI), in a target folder
    /// of its own that is removed afterwards.
    Build,
}

/// Why a failed `cargo publish --dry-run` may be retried another way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// crates.io could not be reached, or cargo is offline.
    Network,
    /// Verification looked for one of our crates on crates.io.
    Unpublished,
}

/// The known cause of a failed dry run, from cargo's stderr.
fn known_failure(stderr: &str) -> Option<Known> {
    const NETWORK: [&str; 7] = [
        "attempting to make an HTTP request, but --offline was specified",
        "download of config.json failed",
        "failed to download from `https://index.crates.io",
        "Could not resolve host",
        "Could not connect to server",
        "failed to query replaced source registry",
        "spurious network error",
    ];
    if stderr.contains("no matching package named `ghcr") {
        Some(Known::Unpublished)
    } else if NETWORK.iter().any(|text| stderr.contains(text)) {
        Some(Known::Network)
    } else {
        None
    }
}

/// `cargo publish --dry-run` of every crate, then what the packages hold.
pub(crate) fn run(verify: Verify) -> Result<(), String> {
    let how = match verify {
        Verify::Skip => publish(verify, None)?,
        Verify::Build => {
            let dir = verify_dir();
            let how = publish(verify, Some(&dir));
            // Its build fits nothing else: free the disk for the tests.
            if let Err(err) = std::fs::remove_dir_all(&dir)
                && err.kind() != std::io::ErrorKind::NotFound
            {
                return Err(format!("could not remove {}: {err}", dir.display()));
            }
            how?
        }
    };
    println!("    {how}");
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

/// Where the verification builds: beside the workspace's target folder.
fn verify_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || project_root().join("target"),
            |dir| project_root().join(dir),
        )
        .join("publish-verify")
}

/// The dry run, retried another way only for a known cause; what ran.
/// `target`: the target folder its builds go to, when not the workspace's.
fn publish(verify: Verify, target: Option<&Path>) -> Result<&'static str, String> {
    let in_target = || {
        let mut command = cargo();
        if let Some(dir) = target {
            command.env("CARGO_TARGET_DIR", dir);
        }
        command
    };
    let flags = [
        "--workspace",
        "--exclude",
        "xtask",
        "--locked",
        "--allow-dirty",
    ];
    let no_verify: &[&str] = match verify {
        Verify::Skip => &["--no-verify"],
        Verify::Build => &[],
    };
    let title = match verify {
        Verify::Skip => {
            "cargo publish --dry-run --no-verify (every crate packed and checked against crates.io; not built, for time: see xtask/src/package.rs)"
        }
        Verify::Build => {
            "cargo publish --dry-run (every crate packed, checked against crates.io and built from its package)"
        }
    };
    let mut command = in_target();
    command
        .args(["publish", "--dry-run"])
        .args(flags)
        .args(no_verify);
    let stderr = run_keeping_stderr(title, &mut command)?;
    let Some(stderr) = stderr else {
        return Ok(match verify {
            Verify::Skip => "dry run passed, not verified (the build step is skipped for time)",
            Verify::Build => "dry run passed, verified: each packed crate built",
        });
    };
    match (known_failure(&stderr), verify) {
        (Some(Known::Network), _) => {
            println!("    crates.io could not be reached: packing offline instead");
            let mut command = in_target();
            command
                .args(["package", "--offline"])
                .args(flags)
                .args(no_verify);
            run_step(
                "cargo package --offline (the same packing, without crates.io's checks)",
                &mut command,
            )?;
            Ok(match verify {
                Verify::Skip => {
                    "packed offline, not verified: crates.io was unreachable, so its checks did not run"
                }
                Verify::Build => {
                    "packed offline and verified: crates.io was unreachable, so its checks did not run"
                }
            })
        }
        (Some(Known::Unpublished), Verify::Build) => {
            println!(
                "    verification looked for our unpublished crates on crates.io: packing with --no-verify"
            );
            let mut command = in_target();
            command
                .args(["publish", "--dry-run", "--no-verify"])
                .args(flags);
            run_step("cargo publish --dry-run --no-verify", &mut command)?;
            Ok(
                "dry run passed, not verified: this cargo cannot verify against our unpublished crates (1.90+ can)",
            )
        }
        _ => Err("cargo publish --dry-run failed".to_owned()),
    }
}

/// Runs `command` as [`run_step`] does, its stderr shown as it comes and
/// kept: `None` on success, else what it printed there.
fn run_keeping_stderr(name: &str, command: &mut Command) -> Result<Option<String>, String> {
    println!("\n==> {name}");
    println!("    $ {}", crate::describe(command));
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("{name}: could not start cargo: {err}"))?;
    let mut kept = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|err| format!("{name}: could not wait for cargo: {err}"))?;
    Ok((!status.success()).then_some(kept))
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

/// `RUSTDOCFLAGS=-D warnings cargo doc` for every crate but xtask: every
/// intra-doc link resolves. ghcr-cli's binary is called `ghcr`, as the
/// umbrella library is, and both write `target/doc/ghcr` (cargo#6313:
/// documented together, one overwrites the other at random), so the CLI
/// is documented in a run of its own, first, and the library's pages are
/// the ones left.
pub(crate) fn docs() -> Result<(), String> {
    let mut cli: Command = cargo();
    cli.env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--package",
        "ghcr-cli",
        "--no-deps",
        "--locked",
    ]);
    run_step(
        "cargo doc (RUSTDOCFLAGS=-D warnings; ghcr-cli, the binary's own docs)",
        &mut cli,
    )?;
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

    #[test]
    fn only_known_causes_are_retried() {
        // What cargo 1.95 printed here for each (the unpublished one for
        // `cargo publish -p ghcr-auth`, which packs no overlay of ghcr-types).
        let table = [
            (
                "error: attempting to make an HTTP request, but --offline was specified",
                Some(Known::Network),
            ),
            (
                "    Updating crates.io index\nerror: download of config.json failed\n\nCaused by:\n  failed to download from `https://index.crates.io/config.json`\n\nCaused by:\n  [7] Could not connect to server (Failed to connect to 127.0.0.1 port 9 after 0 ms: Could not connect to server)",
                Some(Known::Network),
            ),
            (
                "  [6] Could not resolve hostname (Could not resolve host: index.crates.io)",
                Some(Known::Network),
            ),
            (
                "error: failed to prepare local package for uploading\n\nCaused by:\n  no matching package named `ghcr-types` found\n  location searched: crates.io index",
                Some(Known::Unpublished),
            ),
            (
                "error[E0433]: failed to resolve: use of undeclared crate or module `foo`\nerror: failed to verify package tarball",
                None,
            ),
            (
                "error: 1 files in the working directory contain changes that were not yet committed into git",
                None,
            ),
        ];
        for (stderr, expected) in table {
            assert_eq!(known_failure(stderr), expected, "{stderr}");
        }
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-package-{}", std::process::id()));
        drop(std::fs::remove_dir_all(&dir));
        dir
    }
}
