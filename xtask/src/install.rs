//! Installs the tools CI needs on a fresh machine, saying what it does.

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

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The Python venv the tests' Python tools live in: `GHCR_PY_TOOLS`, else
/// `target/py-tools` of the workspace (where ghcr-cli's tests look too).
pub(crate) fn py_tools_dir() -> std::path::PathBuf {
    std::env::var_os("GHCR_PY_TOOLS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || crate::project_root().join("target/py-tools"),
            std::path::PathBuf::from,
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
    if !venv.join("bin/pip").is_file() {
        run_step(
            "python3 -m venv (needs Debian's python3-venv)",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
    }
    run_step(
        "pip install kubernetes-validate",
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
    )
}
