//! Glue for the verification tests: keys and DSSE envelopes made by PyCA
//! cryptography (`dsse_sign.py` in the py-tools venv the xtask installs),
//! scan statements, and images with attestation artifacts pushed through
//! the registry client (which keeps the `sha256-<hex>` fallback index
//! where the registry has no referrers API).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ghcr_packages::PackagesClient;
use ghcr_registry::{BlobSource, RegistryClient, UploadOptions};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
use ghcr_trust::{Policy, PublicKey};
use ghcr_types::{Digest, Reference};
use serde_json::{Value, json};

/// The workspace root.
fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The py-tools venv's python (GHCR_PY_TOOLS, else the workspace's
/// target/py-tools) with `cryptography`; a missing one fails the test with
/// how to install it.
fn python() -> PathBuf {
    let venv = std::env::var_os("GHCR_PY_TOOLS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| root().join("target/py-tools"), PathBuf::from);
    let python = venv.join("bin/python");
    let has_it = std::process::Command::new(&python)
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        has_it,
        "{} with PyCA cryptography is missing: install it with `cargo xtask install`, or run\n  \
         python3 -m venv {venv} && {venv}/bin/pip install -r {requirements}",
        python.display(),
        venv = venv.display(),
        requirements = root().join("xtask/py-tools/cryptography.txt").display(),
    );
    python
}

/// `dsse_sign.py ARGS` with `stdin`; its stdout; a failure fails the test.
fn run(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/dsse_sign.py");
    let mut child = std::process::Command::new(python())
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "dsse_sign.py {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A key pair the Python signer made, in its own folder.
pub(crate) struct PyKey {
    dir: tempfile::TempDir,
}

impl PyKey {
    pub(crate) fn generate() -> Self {
        let dir = tempfile::tempdir().unwrap();
        run(&["keygen", &dir.path().display().to_string()], b"");
        Self { dir }
    }

    pub(crate) fn public_path(&self) -> PathBuf {
        self.dir.path().join("cosign.pub")
    }

    pub(crate) fn policy(&self) -> Policy {
        let pem = std::fs::read_to_string(self.public_path()).unwrap();
        Policy::keys([PublicKey::from_pem(&pem, "cosign.pub").unwrap()])
    }

    /// The envelope over `statement`, and Python's fingerprint of the key.
    pub(crate) fn sign(&self, statement: &[u8]) -> (Value, String) {
        let key = self.dir.path().join("cosign.key").display().to_string();
        let out: Value = serde_json::from_slice(&run(&["sign", &key], statement)).unwrap();
        (
            out["envelope"].clone(),
            out["fingerprint"].as_str().unwrap().to_owned(),
        )
    }
}

/// A cosign vuln statement about `subject`: a Trivy report with one
/// critical finding, or none (a clean scan).
pub(crate) fn scan(subject: &Digest, critical: bool) -> Vec<u8> {
    let findings = if critical {
        json!([{"VulnerabilityID": "CVE-2024-0001", "PkgName": "openssl", "InstalledVersion": "3.0.0",
            "Severity": "CRITICAL", "Title": "a critical finding"}])
    } else {
        json!([])
    };
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "app", "digest": {"sha256": subject.encoded()}}],
        "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
        "predicate": {
            "scanner": {"uri": "pkg:github/aquasecurity/trivy@v0.50.1", "version": "0.50.1",
                "result": {"SchemaVersion": 2, "Results": [{"Target": "app", "Vulnerabilities": findings}]}},
            "metadata": {"scanFinishedOn": "2026-12-01T00:00:00Z"},
        },
    })
    .to_string()
    .into_bytes()
}

/// `envelope` whose payload is replaced by `statement` (changed after signing).
pub(crate) fn with_payload(envelope: &Value, statement: &[u8]) -> Value {
    let mut changed = envelope.clone();
    changed["payload"] = json!(STANDARD.encode(statement));
    changed
}

/// A registry client for `host`, over plain HTTP.
pub(crate) fn registry_client(host: &str, credentials: Option<(&str, &str)>) -> RegistryClient {
    crate::support::trace::init();
    let mut builder = Transport::builder().max_retries(1).allow_plain_http(host);
    if let Some((user, password)) = credentials {
        builder = builder.credentials(Arc::new(StaticProvider::new(Credentials::basic(
            user, password,
        ))));
    }
    RegistryClient::new(builder.build().unwrap())
}

/// A packages client reading vulnerabilities through `registry`, with
/// `policy` when given.
pub(crate) fn packages_client(
    registry: &RegistryClient,
    host: &str,
    policy: Option<Policy>,
) -> PackagesClient {
    let transport = Transport::builder().allow_plain_http(host).build().unwrap();
    let builder = PackagesClient::builder(transport)
        .registry_host(host)
        .registry(registry.clone());
    match policy {
        Some(policy) => builder.verify_with(policy),
        None => builder,
    }
    .build()
    .unwrap()
}

async fn push_blob(client: &RegistryClient, repository: &Reference, bytes: &[u8]) -> Digest {
    client
        .push_blob(
            repository,
            BlobSource::bytes(Bytes::copy_from_slice(bytes)),
            &UploadOptions::new(),
        )
        .await
        .unwrap()
        .digest
}

async fn put(client: &RegistryClient, reference: &Reference, manifest: &Value) -> Digest {
    let bytes = serde_json::to_vec(manifest).unwrap();
    let manifest = ghcr_types::Manifest::from_bytes(
        Bytes::from(bytes),
        Some("application/vnd.oci.image.manifest.v1+json"),
    )
    .unwrap();
    client.put_manifest(reference, &manifest).await.unwrap();
    manifest.digest().clone()
}

/// Pushes a one-layer image tagged `tag`; its digest and descriptor JSON.
pub(crate) async fn push_image(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
) -> (Digest, Value) {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":[]}},"tag":"{tag}"}}"#
    );
    let layer = format!("layer of {tag}");
    let layer_digest = push_blob(client, repository, layer.as_bytes()).await;
    let config_digest = push_blob(client, repository, config.as_bytes()).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest.as_str(), "size": layer.len()}],
    });
    let size = serde_json::to_vec(&manifest).unwrap().len();
    let digest = put(client, &repository.with_tag(tag).unwrap(), &manifest).await;
    let descriptor = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest.as_str(), "size": size});
    (digest, descriptor)
}

/// Attaches one attestation artifact per envelope to `image` (by its
/// descriptor), as cosign's OCI 1.1 scheme pushes them: a DSSE layer
/// announcing the cosign vuln predicate. Returns the artifacts' digests.
pub(crate) async fn attach(
    client: &RegistryClient,
    repository: &Reference,
    image: &Value,
    envelopes: &[&Value],
) -> Vec<Digest> {
    let empty_digest = push_blob(client, repository, b"{}").await;
    let mut artifacts = Vec::new();
    for envelope in envelopes {
        let bytes = serde_json::to_vec(envelope).unwrap();
        let digest = push_blob(client, repository, &bytes).await;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.cosign.artifact.att.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest.as_str(), "size": 2},
            "layers": [{"mediaType": "application/vnd.dsse.envelope.v1+json", "digest": digest.as_str(), "size": bytes.len(),
                "annotations": {"predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1"}}],
            "subject": image,
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let at = repository.with_digest(Digest::sha256_of(&bytes));
        artifacts.push(put(client, &at, &manifest).await);
    }
    artifacts
}
