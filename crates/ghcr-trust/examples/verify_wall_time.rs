//! Wall time of one keyless verification, end to end (issue 13): `ghcr
//! verify --type attestation` of an image on Debian's docker-registry on
//! loopback with a Sigstore bundle attached as `actions/attest` attaches
//! it (a referrer, found through the `sha256-<hex>` tag fallback), against
//! `python -m sigstore verify identity --offline` (sigstore-python) on the
//! same bundle file; the same identity and trusted root for both, the
//! median of `--reps` runs (default 7, at least 5) of each, one process a
//! run.
//!
//! The bundle and its trusted root come from ghcr-trust's
//! `tests/it/sigstore_make.py` (a test Sigstore instance made with PyCA
//! cryptography), run by the py-tools venv's python.
//!
//! ```text
//! cargo run --release -p ghcr-trust --example verify_wall_time -- \
//!     --ghcr target/release/ghcr --sigstore-python target/sigstore-venv/bin/python \
//!     --py-tools-python target/py-tools/bin/python [--reps N]
//! ```
//!
//! Prints a Markdown row (`| ...`) and a JSON line (`{...}`) per
//! implementation; `cargo xtask bench trust` runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ghcr_registry::{BlobSource, RegistryClient, UploadOptions};
use ghcr_sim::peers::{Auth, DockerRegistry};
use ghcr_transport::Transport;
use ghcr_types::{Digest, Manifest, Reference};
use serde_json::json;

type BoxError = Box<dyn std::error::Error>;

const WORKFLOW: &str = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The command line.
struct Args {
    ghcr: PathBuf,
    sigstore_python: PathBuf,
    py_tools_python: PathBuf,
    reps: usize,
}

fn args() -> Result<Args, BoxError> {
    let mut ghcr = None;
    let mut sigstore_python = None;
    let mut py_tools_python = None;
    let mut reps = 7;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--ghcr" => ghcr = Some(PathBuf::from(value()?)),
            "--sigstore-python" => sigstore_python = Some(PathBuf::from(value()?)),
            "--py-tools-python" => py_tools_python = Some(PathBuf::from(value()?)),
            "--reps" => reps = value()?.parse::<usize>()?.max(5),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(Args {
        ghcr: ghcr.ok_or("--ghcr BIN is required")?,
        sigstore_python: sigstore_python.ok_or("--sigstore-python PYTHON is required")?,
        py_tools_python: py_tools_python.ok_or("--py-tools-python PYTHON is required")?,
        reps,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = args()?;
    let dir = tempfile::tempdir()?;
    let make = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/sigstore_make.py");
    let world = dir.path().join("world");
    std::fs::create_dir(&world)?;
    run_ok(
        Command::new(&args.py_tools_python)
            .arg(&make)
            .arg("world")
            .arg(&world),
    )?;
    let trusted_root = world.join("trusted_root.json");

    let registry = DockerRegistry::start(Auth::None).await?;
    let client = RegistryClient::new(
        Transport::builder()
            .allow_plain_http(registry.host())
            .build()?,
    );
    let repository = registry.reference("octo/app")?;
    let image = push_image(&client, &repository).await?;
    let bundle = run_ok(
        Command::new(&args.py_tools_python)
            .arg(&make)
            .arg("bundle")
            .arg(&world)
            .arg(image.digest().as_str())
            .arg("{}"),
    )?;
    attach_bundle(&client, &repository, &image, &bundle).await?;
    let bundle_file = dir.path().join("bundle.sigstore.json");
    std::fs::write(&bundle_file, &bundle)?;
    let config = dir.path().join("client_trust_config.json");
    std::fs::write(
        &config,
        client_trust_config(&std::fs::read(&trusted_root)?)?,
    )?;

    let reference = repository.with_tag("v1")?.to_string();
    let mut ghcr = Command::new(&args.ghcr);
    ghcr.args([
        "--plain-http",
        "verify",
        &reference,
        "--type",
        "attestation",
    ])
    .args(["--certificate-identity", WORKFLOW])
    .args(["--certificate-oidc-issuer", ISSUER])
    .arg("--trusted-root")
    .arg(&trusted_root);
    row(
        "ghcr verify (docker-registry on loopback)",
        &time(&mut ghcr, args.reps)?,
    );
    let mut python = Command::new(&args.sigstore_python);
    python
        .args(["-m", "sigstore", "--trust-config"])
        .arg(&config)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&bundle_file)
        .args(["--cert-identity", WORKFLOW, "--cert-oidc-issuer", ISSUER])
        .arg(image.digest().as_str());
    row(
        "python -m sigstore verify identity --offline (bundle file)",
        &time(&mut python, args.reps)?,
    );
    Ok(())
}

/// Runs `command` to success; its stdout.
fn run_ok(command: &mut Command) -> Result<Vec<u8>, BoxError> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(output.stdout)
}

