//! `cargo xtask bench trust [--reps N]`: issue 13's verification rows,
//! not part of CI or the default bench run.
//!
//! Builds in release `ghcr-trust`'s `verify_rate` example (keyed
//! signatures, keyed attestations and real keyless bundles verified per
//! second, in process), `verify_wall_time` and the `ghcr` binary; installs
//! sigstore-python (`xtask/py-tools/sigstore.txt`, its own venv) and PyCA
//! cryptography (the py-tools venv, for the test bundle) when missing, and
//! docker-registry as `cargo xtask ci` does. `verify_wall_time` times
//! `ghcr verify --type attestation` against docker-registry on loopback
//! and `python -m sigstore verify identity --offline` on the same bundle
//! file (median of `--reps`, default 7, at least 5). About a minute once
//! built. The table and JSON lines go to `target/bench/trust.md` and
//! `trust.json`.

use std::process::Command;

use crate::bench::target;
use crate::{cargo, describe, install, run_step};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    install::debian_packages()?;
    install::cryptography()?;
    install::sigstore()?;
    run_step(
        "build verify_rate, verify_wall_time and ghcr (release)",
        cargo().args([
            "build",
            "--release",
            "-p",
            "ghcr-trust",
            "--example",
            "verify_rate",
            "--example",
            "verify_wall_time",
            "-p",
            "ghcr-cli",
            "--bin",
            "ghcr",
        ]),
    )?;
    let release = target().join("release");
    let rates = output(Command::new(release.join("examples/verify_rate")).arg("2000"))?;
    let mut wall = Command::new(release.join("examples/verify_wall_time"));
    wall.arg("--ghcr")
        .arg(release.join("ghcr"))
        .arg("--sigstore-python")
        .arg(install::sigstore_venv_dir().join("bin/python"))
        .arg("--py-tools-python")
        .arg(install::py_tools_dir().join("bin/python"))
        .args(args);
    let wall = output(&mut wall)?;

    let mut markdown = String::from(
        "| verification (in process, `verify_rate`) | count | per second | each |\n| --- | --- | --- | --- |\n",
    );
    let mut lines = String::new();
    for line in rates.lines() {
        let (row, markdown_row) = rate_row(line)
            .ok_or_else(|| format!("verify_rate printed an unexpected line: {line}"))?;
        lines.push_str(&row);
        lines.push('\n');
        markdown.push_str(&markdown_row);
        markdown.push('\n');
    }
    markdown.push_str(
        "\n| wall time, one process a run | runs | median | range |\n| --- | --- | --- | --- |\n",
    );
    for line in wall.lines() {
        if line.starts_with('|') {
            markdown.push_str(line);
            markdown.push('\n');
        } else if line.starts_with('{') {
            lines.push_str(line);
            lines.push('\n');
        }
    }
    let out = target().join("bench");
    std::fs::create_dir_all(&out).map_err(|err| format!("{}: {err}", out.display()))?;
    for (name, text) in [("trust.md", &markdown), ("trust.json", &lines)] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    println!("\n{markdown}\n(also in {})", out.join("trust.md").display());
    Ok(())
}

/// Runs `command` to success, printing it; its stdout.
fn output(command: &mut Command) -> Result<String, String> {
    println!("\n==> {}", describe(command));
    let output = command
        .output()
        .map_err(|err| format!("could not start `{}`: {err}", describe(command)))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// verify_rate's `N WHAT in S s: R per second, U µs each` as a JSON line
/// and a Markdown row.
fn rate_row(line: &str) -> Option<(String, String)> {
    let (count, rest) = line.split_once(' ')?;
    let (what, rest) = rest.split_once(" in ")?;
    let (_, rest) = rest.split_once(": ")?;
    let (rate, rest) = rest.split_once(" per second, ")?;
    let each = rest.strip_suffix(" µs each")?;
    let json = format!(
        r#"{{"row": "{what}", "count": {count}, "per_second": {rate}, "each_us": {each}}}"#
    );
    let markdown = format!("| {what} | {count} | {rate} | {each} µs |");
    Some((json, markdown))
}

#[cfg(test)]
mod tests {
    use super::rate_row;

    #[test]
    fn a_verify_rate_line_becomes_a_row() {
        let (json, markdown) =
            rate_row("2000 keyless bundles in 1.234 s: 1621 per second, 617.0 µs each").unwrap();
        assert_eq!(
            json,
            r#"{"row": "keyless bundles", "count": 2000, "per_second": 1621, "each_us": 617.0}"#
        );
        assert_eq!(markdown, "| keyless bundles | 2000 | 1621 | 617.0 µs |");
        assert!(rate_row("something else").is_none());
    }
}
