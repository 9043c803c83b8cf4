//! `ghcr verify`: exit 0 with the verified signer when a signature by the
//! key is in the image's `.sig` tag, exit 8 with each refusal's reason
//! when none verifies, exit 2 for a key that is not one. The signatures
//! are PyCA cryptography's (ghcr-trust's `cosign_sign.py`).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::fake::FakeGhcr;
use serde_json::json;

use crate::support::{Env, at, fake, seed};

/// ghcr-trust's Python signer (`cosign_sign.py ARGS`) stdout.
pub(crate) fn signer(args: &[&str]) -> Vec<u8> {
    trust_script("cosign_sign.py", args)
}

/// ghcr-trust's test script `name` (PyCA cryptography) run with `args` in
/// the py-tools venv (GHCR_PY_TOOLS, else the workspace's
/// target/py-tools): its stdout; a missing venv fails with the fix.
pub(crate) fn trust_script(name: &str, args: &[&str]) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("GHCR_PY_TOOLS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| root.join("target/py-tools"), PathBuf::from);
    let output = std::process::Command::new(venv.join("bin/python"))
        .arg(root.join("crates/ghcr-trust/tests/it").join(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}/bin/python: {e}; run `cargo xtask install`",
                venv.display()
            )
        });
    assert!(
        output.status.success(),
        "{name} {args:?} (PyCA cryptography from `cargo xtask install`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A key pair in `dir/<name>/`; returns cosign.pub's path.
pub(crate) fn keygen(dir: &Path, name: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    signer(&["keygen", &folder.display().to_string()]);
    folder.join("cosign.pub")
}

/// Signs `image` with the key beside `public` and pushes the signature
/// to the image's `sha256-<hex>.sig` tag in the fake, as cosign does.
fn sign(fake: &FakeGhcr, repository: &str, image: &Digest, public: &Path) -> String {
    let key = public.with_file_name("cosign.key").display().to_string();
    let reference = at(fake, repository);
    let out: serde_json::Value =
        serde_json::from_slice(&signer(&["sign", &key, image.as_str(), &reference])).unwrap();
    let payload = base64_decode(out["payload"].as_str().unwrap());
    let store = fake.store();
    let layer = store.push_blob(repository, payload.clone()).unwrap();
    let config = Bytes::from_static(
        br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let config_size = config.len();
    let config = store.push_blob(repository, config).unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.as_str(), "size": config_size},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": layer.as_str(),
            "size": payload.len(),
            "annotations": {"dev.cosignproject.cosign/signature": out["signature"]},
        }],
    });
    store
        .push_manifest(
            repository,
            &format!("{}.sig", image.referrers_tag()),
            manifest.to_string(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    out["fingerprint"].as_str().unwrap().to_owned()
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_exits_0_when_a_signature_verifies_and_8_when_none_does() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let trusted = keygen(dir.path(), "trusted");
    let stranger = keygen(dir.path(), "stranger");
    let signed = seed(&fake, "octo/app", Some("v1"), "signed layer");
    seed(&fake, "octo/app", Some("v2"), "unsigned layer");
    let fingerprint = sign(&fake, "octo/app", &signed, &trusted);
    let env = Env::fake(&fake);
    let v1 = at(&fake, "octo/app:v1");
    let v2 = at(&fake, "octo/app:v2");
    let key = |path: &Path| path.display().to_string();

    env.run(&["verify", &v1, "--key", &key(&trusted)])
        .await
        .ok()
        .stdout_has("1 of 1 signature(s)")
        .stdout_has(&format!("verified  key {fingerprint}"))
        .stdout_has("(sig_tag)");
    let json = env
        .run(&["--json", "verify", &v1, "--key", &key(&trusted)])
        .await
        .ok()
        .json();
    assert_eq!(json["image"], signed.as_str());
    assert_eq!(json["verified"], true);
    assert_eq!(json["signatures"][0]["signer"]["fingerprint"], fingerprint);
    assert_eq!(
        json["signatures"][0]["payload"]["manifest_digest"],
        signed.as_str()
    );
    // Either key of several will do.
    env.run(&[
        "verify",
        &v1,
        "--key",
        &key(&stranger),
        "--key",
        &key(&trusted),
    ])
    .await
    .ok();

    // Another key: the signature is shown, refused, and the exit is 8.
    env.run(&["verify", &v1, "--key", &key(&stranger)])
        .await
        .code(8)
        .stdout_has("0 of 1 signature(s)")
        .stdout_has("refused")
        .stdout_has("does not verify with the policy's key")
        .stderr_has("no signature of");
    let refused = env
        .run(&["--json", "verify", &v1, "--key", &key(&stranger)])
        .await;
    refused.code(8);
    let json = refused.json();
    assert_eq!(json["verified"], false);
    assert!(
        json["signatures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not verify")
    );
    // No signature at all: 8 as well.
    env.run(&["verify", &v2, "--key", &key(&trusted)])
        .await
        .code(8)
        .stdout_has("0 of 0 signature(s)");

    // A file that is no key, a missing --key: usage errors.
    let garbage = dir.path().join("garbage.pub");
    std::fs::write(&garbage, "not a key").unwrap();
    env.run(&["verify", &v1, "--key", &key(&garbage)])
        .await
        .code(2)
        .stderr_has("is not an ECDSA P-256 public key in PEM");
    env.run(&["verify", &v1]).await.code(2).stderr_has("--key");
    // A missing image: not found.
    env.run(&["verify", &at(&fake, "octo/app:v9"), "--key", &key(&trusted)])
        .await
        .code(3);
}
