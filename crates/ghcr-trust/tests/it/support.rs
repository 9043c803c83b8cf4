//! Shared glue: the Python signer (`cosign_sign.py` in the py-tools venv
//! the xtask installs), registry clients, and cosign signature manifests
//! pushed as cosign pushes them.

#[path = "../../../../xtask/test-support/trace.rs"]
pub(crate) mod trace;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ghcr_registry::{BlobSource, RegistryClient, UploadOptions};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
use ghcr_trust::{
    COSIGN_ATTESTATION_ARTIFACT_TYPE, COSIGN_SIGNATURE_ARTIFACT_TYPE, DSSE_MEDIA_TYPE,
    IdentityPolicy, Policy, PublicKey, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
    TrustedRoot,
};
use ghcr_types::{Digest, Manifest, Reference};
use serde_json::json;

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

/// `cosign_sign.py ARGS`' stdout; a failure fails the test.
fn signer(args: &[&str]) -> Vec<u8> {
    script("cosign_sign.py", args)
}

/// `tests/it/NAME ARGS`' stdout; a failure fails the test.
fn script(name: &str, args: &[&str]) -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it")
        .join(name);
    let output = std::process::Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A key pair the Python signer made, in its own folder.
pub(crate) struct KeyPair {
    dir: tempfile::TempDir,
}

/// One signature the Python signer made.
pub(crate) struct Signed {
    /// The exact payload bytes.
    pub(crate) payload: Vec<u8>,
    /// The annotation's value: base64 of the DER signature.
    pub(crate) signature: String,
    /// Python's `sha256:` of the key's DER SPKI.
    pub(crate) fingerprint: String,
}

impl KeyPair {
    /// `cosign_sign.py keygen`.
    pub(crate) fn generate() -> Self {
        let dir = tempfile::tempdir().unwrap();
        signer(&["keygen", &dir.path().display().to_string()]);
        Self { dir }
    }

    /// cosign.pub's text.
    pub(crate) fn public_pem(&self) -> String {
        std::fs::read_to_string(self.public_path()).unwrap()
    }

    /// cosign.pub's path.
    pub(crate) fn public_path(&self) -> PathBuf {
        self.dir.path().join("cosign.pub")
    }

    /// The key as ours reads it.
    pub(crate) fn public_key(&self) -> PublicKey {
        PublicKey::from_pem(&self.public_pem(), "cosign.pub").unwrap()
    }

    /// A policy of this key alone.
    pub(crate) fn policy(&self) -> Policy {
        Policy::keys([self.public_key()])
    }

    /// `cosign_sign.py sign`: a payload for `digest` and its signature.
    pub(crate) fn sign(&self, digest: &Digest, reference: &str) -> Signed {
        let key = self.dir.path().join("cosign.key").display().to_string();
        let out = signer(&["sign", &key, digest.as_str(), reference]);
        let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
        Signed {
            payload: STANDARD.decode(out["payload"].as_str().unwrap()).unwrap(),
            signature: out["signature"].as_str().unwrap().to_owned(),
            fingerprint: out["fingerprint"].as_str().unwrap().to_owned(),
        }
    }
}

/// One attestation the Python signer made.
pub(crate) struct Attestation {
    /// The DSSE envelope's JSON.
    pub(crate) envelope: serde_json::Value,
    /// Python's `sha256:` of the key's DER SPKI.
    pub(crate) fingerprint: String,
}

impl Attestation {
    /// The envelope's bytes, as the layer holds them.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.envelope).unwrap()
    }

    /// The decoded statement.
    pub(crate) fn statement(&self) -> Vec<u8> {
        STANDARD
            .decode(self.envelope["payload"].as_str().unwrap())
            .unwrap()
    }

    /// The envelope with its payload replaced (the signature kept).
    pub(crate) fn with_statement(&self, statement: &[u8]) -> Vec<u8> {
        let mut envelope = self.envelope.clone();
        envelope["payload"] = STANDARD.encode(statement).into();
        serde_json::to_vec(&envelope).unwrap()
    }
}

impl KeyPair {
    /// `cosign_sign.py attest`: a DSSE envelope of an in-toto statement
    /// about `digest`, of `payload_type` (default in-toto's).
    pub(crate) fn attest(
        &self,
        digest: &Digest,
        predicate_type: &str,
        payload_type: Option<&str>,
    ) -> Attestation {
        let key = self.dir.path().join("cosign.key").display().to_string();
        let mut args = vec!["attest", &key, digest.as_str(), predicate_type];
        args.extend(payload_type);
        let out: serde_json::Value = serde_json::from_slice(&signer(&args)).unwrap();
        Attestation {
            envelope: out["envelope"].clone(),
            fingerprint: out["fingerprint"].as_str().unwrap().to_owned(),
        }
    }
}

