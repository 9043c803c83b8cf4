//! How the action's script gets `ghcr` when none is on PATH: the release
//! asset for this machine (checked against its .sha256), else
//! `cargo install --locked ghcr-cli`; a machine with no asset is refused.
//! `curl` and `cargo` are stand-ins on PATH that log their arguments, so
//! nothing leaves the machine; the `ghcr` they install runs the freshly
//! built binary. A stand-in `uname` plays an arm64 or an unknown machine.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::action::{StepRun, run_step_with, untagged};
use crate::support::fake;

/// A stand-in for `curl -fsSL --retry N -o FILE URL`: logs the URL and
/// serves the asset the URL names from $STUB_ASSETS and its checksum (a
/// wrong one with STUB_BAD_SHA), failing as curl -f does when there is no
/// such asset.
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
name=$(basename "$url" .sha256)
[ -f "$STUB_ASSETS/$name" ] || exit 22
case "$url" in
    *.sha256)
        if [ -n "${STUB_BAD_SHA:-}" ]; then
            echo "0000000000000000000000000000000000000000000000000000000000000000  $name" > "$out"
        else
            sha256sum "$STUB_ASSETS/$name" > "$out"
        fi ;;
    *) cp "$STUB_ASSETS/$name" "$out" ;;
esac
"#;

/// A stand-in for `uname`: Linux on $STUB_ARCH.
const UNAME: &str = r#"#!/bin/sh
case "${1:-}" in
    -m) echo "$STUB_ARCH" ;;
    *) echo Linux ;;
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

/// A `ghcr` that is the wrong asset: it fails, loudly.
const WRONG_GHCR: &str = "#!/bin/sh\necho 'the wrong release asset ran' >&2\nexit 97\n";

/// One install run's machine and release: `arch` for the stand-in
/// `uname` (`None`: the real one), and the release's assets by Rust
/// target, each the working `ghcr` or [`WRONG_GHCR`].
struct Machine<'a> {
    arch: Option<&'a str>,
    assets: &'a [(&'a str, bool)],
    bad_sha: bool,
}

/// Packs `ghcr` (a script) into `dir/ghcr-<target>.tar.gz`.
fn asset(dir: &Path, target: &str, script: &str) {
    let staging = dir.join(format!("staging-{target}"));
    std::fs::create_dir_all(&staging).unwrap();
    executable(&staging.join("ghcr"), script);
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(dir.join(format!("ghcr-{target}.tar.gz")))
        .arg("-C")
        .arg(&staging)
        .arg("ghcr")
        .status()
        .unwrap();
    assert!(status.success());
}

/// What one install run did: the step and the stand-ins' log.
async fn install_run(machine: &Machine<'_>) -> (StepRun, Vec<String>) {
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
    if machine.arch.is_some() {
        executable(&stubs.join("uname"), UNAME);
    }
    let ghcr_script = format!("#!/bin/sh\nexec '{}' \"$@\"\n", env!("CARGO_BIN_EXE_ghcr"));
    let ghcr = wrapper.join("ghcr");
    executable(&ghcr, &ghcr_script);
    for (target, works) in machine.assets {
        asset(
            &assets,
            target,
            if *works { &ghcr_script } else { WRONG_GHCR },
        );
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
    if machine.bad_sha {
        extra.push(("STUB_BAD_SHA", "1"));
    }
    if let Some(arch) = machine.arch {
        extra.push(("STUB_ARCH", arch));
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

const X86_64: &str = "x86_64-unknown-linux-gnu";
const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// The Rust target of the release asset for this machine.
fn target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => AARCH64,
        _ => X86_64,
    }
}

/// The URL of the v0.1.0 asset for `target`.
fn asset_url(target: &str) -> String {
    format!("https://github.com/ghcr-rs/ghcr/releases/download/v0.1.0/ghcr-{target}.tar.gz")
}

#[tokio::test(flavor = "multi_thread")]
async fn without_ghcr_on_path_the_release_asset_is_installed() {
    let machine = Machine {
        arch: None,
        assets: &[(target(), true)],
        bad_sha: false,
    };
    let (run, calls) = install_run(&machine).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let asset = asset_url(target());
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
async fn on_arm64_the_aarch64_asset_and_its_checksum_are_chosen() {
    // Both assets are released; the x86_64 one would fail if it ran.
    for arch in ["aarch64", "arm64"] {
        let machine = Machine {
            arch: Some(arch),
            assets: &[(X86_64, false), (AARCH64, true)],
            bad_sha: false,
        };
        let (run, calls) = install_run(&machine).await;
        assert_eq!(run.code, 0, "{arch}: {}", run.stderr);
        let asset = asset_url(AARCH64);
        assert_eq!(
            calls,
            [format!("curl {asset}"), format!("curl {asset}.sha256")],
            "{arch}: the arm64 asset and its checksum, and no cargo: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("wrong release asset"),
            "{}",
            run.stderr
        );
        assert_eq!(run.outputs["deleted"], "0");
        assert!(run.summary.contains("| app-web |"), "{}", run.summary);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_machine_is_refused_with_what_to_do() {
    let machine = Machine {
        arch: Some("riscv64"),
        assets: &[(X86_64, true), (AARCH64, true)],
        bad_sha: false,
    };
    let (run, calls) = install_run(&machine).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(calls.is_empty(), "nothing downloaded or built: {calls:?}");
    for words in [
        "::error title=ghcr cleanup::",
        "Linux riscv64",
        "Linux x86_64 or arm64",
        "put a ghcr on PATH",
    ] {
        assert!(run.stderr.contains(words), "{words}: {}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_asset_or_with_a_bad_checksum_cargo_builds_it() {
    for bad_sha in [false, true] {
        let with_asset: &[(&str, bool)] = &[(target(), true)];
        let machine = Machine {
            arch: None,
            assets: if bad_sha { with_asset } else { &[] },
            bad_sha,
        };
        let (run, calls) = install_run(&machine).await;
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
