//! Shared glue: the `ghcr` binary run in a clean environment against the
//! fake ghcr.io (in this process) or Debian's docker-registry, OCI layouts
//! written by hand, and checks of text and JSON results.

pub(crate) mod registry;
#[path = "../../../../xtask/test-support/trace.rs"]
pub(crate) mod trace;

use std::path::Path;
use std::process::Stdio;

use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::fake::FakeGhcr;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

pub(crate) const USER: &str = "octo";
pub(crate) const TOKEN: &str = "cli-test-token-8d1c";
pub(crate) const ORG: &str = "octo-org";

/// The environment a `ghcr` run sees: nothing of the caller's, a fresh
/// home (so no Docker config), and the variables given.
pub(crate) struct Env {
    pub(crate) home: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    /// No settings at all.
    pub(crate) fn empty() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        }
    }

    /// Settings for `fake`, signed in as `octo`.
    pub(crate) fn fake(fake: &FakeGhcr) -> Self {
        Self::empty()
            .set("GHCR_REGISTRY", fake.registry_host())
            .set("GHCR_API_BASE", &fake.api_base())
            .set("GHCR_USERNAME", USER)
            .set("GHCR_TOKEN", TOKEN)
    }

    pub(crate) fn set(mut self, name: &str, value: &str) -> Self {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghcr"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .kill_on_drop(true);
        command
    }

    /// Runs `ghcr ARGS` to completion.
    pub(crate) async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, b"").await
    }

    /// Runs `ghcr ARGS` with `stdin` as its input.
    pub(crate) async fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin).await.unwrap();
        drop(input);
        let output = child.wait_with_output().await.unwrap();
        Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `ghcr ARGS` with its stdout on `/dev/full`, where every write
    /// fails as on a full disk (`stdout` is then empty).
    pub(crate) async fn run_onto_full_disk(&self, args: &[&str]) -> Run {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        // Not `output()`: tokio's pipes stdout whatever was set.
        let output = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(full)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
            .wait_with_output()
            .await
            .unwrap();
        Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `ghcr ARGS` on a terminal (util-linux `script` gives it one for
    /// stdin, stdout and stderr); `stdout` is all the terminal showed.
    pub(crate) async fn run_on_terminal(&self, args: &[&str]) -> Run {
        let script = registry::require("/usr/bin/script", "bsdutils");
        let quote = |arg: &str| format!("'{}'", arg.replace('\'', r"'\''"));
        let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_ghcr"))
            .chain(args.iter().copied())
            .map(quote)
            .collect();
        let output = tokio::process::Command::new(script)
            .args(["-qec", &line.join(" "), "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("TERM", "xterm")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        Run {
            args: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts `ghcr ARGS` and leaves it running.
    pub(crate) fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// What a run did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) args: String,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts the exit code.
    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, expected, "`ghcr {}`: {self:#?}", self.args);
        self
    }

    /// Asserts success.
    #[track_caller]
    pub(crate) fn ok(&self) -> &Self {
        self.code(0)
    }

    /// Asserts stdout holds `text`.
    #[track_caller]
    pub(crate) fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "`ghcr {}` stdout lacks {text:?}: {self:#?}",
            self.args
        );
        self
    }

    /// Asserts stderr holds `text`.
    #[track_caller]
    pub(crate) fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "`ghcr {}` stderr lacks {text:?}: {self:#?}",
            self.args
        );
        self
    }

    /// Stdout as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("`ghcr {}` printed no JSON ({e}): {self:#?}", self.args))
    }

    /// Asserts a JSON error of `kind` with exit code `code`, and the message on stderr too.
    #[track_caller]
    pub(crate) fn json_error(&self, code: i32, kind: &str) -> &Self {
        self.code(code);
        let error = &self.json()["error"];
        assert_eq!(error["kind"], kind, "{self:#?}");
        assert_eq!(error["exit_code"], code, "{self:#?}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && self.stderr.contains("error: "),
            "{self:#?}"
        );
        self
    }
}

/// A fake ghcr.io: user `octo` with every package scope, organization `octo-org`.
pub(crate) async fn fake() -> FakeGhcr {
    trace::init();
    FakeGhcr::builder()
        .user(USER, TOKEN)
        .org(ORG, &[USER])
        .start()
        .await
        .unwrap()
}

/// As [`fake`] without the organization, each package DELETE taking 300 ms
/// (time to stop a cleanup while one is on its way).
pub(crate) async fn fake_with_slow_deletes() -> FakeGhcr {
    let route = ghcr_sim::fake::Route::new(http::Method::DELETE, "/users/*");
    FakeGhcr::builder()
        .user(USER, TOKEN)
        .fault(ghcr_sim::fake::Fault::delay(
            route,
            std::time::Duration::from_millis(300),
        ))
        .start()
        .await
        .unwrap()
}

/// Sends `signal` (`TERM`, `INT`) to a running `ghcr`.
pub(crate) async fn send_signal(child: &tokio::process::Child, signal: &str) {
    let pid = child.id().unwrap().to_string();
    let sent = tokio::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// `{registry}/{path}`.
pub(crate) fn at(fake: &FakeGhcr, path: &str) -> String {
    format!("{}/{path}", fake.registry_host())
}

fn write_blob(dir: &Path, bytes: &[u8]) -> (Digest, usize) {
    let digest = Digest::sha256_of(bytes);
    std::fs::write(dir.join("blobs/sha256").join(digest.encoded()), bytes).unwrap();
    (digest, bytes.len())
}

/// Writes an OCI layout holding one small image named `tag` (a config and
/// one layer of `layer` bytes) and returns its manifest digest.
pub(crate) fn write_layout(dir: &Path, tag: &str, layer: &[u8]) -> Digest {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let config = json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}});
    let (config, config_size) = write_blob(dir, config.to_string().as_bytes());
    let (layer, layer_size) = write_blob(dir, layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.as_str(), "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.as_str(), "size": layer_size}],
    });
    let (manifest, manifest_size) = write_blob(dir, manifest.to_string().as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest.as_str(),
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    manifest
}

/// Pushes `octo/app:v1`, one layer of `layer`, into the fake's store.
pub(crate) fn seed_app(fake: &FakeGhcr, layer: impl Into<Bytes>) -> ghcr_sim::fake::PushedImage {
    fake.store()
        .push_image("octo/app", Some("v1"), &[layer.into()])
        .unwrap()
}

/// Pushes a small image into the fake's store and returns its digest.
pub(crate) fn seed(fake: &FakeGhcr, repository: &str, tag: Option<&str>, layer: &str) -> Digest {
    fake.store()
        .push_image(repository, tag, &[Bytes::from(layer.to_owned())])
        .unwrap()
        .manifest
}
