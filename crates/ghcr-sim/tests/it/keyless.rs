//! The fake's keyless bundles checked by an implementation independent of
//! ours and of ghcr-trust: `keyless_check.py` (PyCA cryptography, in the
//! py-tools venv: GHCR_PY_TOOLS, else target/py-tools) parses the
//! certificates strictly and verifies the chain, the DSSE signature, the
//! log entry, its SET and its inclusion proof; a changed payload fails.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_sim::attest::{KEYLESS_IDENTITY, KEYLESS_ISSUER, keyless_world};
use serde_json::Value;

fn check(bundle: &Value) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("GHCR_PY_TOOLS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| root.join("target/py-tools"), PathBuf::from);
    let dir = tempfile::tempdir().unwrap();
    let (root_file, bundle_file) = (dir.path().join("root.json"), dir.path().join("bundle.json"));
    std::fs::write(&root_file, keyless_world().unwrap().trusted_root_json()).unwrap();
    std::fs::write(&bundle_file, bundle.to_string()).unwrap();
    std::process::Command::new(venv.join("bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/keyless_check.py"))
        .args([&root_file, &bundle_file])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}/bin/python: {e}; run `cargo xtask install`",
                venv.display()
            )
        })
}

#[test]
fn keyless_bundles_verify_with_pyca_cryptography() {
    let statement = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"00"}}],"predicateType":"p","predicate":{}}"#;
    let bundle = keyless_world()
        .unwrap()
        .bundle(statement, time::OffsetDateTime::now_utc())
        .unwrap();
    let output = check(&bundle);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let claims: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(claims["san"], serde_json::json!([KEYLESS_IDENTITY]));
    assert_eq!(claims["1"], KEYLESS_ISSUER);
    assert_eq!(claims["8"], KEYLESS_ISSUER);
    assert_eq!(claims["9"], KEYLESS_IDENTITY);
    assert_eq!(claims["12"], "https://github.com/octo/app");
    assert_eq!(claims["16"], "https://github.com/octo");
    assert_eq!(claims["20"], "push");

    let mut changed = bundle.clone();
    changed["dsseEnvelope"]["payload"] = Value::from(STANDARD.encode(b"{}"));
    let output = check(&changed);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("the DSSE signature does not verify"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