/// A test Sigstore instance `sigstore_make.py world` made: a CA, a
/// rogue CA, a log key, another log key, and its trusted_root.json.
pub(crate) struct SigstoreWorld {
    dir: tempfile::TempDir,
}

impl SigstoreWorld {
    /// `sigstore_make.py world`.
    pub(crate) fn generate() -> Self {
        let dir = tempfile::tempdir().unwrap();
        script(
            "sigstore_make.py",
            &["world", &dir.path().display().to_string()],
        );
        Self { dir }
    }

    /// Its trusted_root.json's path.
    pub(crate) fn trusted_root_path(&self) -> PathBuf {
        self.dir.path().join("trusted_root.json")
    }

    /// Its trusted root as ours reads it.
    pub(crate) fn trusted_root(&self) -> TrustedRoot {
        TrustedRoot::from_json(&std::fs::read(self.trusted_root_path()).unwrap()).unwrap()
    }

    /// A policy of `identity` against this instance's root.
    pub(crate) fn policy(&self, identity: IdentityPolicy) -> Policy {
        Policy::identities([identity]).with_trusted_root(self.trusted_root())
    }

    /// `sigstore_make.py bundle`: a bundle for `digest` made with
    /// `options` (see the script).
    pub(crate) fn bundle(&self, digest: &Digest, options: &serde_json::Value) -> Vec<u8> {
        script(
            "sigstore_make.py",
            &[
                "bundle",
                &self.dir.path().display().to_string(),
                digest.as_str(),
                &options.to_string(),
            ],
        )
    }
}

/// A transport allowed plain HTTP to `host`, with Basic credentials when
/// given.
pub(crate) fn client(host: &str, credentials: Option<(&str, &str)>) -> RegistryClient {
    trace::init();
    let mut builder = Transport::builder().max_retries(1).allow_plain_http(host);
    if let Some((user, password)) = credentials {
        builder = builder.credentials(Arc::new(StaticProvider::new(Credentials::basic(
            user, password,
        ))));
    }
    RegistryClient::new(builder.build().unwrap())
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

async fn put(
    client: &RegistryClient,
    reference: &Reference,
    manifest: &serde_json::Value,
) -> Manifest {
    let bytes = serde_json::to_vec(manifest).unwrap();
    let manifest =
        Manifest::from_bytes(bytes, Some("application/vnd.oci.image.manifest.v1+json")).unwrap();
    client.put_manifest(reference, &manifest).await.unwrap();
    manifest
}

/// A small image (one layer made of `seed`) tagged `tag`.
pub(crate) async fn push_image(
    client: &RegistryClient,
    repository: &Reference,
    tag: &str,
    seed: &str,
) -> Manifest {
    let layer = format!("a layer of {seed}");
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_digest = push_blob(client, repository, layer.as_bytes()).await;
    let config_digest = push_blob(client, repository, config).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest.as_str(), "size": layer.len()}],
    });
    put(client, &repository.with_tag(tag).unwrap(), &manifest).await
}

/// The layers of a signature manifest: each payload with its annotation.
async fn signature_layers(
    client: &RegistryClient,
    repository: &Reference,
    signatures: &[&Signed],
) -> Vec<serde_json::Value> {
    let mut layers = Vec::new();
    for signed in signatures {
        let digest = push_blob(client, repository, &signed.payload).await;
        layers.push(json!({
            "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
            "digest": digest.as_str(),
            "size": signed.payload.len(),
            "annotations": {SIGNATURE_ANNOTATION: signed.signature},
        }));
    }
    layers
}

/// A manifest of `layers` under the tag `sha256-<hex>.<suffix>` of
/// `image`, as cosign's legacy scheme pushes signatures and attestations.
async fn attach_tag(
    client: &RegistryClient,
    repository: &Reference,
    image: &Digest,
    suffix: &str,
    layers: Vec<serde_json::Value>,
) -> Manifest {
    let config =
        br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = push_blob(client, repository, config).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config.len()},
        "layers": layers,
    });
    let tag = format!("{}.{suffix}", image.referrers_tag());
    put(client, &repository.with_tag(&tag).unwrap(), &manifest).await
}

