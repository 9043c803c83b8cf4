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
    if installed_version(&python, "oras").as_deref() == Some(ORAS_PY_VERSION) {
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
    py_tool("kubernetes-validate")
}

/// PyCA `cryptography` at the version `xtask/py-tools/cryptography.txt`
/// pins, in the py-tools venv: ghcr-trust's tests sign with it.
pub(crate) fn cryptography() -> Result<(), String> {
    py_tool("cryptography")
}

/// The sigstore-python venv: `GHCR_SIGSTORE_VENV`, else
/// `target/sigstore-venv` of the workspace (where ghcr-trust's tests look).
pub(crate) fn sigstore_venv_dir() -> PathBuf {
    std::env::var_os("GHCR_SIGSTORE_VENV")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || crate::project_root().join("target/sigstore-venv"),
            PathBuf::from,
        )
}

/// sigstore-python (PyPI `sigstore`) at the version
/// `xtask/py-tools/sigstore.txt` pins, in a venv of its own (it needs a
/// newer `cryptography` than the py-tools venv pins): ghcr-trust's tests
/// cross-check with it and `cargo xtask bench trust` times it. About ten
/// seconds from PyPI.
pub(crate) fn sigstore() -> Result<(), String> {
    py_tool_in("sigstore", &sigstore_venv_dir())
}

/// The PyPI package `name` at the version `xtask/py-tools/<name>.txt`
/// pins (a `name==VERSION` line), in the py-tools venv, unless that
/// version is already there.
fn py_tool(name: &str) -> Result<(), String> {
    py_tool_in(name, &py_tools_dir())
}

/// [`py_tool`] into the venv at `venv`.
fn py_tool_in(name: &str, venv: &Path) -> Result<(), String> {
    let requirements = crate::project_root().join(format!("xtask/py-tools/{name}.txt"));
    let text = std::fs::read_to_string(&requirements)
        .map_err(|err| format!("{}: {err}", requirements.display()))?;
    let pinned = text
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix(&format!("{name}=="))
                .map(str::to_owned)
        })
        .ok_or_else(|| format!("{}: no {name}==VERSION line", requirements.display()))?;
    if installed_version(&venv.join("bin/python"), name).as_deref() == Some(pinned.as_str()) {
        println!("{name} {pinned}: already installed in {}", venv.display());
        return Ok(());
    }
    println!(
        "{name} {pinned}: missing, installing it from PyPI into {}",
        venv.display()
    );
    make_venv(venv, name)?;
    run_step(
        &format!("pip install {name}"),
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
    )
}

/// The version of the distribution `name` a venv's python has, if any.
fn installed_version(python: &Path, name: &str) -> Option<String> {
    let output = Command::new(python)
        .args([
            "-c",
            &format!("import importlib.metadata as m; print(m.version('{name}'))"),
        ])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
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
