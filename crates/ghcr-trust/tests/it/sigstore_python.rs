//! Cross-check (issue 13): the PyPI `sigstore` package (sigstore-python,
//! pinned in xtask/py-tools/sigstore.txt, in its own venv) verifies the
//! same bundles as ours and accepts and refuses the same ones, for the
//! same reason; the two known differences are asserted as differences.
//!
//! sigstore-python runs as `python -m sigstore --trust-config CONFIG
//! verify identity --offline --bundle FILE --cert-identity ...
//! --cert-oidc-issuer ... sha256:HEX`: CONFIG is a ClientTrustConfig
//! wrapping the world's trusted_root.json (verification reads only its
//! `trustedRoot`), and the `sha256:` input makes it check a DSSE
//! statement's subject digest, or a message signature's digest, as ours
//! does.

use std::path::{Path, PathBuf};
use std::process::Command;

use ghcr_trust::{IdentityPolicy, PUBLIC_GOOD_TRUSTED_ROOT, verify_bundle, verify_message_bundle};
use ghcr_types::Digest;
use serde_json::{Value, json};

use crate::support::SigstoreWorld;

const WORKFLOW: &str = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// What both implementations make of one bundle.
#[derive(Debug)]
enum Outcome {
    /// Both accept it.
    Accept,
    /// Both refuse it; sigstore-python's error says this.
    Refuse(&'static str),
    /// Ours accepts it, sigstore-python refuses it saying this: a known
    /// difference, each explained where it is listed.
    OnlyOursAccepts(&'static str),
}

/// sigstore-python's venv (`GHCR_SIGSTORE_VENV`, else the workspace's
/// target/sigstore-venv) python; a missing one fails the test with how to
/// install it.
fn sigstore_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("GHCR_SIGSTORE_VENV")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| root.join("target/sigstore-venv"), PathBuf::from);
    let python = venv.join("bin/python");
    let has_it = Command::new(&python)
        .args(["-c", "import sigstore"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        has_it,
        "{} with sigstore-python is missing: install it with `cargo xtask install`, or run\n  \
         python3 -m venv {venv} && {venv}/bin/pip install -r {requirements}",
        python.display(),
        venv = venv.display(),
        requirements = root.join("xtask/py-tools/sigstore.txt").display(),
    );
    python
}

/// A ClientTrustConfig of `trusted_root` in `dir`; its path.
fn trust_config(dir: &Path, trusted_root: &[u8]) -> PathBuf {
    let trusted_root: Value = serde_json::from_slice(trusted_root).unwrap();
    let config = json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root,
        // Signing needs these URLs; verification reads none of them.
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [], "oidcUrls": [], "rekorTlogUrls": [], "tsaUrls": [],
        },
    });
    let path = dir.join("client_trust_config.json");
    std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
    path
}

/// sigstore-python's verdict on `bundle` for `digest`: `Ok` or `Err` with
/// its stderr.
fn python_verifies(
    config: &Path,
    bundle: &[u8],
    digest: &Digest,
    identity: &str,
) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.sigstore.json");
    std::fs::write(&file, bundle).unwrap();
    let output = Command::new(sigstore_python())
        .args(["-m", "sigstore", "--trust-config"])
        .arg(config)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(&file)
        .args(["--cert-identity", identity, "--cert-oidc-issuer", ISSUER])
        .arg(digest.as_str())
        // rich wraps its log lines at the terminal's width otherwise.
        .env("COLUMNS", "100000")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        return Ok(());
    }
    // Only exit code 1 is a refusal: 2 is a usage error of ours.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    Err(stderr.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Asserts what both make of a bundle; `ours` is our verdict.
fn check(name: &str, ours: Result<(), String>, python: Result<(), String>, expected: &Outcome) {
    match (expected, ours, python) {
        (Outcome::Accept, Ok(()), Ok(())) => {}
        (Outcome::Refuse(says), Err(_), Err(stderr))
        | (Outcome::OnlyOursAccepts(says), Ok(()), Err(stderr)) => {
            assert!(
                stderr.contains(says),
                "{name}: sigstore-python said {stderr}"
            );
        }
        (expected, ours, python) => {
            panic!("{name}: expected {expected:?}, ours {ours:?}, sigstore-python {python:?}")
        }
    }
}

