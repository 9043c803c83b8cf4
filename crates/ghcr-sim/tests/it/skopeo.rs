//! The `ghcr-fake` binary with Debian's skopeo as the client: an OCI layout
//! pushed with credentials over plain HTTP and pulled back with equal
//! digests, through the ghcr profile's storage redirect.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use ghcr_types::Digest;

use crate::support::send;

const SKOPEO: &str = "/usr/bin/skopeo";

/// A tar archive holding one file, written by hand (ustar).
fn tar(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let fields: [(usize, String); 5] = [
        (100, "0000644\0".into()),
        (108, "0000000\0".into()),
        (116, "0000000\0".into()),
        (124, format!("{:011o}\0", content.len())),
        (136, format!("{:011o}\0", 1_700_000_000)),
    ];
    for (at, text) in fields {
        header[at..at + text.len()].copy_from_slice(text.as_bytes());
    }
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut archive = header.to_vec();
    archive.extend_from_slice(content);
    archive.resize(archive.len().div_ceil(512) * 512 + 1024, 0);
    archive
}

fn write_blob(layout: &Path, bytes: &[u8]) -> Digest {
    let digest = Digest::sha256_of(bytes);
    std::fs::write(layout.join("blobs/sha256").join(digest.encoded()), bytes).unwrap();
    digest
}

/// An OCI layout with one image tagged `v1`; returns its manifest digest.
fn oci_layout(dir: &Path) -> Digest {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let layer = tar("hello.txt", b"hello from ghcr-sim\n");
    let layer_digest = write_blob(dir, &layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
    );
    let config_digest = write_blob(dir, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let manifest_digest = write_blob(dir, manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
        manifest.len()
    );
    std::fs::write(dir.join("index.json"), index).unwrap();
    manifest_digest
}

/// The running binary; stopped with SIGINT on drop if the test did not.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ghcr-fake` and reads the registry host from its banner.
fn start(args: &[&str]) -> (Server, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ghcr-fake"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut banner = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let host = banner
        .iter()
        .find_map(|line| line.strip_prefix("registry  "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no registry line in {banner:?}"))
        .to_owned();
    (Server(child), host, banner)
}

fn skopeo(args: &[&str]) {
    assert!(
        Path::new(SKOPEO).exists(),
        "skopeo is missing: install it with `apt-get install -y skopeo`"
    );
    let output = Command::new(SKOPEO).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn skopeo_pushes_and_pulls_back_equal_digests() {
    let (server, host, banner) = start(&["--addr", "127.0.0.1:0", "--user", "alice:token-a"]);
    assert!(banner[0].contains("ghcr profile"), "{banner:?}");
    assert!(
        banner
            .iter()
            .any(|l| l.starts_with("token     http://") && l.ends_with("/token"))
    );
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let manifest = oci_layout(&source);
    let source_ref = format!("oci:{}:v1", source.display());
    let remote = format!("docker://{host}/alice/pkg:v1");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-creds",
        "alice:token-a",
        "--dest-tls-verify=false",
        &source_ref,
        &remote,
    ]);
    let target = dir.path().join("pulled");
    let target_ref = format!("oci:{}:v1", target.display());
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--src-creds",
        "alice:token-a",
        "--src-tls-verify=false",
        &remote,
        &target_ref,
    ]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(target.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], manifest.as_str());
    for entry in std::fs::read_dir(source.join("blobs/sha256"))
        .unwrap()
        .flatten()
    {
        let pulled = std::fs::read(target.join("blobs/sha256").join(entry.file_name())).unwrap();
        assert_eq!(
            pulled,
            std::fs::read(entry.path()).unwrap(),
            "{:?}",
            entry.file_name()
        );
    }
    // The push created alice's private package `pkg`.
    let package = send(
        "GET",
        &format!("http://{host}/user/packages/container/pkg"),
        &[("user-agent", "tests"), ("authorization", "Bearer token-a")],
        Bytes::new(),
    )
    .await;
    assert_eq!(package.status, 200, "{}", package.text());
    assert_eq!(package.json()["visibility"], "private");
    // Pushing alice/team/app creates her package `team/app`, `team%2Fapp` in the API.
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-creds",
        "alice:token-a",
        "--dest-tls-verify=false",
        &source_ref,
        &format!("docker://{host}/alice/team/app:v1"),
    ]);
    let api = |path: &str| {
        let url = format!("http://{host}/user/packages/container/{path}");
        async move {
            send(
                "GET",
                &url,
                &[("user-agent", "tests"), ("authorization", "Bearer token-a")],
                Bytes::new(),
            )
            .await
        }
    };
    let nested = api("team%2Fapp").await;
    assert_eq!(nested.status, 200, "{}", nested.text());
    assert_eq!(nested.json()["name"], "team/app");
    assert_eq!(
        api("team/app").await.status,
        404,
        "the name must be encoded"
    );
    let versions = api("team%2Fapp/versions").await;
    assert_eq!(versions.json()[0]["name"], manifest.as_str());
    assert_eq!(
        versions.json()[0]["metadata"]["container"]["tags"],
        serde_json::json!(["v1"])
    );
    stop(server);
}

/// Sends SIGINT and expects a clean exit.
fn stop(mut server: Server) {
    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(killed.success());
    let status = server.0.wait().unwrap();
    assert!(status.success(), "ghcr-fake exited with {status}");
}

#[test]
fn the_binary_refuses_bad_arguments() {
    for (args, says) in [
        (&["--user", "no-token-here"][..], "NAME:TOKEN"),
        (&["--profile", "quay"][..], "ghcr or generic"),
        (&["--max-request-body", "0"][..], "max_request_body"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_ghcr-fake"))
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