/// An artifact of `layers` whose `subject` is `image`, pushed by digest
/// (the fallback index is kept by put_manifest where the registry lacks
/// the referrers API), as cosign's OCI 1.1 scheme pushes them.
async fn attach_as_referrer(
    client: &RegistryClient,
    repository: &Reference,
    image: &Manifest,
    artifact_type: &str,
    layers: Vec<serde_json::Value>,
) -> Manifest {
    let empty = b"{}";
    let empty_digest = push_blob(client, repository, empty).await;
    let subject = image.descriptor();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest.as_str(), "size": 2},
        "layers": layers,
        "subject": {"mediaType": subject.media_type().to_string(), "digest": subject.digest().to_string(), "size": subject.size()},
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = Digest::sha256_of(&bytes);
    put(client, &repository.with_digest(digest), &manifest).await
}

/// cosign's legacy scheme: simple-signing layers under `sha256-<hex>.sig`.
pub(crate) async fn attach_sig_tag(
    client: &RegistryClient,
    repository: &Reference,
    image: &Digest,
    signatures: &[&Signed],
) -> Manifest {
    let layers = signature_layers(client, repository, signatures).await;
    attach_tag(client, repository, image, "sig", layers).await
}

/// cosign's OCI 1.1 scheme: a signature artifact whose `subject` is `image`.
pub(crate) async fn attach_referrer(
    client: &RegistryClient,
    repository: &Reference,
    image: &Manifest,
    signatures: &[&Signed],
) -> Manifest {
    let layers = signature_layers(client, repository, signatures).await;
    attach_as_referrer(
        client,
        repository,
        image,
        COSIGN_SIGNATURE_ARTIFACT_TYPE,
        layers,
    )
    .await
}

/// The layers of an attestation manifest: each envelope, as cosign
/// pushes it (an empty signature annotation, the predicate type).
async fn envelope_layers(
    client: &RegistryClient,
    repository: &Reference,
    attestations: &[&Attestation],
) -> Vec<serde_json::Value> {
    let mut layers = Vec::new();
    for attestation in attestations {
        let bytes = attestation.bytes();
        let digest = push_blob(client, repository, &bytes).await;
        layers.push(json!({
            "mediaType": DSSE_MEDIA_TYPE,
            "digest": digest.as_str(),
            "size": bytes.len(),
            "annotations": {SIGNATURE_ANNOTATION: "", "predicateType": "unchecked"},
        }));
    }
    layers
}

/// `cosign attest --key`'s legacy scheme: DSSE layers under `sha256-<hex>.att`.
pub(crate) async fn attach_att_tag(
    client: &RegistryClient,
    repository: &Reference,
    image: &Digest,
    attestations: &[&Attestation],
) -> Manifest {
    let layers = envelope_layers(client, repository, attestations).await;
    attach_tag(client, repository, image, "att", layers).await
}

/// An attestation artifact whose `subject` is `image`.
pub(crate) async fn attach_att_referrer(
    client: &RegistryClient,
    repository: &Reference,
    image: &Manifest,
    attestations: &[&Attestation],
) -> Manifest {
    let layers = envelope_layers(client, repository, attestations).await;
    attach_as_referrer(
        client,
        repository,
        image,
        COSIGN_ATTESTATION_ARTIFACT_TYPE,
        layers,
    )
    .await
}

/// A fake registry of `profile` with the user `octo`, a client for it and
/// its `octo/app` (the fake runs while its handle lives).
pub(crate) async fn on_fake(
    profile: ghcr_sim::fake::Profile,
) -> (ghcr_sim::fake::FakeGhcr, RegistryClient, Reference) {
    let fake = ghcr_sim::fake::FakeGhcr::builder()
        .profile(profile)
        .user("octo", "token-o")
        .start()
        .await
        .unwrap();
    let client = client(fake.registry_host(), Some(("octo", "token-o")));
    let repository = Reference::parse(&format!("{}/octo/app", fake.registry_host())).unwrap();
    (fake, client, repository)
}

/// The media type (and artifact type) `actions/attest` pushes bundles as.
pub(crate) const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A Sigstore bundle attached as `actions/attest` attaches it: an
/// artifact of [`BUNDLE_V03`] with the bundle as its one layer, whose
/// `subject` is `image`.
pub(crate) async fn attach_bundle_referrer(
    client: &RegistryClient,
    repository: &Reference,
    image: &Manifest,
    bundle: &[u8],
) -> Manifest {
    let digest = push_blob(client, repository, bundle).await;
    let layer = json!({
        "mediaType": BUNDLE_V03,
        "digest": digest.as_str(),
        "size": bundle.len(),
        "annotations": {"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"},
    });
    attach_as_referrer(client, repository, image, BUNDLE_V03, vec![layer]).await
}
