//! Installs the tools CI needs on a fresh machine, saying what it does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run_step;

/// Whether `program` can be found on `PATH`.
pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// `cargo install --locked cargo-deny` unless it is already there.
pub(crate) fn cargo_deny() -> Result<(), String> {
    if on_path("cargo-deny") {
        println!("cargo-deny: already installed");
        return Ok(());
    }
    println!("cargo-deny: missing, installing it from crates.io (a few minutes on 2 cores)");
    run_step(
        "install cargo-deny",
        crate::cargo().args(["install", "--locked", "cargo-deny"]),
    )
}

/// Debian's `docker-registry` and `skopeo`, which the integration tests run,
/// and the `pass` credential helper (with `pass` itself) that `ghcr login`
/// is tried against.
pub(crate) fn debian_packages() -> Result<(), String> {
    let wanted = [
        ("docker-registry", "docker-registry"),
        ("skopeo", "skopeo"),
        ("docker-credential-pass", "golang-docker-credential-helpers"),
        ("pass", "pass"),
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(binary, _)| {
            !on_path(binary) && !std::path::Path::new("/usr/bin").join(binary).is_file()
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        println!("docker-registry, skopeo, docker-credential-pass, pass: already installed");
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "the tests need {} and this user is not root; run `sudo apt-get install -y {}`",
            missing.join(" and "),
            missing.join(" ")
        ));
    }
    println!("{}: missing, installing with apt-get", missing.join(", "));
    run_step(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run_step(
        "apt-get install",
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )
}

/// The oras-py (PyPI `oras`) version the interoperability tests pin:
/// ghcr-sim's `ORAS_PY_VERSION`, which a test keeps equal to this one.
pub(crate) const ORAS_PY_VERSION: &str = "0.2.43";

/// oras-py in its venv where ghcr-sim's `oras_venv()` looks for it
/// (`$GHCR_ORAS_VENV`, else `target/oras-venv`), made with `python3 -m
/// venv` and pip from PyPI unless that version is there already.
pub(crate) fn oras_venv() -> Result<(), String> {
    let venv = std::env::var_os("GHCR_ORAS_VENV").map_or_else(
        || crate::project_root().join("target/oras-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    if installed_oras(&python).as_deref() == Some(ORAS_PY_VERSION) {
        println!(
            "oras-py {ORAS_PY_VERSION}: already installed in {}",
            venv.display()
        );
        return Ok(());
    }
    make_venv(&venv, "oras-py")?;
    println!(
        "oras-py {ORAS_PY_VERSION}: installing it from PyPI into {}",
        venv.display()
    );
    run_step(
        "pip install oras",
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("oras=={ORAS_PY_VERSION}"),
        ]),
    )
}

/// A Python venv at `venv` for `what`, unless one is there already.
fn make_venv(venv: &Path, what: &str) -> Result<(), String> {
    if venv.join("bin/python").is_file() {
        return Ok(());
    }
    if !on_path("python3") {
        return Err(format!(
            "{what} needs python3; run `sudo apt-get install -y python3 python3-venv`"
        ));
    }
    println!("{what}: no venv at {}, making one", venv.display());
    run_step(
        "python3 -m venv",
        Command::new("python3").args(["-m", "venv"]).arg(venv),
    )
    .map_err(|err| format!("{err}; on Debian `apt-get install -y python3-venv` provides it"))
}

/// The oras version a venv's python has, if any.
fn installed_oras(python: &Path) -> Option<String> {
    let output = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('oras'))",
        ])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The Python venv the tests' Python tools live in: `GHCR_PY_TOOLS`, else
/// `target/py-tools` of the workspace (where ghcr-cli's tests look too).
pub(crate) fn py_tools_dir() -> PathBuf {
    std::env::var_os("GHCR_PY_TOOLS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || crate::project_root().join("target/py-tools"),
            PathBuf::from,
        )
}

/// `kubernetes-validate` (PyPI, with Kubernetes' JSON schemas inside, so it
/// works offline) at the version `xtask/py-tools/kubernetes-validate.txt`
/// pins, in the py-tools venv, unless that version is already there.
pub(crate) fn kubernetes_validate() -> Result<(), String> {
    let requirements = crate::project_root().join("xtask/py-tools/kubernetes-validate.txt");
    let text = std::fs::read_to_string(&requirements)
        .map_err(|err| format!("{}: {err}", requirements.display()))?;
    let pinned = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("kubernetes-validate=="))
        .ok_or_else(|| {
            format!(
                "{}: no kubernetes-validate==VERSION line",
                requirements.display()
            )
        })?;
    let venv = py_tools_dir();
    let program = venv.join("bin/kubernetes-validate");
    let installed = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == pinned);
    if installed {
        println!(
            "kubernetes-validate {pinned}: already installed in {}",
            venv.display()
        );
        return Ok(());
    }
    println!(
        "kubernetes-validate {pinned}: missing, installing it from PyPI into {}",
        venv.display()
    );
    make_venv(&venv, "kubernetes-validate")?;
    run_step(
        "pip install kubernetes-validate",
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_oras_py_is_the_one_the_tests_expect() {
        let tools = crate::project_root().join("crates/ghcr-sim/src/peers/tools.rs");
        let text = std::fs::read_to_string(&tools).unwrap();
        assert!(
            text.contains(&format!("ORAS_PY_VERSION: &str = \"{ORAS_PY_VERSION}\";")),
            "{} pins another oras-py than xtask installs",
            tools.display()
        );
    }
}
