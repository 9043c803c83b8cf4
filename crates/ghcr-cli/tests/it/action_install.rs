//! How the action's script gets `ghcr` when none is on PATH: the release
//! asset for this machine (checked against its .sha256), else
//! `cargo install --locked ghcr-cli`. `curl` and `cargo` are stand-ins on
//! PATH that log their arguments, so nothing leaves the machine; the
//! `ghcr` they install runs the freshly built binary.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::action::{StepRun, run_step_with, untagged};
use crate::support::fake;

/// A stand-in for `curl -fsSL --retry N -o FILE URL`: logs the URL and
/// serves $STUB_ASSETS/ghcr.tar.gz and its checksum (a wrong one with
/// STUB_BAD_SHA), failing as curl -f does when there is no asset.
const CURL: &str = r#"#!/bin/sh
out=""; url=""
while [ $# -gt 0 ]; do
    case "$1" in
        -o) out=$2; shift 2 ;;
        --retry) shift 2 ;;
        -*) shift ;;
        *) url=$1; shift ;;
    esac
done
echo "curl $url" >> "$STUB_LOG"
[ -f "$STUB_ASSETS/ghcr.tar.gz" ] || exit 22
case "$url" in
    *.sha256)
        if [ -n "${STUB_BAD_SHA:-}" ]; then
            echo "0000000000000000000000000000000000000000000000000000000000000000  ghcr.tar.gz" > "$out"
        else
            sha256sum "$STUB_ASSETS/ghcr.tar.gz" > "$out"
        fi ;;
    *) cp "$STUB_ASSETS/ghcr.tar.gz" "$out" ;;
esac
"#;

/// A stand-in for `cargo install ... --root DIR ...`: logs its arguments
/// and puts a `ghcr` into DIR/bin.
const CARGO: &str = r#"#!/bin/sh
echo "cargo $*" >> "$STUB_LOG"
root=""
while [ $# -gt 0 ]; do
    [ "$1" = "--root" ] && root=$2
    shift
done
mkdir -p "$root/bin"
cp "$STUB_GHCR" "$root/bin/ghcr"
"#;

fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What one install run did: the step and the stand-ins' log.
async fn install_run(asset: bool, bad_sha: bool) -> (StepRun, Vec<String>) {
    let fake = fake().await;
    untagged(&fake, "app-web", 1);
    let dir = tempfile::tempdir().unwrap();
    let stubs = dir.path().join("bin");
    let assets = dir.path().join("assets");
    let wrapper = dir.path().join("wrapper");
    for folder in [&stubs, &assets, &wrapper] {
        std::fs::create_dir_all(folder).unwrap();
    }
    executable(&stubs.join("curl"), CURL);
    executable(&stubs.join("cargo"), CARGO);
    let ghcr = wrapper.join("ghcr");
    executable(
        &ghcr,
        &format!("#!/bin/sh\nexec '{}' \"$@\"\n", env!("CARGO_BIN_EXE_ghcr")),
    );
    if asset {
        let status = std::process::Command::new("tar")
            .arg("-czf")
            .arg(assets.join("ghcr.tar.gz"))
            .arg("-C")
            .arg(&wrapper)
            .arg("ghcr")
            .status()
            .unwrap();
        assert!(status.success());
    }
    let log = dir.path().join("log");
    std::fs::write(&log, "").unwrap();
    let (log_s, assets_s, ghcr_s) = (
        log.display().to_string(),
        assets.display().to_string(),
        ghcr.display().to_string(),
    );
    let mut extra = vec![
        ("STUB_LOG", log_s.as_str()),
        ("STUB_ASSETS", assets_s.as_str()),
        ("STUB_GHCR", ghcr_s.as_str()),
    ];
    if bad_sha {
        extra.push(("STUB_BAD_SHA", "1"));
    }
    let inputs = [
        ("owner", "octo"),
        ("owner-type", "user"),
        ("packages", "app-web"),
        ("only-untagged", "true"),
        ("dry-run", "true"),
        ("version", "v0.1.0"),
    ];
    let run = run_step_with(&fake, &inputs, &stubs, &extra).await;
    let calls = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (run, calls)
}

/// The Rust target of the release asset for this machine.
fn target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-gnu",
        _ => "x86_64-unknown-linux-gnu",
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_ghcr_on_path_the_release_asset_is_installed() {
    let (run, calls) = install_run(true, false).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let asset = format!(
        "https://github.com/ghcr-rs/ghcr/releases/download/v0.1.0/ghcr-{}.tar.gz",
        target()
    );
    assert_eq!(
        calls,
        [format!("curl {asset}"), format!("curl {asset}.sha256")],
        "{}",
        run.stderr
    );
    assert_eq!(run.outputs["deleted"], "0");
    assert!(run.summary.contains("| app-web |"), "{}", run.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_asset_or_with_a_bad_checksum_cargo_builds_it() {
    for bad_sha in [false, true] {
        let (run, calls) = install_run(bad_sha, bad_sha).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let cargo: Vec<&String> = calls.iter().filter(|c| c.starts_with("cargo ")).collect();
        assert_eq!(cargo.len(), 1, "{calls:?}");
        assert!(
            cargo[0].starts_with("cargo install --locked --root ")
                && cargo[0].ends_with(" ghcr-cli --version 0.1.0"),
            "{calls:?}"
        );
        assert!(
            run.stderr.contains("building from crates.io"),
            "{}",
            run.stderr
        );
        assert_eq!(run.outputs["deleted"], "0");
    }
}