#[test]
fn sigstore_python_accepts_and_refuses_the_same_generated_bundles() {
    let world = SigstoreWorld::generate();
    let config = trust_config(
        world.trusted_root_path().parent().unwrap(),
        &std::fs::read(world.trusted_root_path()).unwrap(),
    );
    let image = Digest::sha256_of(b"the image");
    let policy = world.policy(IdentityPolicy::new().identity(WORKFLOW).issuer(ISSUER));
    let cases = [
        (json!({}), Outcome::Accept),
        (json!({"version": "0.1"}), Outcome::Accept),
        (json!({"version": "0.2"}), Outcome::Accept),
        (json!({"message": true}), Outcome::Accept),
        (json!({"legacy_issuer_only": true}), Outcome::Accept),
        (
            json!({"expired": true}),
            Outcome::Refuse("cert is not valid at validation time"),
        ),
        (
            json!({"rogue_ca": true}),
            Outcome::Refuse("failed to build timestamp certificate chain"),
        ),
        (
            json!({"set_other_body": true}),
            Outcome::Refuse("invalid inclusion promise"),
        ),
        (
            json!({"other_log_key": true}),
            Outcome::Refuse("invalid inclusion promise"),
        ),
        (
            json!({"bad_proof": true}),
            Outcome::Refuse("inclusion proof contains invalid root hash"),
        ),
        (
            json!({"no_code_signing": true}),
            Outcome::Refuse("does not contain `code signing`"),
        ),
        (
            json!({"no_sct": true}),
            Outcome::Refuse("does not contain a signed certificate timestamp"),
        ),
        (
            json!({"bad_sct": true}),
            Outcome::Refuse("SCT verify failed"),
        ),
        (
            json!({"identity": "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1"}),
            Outcome::Refuse("SANs do not match"),
        ),
        (
            json!({"message": true, "expired": true}),
            Outcome::Refuse("cert is not valid at validation time"),
        ),
        (
            json!({"message": true, "bad_proof": true}),
            Outcome::Refuse("inclusion proof contains invalid root hash"),
        ),
        // Known difference: the bundle spec lets a v0.1 bundle carry only
        // the signed entry timestamp (inclusionProof became required in
        // v0.2), so ours accepts it; sigstore-python's bundle model
        // requires inclusionProof in every version and refuses to load it.
        (
            json!({"version": "0.1", "no_proof": true}),
            Outcome::OnlyOursAccepts("inclusionProof Field required"),
        ),
        // Known difference: a Rekor intoto 0.0.2 entry (what cosign logged
        // attestations as before dsse 0.0.1 existed) binds the envelope's
        // signature and payload hash, and ours checks both; sigstore-python
        // 4.5.1 takes an integrated time only from dsse or hashedrekord
        // 0.0.1 entries (verify/verifier.py) and refuses any other kind.
        (
            json!({"intoto": true}),
            Outcome::OnlyOursAccepts("Integrated time only supported for dsse/hashedrekord"),
        ),
    ];
    for (options, expected) in &cases {
        let bundle = world.bundle(&image, options);
        let ours = if options.get("message").is_some() {
            verify_message_bundle(&bundle, &image, &policy).map(drop)
        } else {
            verify_bundle(&bundle, &image, &policy, None).map(drop)
        };
        let python = python_verifies(&config, &bundle, &image, WORKFLOW);
        check(
            &options.to_string(),
            ours.map_err(|error| error.to_string()),
            python,
            expected,
        );
    }
    // A statement about another digest: both refuse.
    let other = Digest::sha256_of(b"another image");
    let bundle = world.bundle(&image, &json!({}));
    check(
        "another digest",
        verify_bundle(&bundle, &other, &policy, None)
            .map(drop)
            .map_err(|error| error.to_string()),
        python_verifies(&config, &bundle, &other, WORKFLOW),
        &Outcome::Refuse("in-toto statement has no subject for digest"),
    );
}

#[test]
fn sigstore_python_refuses_the_real_cosign_bundle_that_ours_accepts() {
    const COSIGN: &[u8] = include_bytes!("../data/sigstore/cosign-sign-v03.sigstore.json");
    const IMAGE: &str = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
    const KUBEWARDEN: &str = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
    let dir = tempfile::tempdir().unwrap();
    let config = trust_config(dir.path(), PUBLIC_GOOD_TRUSTED_ROOT.as_bytes());
    let image = Digest::parse(IMAGE).unwrap();
    let policy =
        ghcr_trust::Policy::identities([IdentityPolicy::new().identity(KUBEWARDEN).issuer(ISSUER)]);
    // Known difference: `cosign sign --new-bundle-format` writes an
    // in-toto statement whose subject has a digest and no `name`. in-toto's
    // statement v1 says a subject's name may be empty where the digest
    // identifies it, and ours matches subjects by digest alone; sigstore-
    // python's statement model requires `name`, so it refuses before any
    // signature check.
    check(
        "cosign-sign-v03",
        verify_bundle(COSIGN, &image, &policy, None)
            .map(drop)
            .map_err(|error| error.to_string()),
        python_verifies(&config, COSIGN, &image, KUBEWARDEN),
        &Outcome::OnlyOursAccepts("subject.0.name Field required"),
    );
}