/// `reps` runs of `command`, each to success, sorted.
fn time(command: &mut Command, reps: usize) -> Result<Vec<Duration>, BoxError> {
    let mut runs = Vec::with_capacity(reps);
    for _ in 0..reps {
        let started = Instant::now();
        run_ok(command)?;
        runs.push(started.elapsed());
    }
    runs.sort();
    Ok(runs)
}

/// Prints the Markdown row and JSON line of sorted `runs`.
fn row(what: &str, runs: &[Duration]) {
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let median = ms(&runs[runs.len() / 2]);
    let (min, max) = (ms(&runs[0]), ms(&runs[runs.len() - 1]));
    println!(
        "| {what} | {} | {median:.0} ms | {min:.0}–{max:.0} ms |",
        runs.len()
    );
    println!(
        "{}",
        json!({"row": what, "runs": runs.len(), "median_ms": median, "min_ms": min, "max_ms": max})
    );
}

/// A sigstore-python ClientTrustConfig of `trusted_root`.
fn client_trust_config(trusted_root: &[u8]) -> Result<Vec<u8>, BoxError> {
    let trusted_root: serde_json::Value = serde_json::from_slice(trusted_root)?;
    Ok(serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root,
        // Signing needs these URLs; verification reads none of them.
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [], "oidcUrls": [], "rekorTlogUrls": [], "tsaUrls": [],
        },
    }))?)
}

async fn push_blob(
    client: &RegistryClient,
    repository: &Reference,
    bytes: &[u8],
) -> Result<Digest, BoxError> {
    let source = BlobSource::bytes(Bytes::copy_from_slice(bytes));
    let pushed = client
        .push_blob(repository, source, &UploadOptions::new())
        .await?;
    Ok(pushed.digest)
}

async fn put(
    client: &RegistryClient,
    reference: &Reference,
    manifest: &serde_json::Value,
) -> Result<Manifest, BoxError> {
    let manifest = Manifest::from_bytes(
        serde_json::to_vec(manifest)?,
        Some("application/vnd.oci.image.manifest.v1+json"),
    )?;
    client.put_manifest(reference, &manifest).await?;
    Ok(manifest)
}

/// A one-layer image tagged `v1`.
async fn push_image(client: &RegistryClient, repository: &Reference) -> Result<Manifest, BoxError> {
    let layer = b"a layer of v1";
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_digest = push_blob(client, repository, layer).await?;
    let config_digest = push_blob(client, repository, config).await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest.as_str(), "size": layer.len()}],
    });
    put(client, &repository.with_tag("v1")?, &manifest).await
}

/// `bundle` attached to `image` as `actions/attest` attaches it: an
/// artifact whose one layer is the bundle and whose subject is `image`.
async fn attach_bundle(
    client: &RegistryClient,
    repository: &Reference,
    image: &Manifest,
    bundle: &[u8],
) -> Result<(), BoxError> {
    let bundle_digest = push_blob(client, repository, bundle).await?;
    let empty_digest = push_blob(client, repository, b"{}").await?;
    let subject = image.descriptor();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": BUNDLE_V03,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest.as_str(), "size": 2},
        "layers": [{
            "mediaType": BUNDLE_V03,
            "digest": bundle_digest.as_str(),
            "size": bundle.len(),
            "annotations": {"dev.sigstore.bundle.content": "dsse-envelope"},
        }],
        "subject": {"mediaType": subject.media_type().to_string(), "digest": subject.digest().to_string(), "size": subject.size()},
    });
    let digest = Digest::sha256_of(&serde_json::to_vec(&manifest)?);
    put(client, &repository.with_digest(digest), &manifest).await?;
    Ok(())
}
