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
