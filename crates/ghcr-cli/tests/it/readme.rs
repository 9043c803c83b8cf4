//! The README's commands, as written: the demo command, the CLI examples
//! (run by `sh` against the fake, with `ghcr.io` replaced by its address),
//! and the files the deployment commands name.

use std::path::{Path, PathBuf};

use ghcr_sim::attest::{Attachment, Envelope, VulnFormat};

use crate::support::{Env, fake};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap()
}

/// The fenced `sh` blocks, in order, each with the text just before it.
fn sh_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut before = String::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push((std::mem::take(&mut before), std::mem::take(block)));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {
                before.push_str(line);
                before.push('\n');
            }
        }
    }
    blocks
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_command_is_the_demo_and_it_runs() {
    let blocks = sh_blocks(&readme());
    let first = blocks[0].1.trim();
    assert_eq!(first, "cargo run -p ghcr-cli --release -- demo");
    // `cargo run -p ghcr-cli` runs this package's only binary, the one under test;
    // the arguments after `--` are given to it as written.
    assert_eq!(env!("CARGO_PKG_NAME"), "ghcr-cli");
    let args: Vec<&str> = first
        .split(" -- ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    let run = Env::empty().run(&args).await;
    run.ok().stdout_has("[11/11]").stdout_has("done in ");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_examples_run_against_the_fake() {
    let text = readme();
    let (_, block) = sh_blocks(&text)
        .into_iter()
        .find(|(before, _)| {
            before.trim_end().ends_with("-->") && before.contains("run by ghcr-cli's tests")
        })
        .expect("the README's tested CLI block");
    let fake = fake().await;
    let pushed = fake
        .store()
        .push_index("octo/hello", "v1", &["linux/amd64", "linux/arm64"])
        .unwrap();
    let scan = Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::Dsse);
    fake.store()
        .attach("octo/hello", &pushed.index, &scan)
        .unwrap();
    let script = block.replace("ghcr.io", fake.registry_host());

    let env = Env::fake(&fake);
    let workdir = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ghcr"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = tokio::process::Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(workdir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", env.home.path())
        .env("GHCR_REGISTRY", fake.registry_host())
        .env("GHCR_API_BASE", fake.api_base())
        .env("GHCR_USERNAME", crate::support::USER)
        .env("GHCR_TOKEN", crate::support::TOKEN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for expected in [
        "Login Succeeded",
        &format!("{}\n", pushed.index),
        "pushed ",
        "into hello.tar",
        "octo/hello-loaded:v1 sha256:",
        "copied ",
        "tagged ",
        "linux/arm64: ",
        "1 referrer(s)",
        "hello  private",
        "plan for package hello of user octo",
        "CVE-2023-45853",
        "blocked (exit 7)",
        "\"resource\": \"core\"",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    }
    assert!(workdir.path().join("hello/index.json").exists());
}

#[test]
fn the_deployment_commands_name_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = readme();
    assert!(text.contains("docker build -f deploy/Dockerfile -t ghcr-serve ."));
    assert!(text.contains("kubectl apply -k deploy/kubernetes"));
    assert!(root.join("deploy/Dockerfile").exists());
    let kustomization =
        std::fs::read_to_string(root.join("deploy/kubernetes/kustomization.yaml")).unwrap();
    for resource in kustomization
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
    {
        assert!(
            root.join("deploy/kubernetes").join(resource).exists(),
            "{resource}"
        );
    }
}
