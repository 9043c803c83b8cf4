//! `ghcr verify --type attestation` with keyless flags: a Sigstore bundle
//! made by a test instance (ghcr-trust's `sigstore_make.py`, PyCA
//! cryptography) attached on the fake ghcr.io (the `sha256-<hex>`
//! fallback tag) verifies under `--owner`, `--repo`,
//! `--signer-workflow`, `--certificate-identity[-regexp]` with
//! `--certificate-oidc-issuer` and `--trusted-root`; another signer exits
//! 8 with why; flags naming no single policy exit 2.

use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::fake::FakeGhcr;
use serde_json::json;

use crate::support::{Env, at, fake, seed};
use crate::verify::{keygen, trust_script};

/// ghcr-trust's `sigstore_make.py ARGS` (PyCA cryptography) stdout.
fn sigstore(args: &[&str]) -> Vec<u8> {
    trust_script("sigstore_make.py", args)
}

const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Attaches `bundle` to `image` as `actions/attest` does on ghcr.io: an
/// artifact manifest pushed by digest, listed in the `sha256-<hex>`
/// fallback index (replaced whole: one bundle per image here).
fn attach_bundle(fake: &FakeGhcr, repository: &str, image: &Digest, bundle: Vec<u8>) {
    let store = fake.store();
    let size = bundle.len();
    let layer = store.push_blob(repository, Bytes::from(bundle)).unwrap();
    let empty = store
        .push_blob(repository, Bytes::from_static(b"{}"))
        .unwrap();
    let image_size = store
        .manifest(repository, image.as_str())
        .map_or(0, |(bytes, _)| bytes.len());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": BUNDLE_V03,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
        "layers": [{"mediaType": BUNDLE_V03, "digest": layer.as_str(), "size": size}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image.as_str(), "size": image_size},
    })
    .to_string();
    let digest = Digest::sha256_of(manifest.as_bytes());
    let manifest_size = manifest.len();
    store
        .push_manifest(
            repository,
            digest.as_str(),
            manifest,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest.as_str(), "size": manifest_size, "artifactType": BUNDLE_V03}],
    });
    store
        .push_manifest(
            repository,
            &image.referrers_tag(),
            index.to_string(),
            "application/vnd.oci.image.index.v1+json",
        )
        .unwrap();
}

const WORKFLOW: &str = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// A fake ghcr.io whose `octo/app:v1` has a bundle made by a test
/// Sigstore instance attached, and that instance's folder.
struct Scene {
    fake: FakeGhcr,
    world: tempfile::TempDir,
    v1: String,
    root: String,
}

async fn scene() -> Scene {
    let fake = fake().await;
    let world = tempfile::tempdir().unwrap();
    let world_dir = world.path().display().to_string();
    sigstore(&["world", &world_dir]);
    let root = world.path().join("trusted_root.json").display().to_string();
    let image = seed(&fake, "octo/app", Some("v1"), "attested layer");
    let bundle = sigstore(&["bundle", &world_dir, image.as_str(), "{}"]);
    attach_bundle(&fake, "octo/app", &image, bundle);
    let v1 = at(&fake, "octo/app:v1");
    Scene {
        fake,
        world,
        v1,
        root,
    }
}

impl Scene {
    /// `verify v1 --type attestation --trusted-root ROOT` and `extra`.
    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let base = [
            "verify",
            self.v1.as_str(),
            "--type",
            "attestation",
            "--trusted-root",
            self.root.as_str(),
        ];
        [&base[..], extra].concat()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_flags_verify_a_bundle_and_exit_8_for_another_signer() {
    let scene = scene().await;
    let env = Env::fake(&scene.fake);
    let with = |extra: &[&'static str]| scene.args(extra);
    let (workflow, issuer, v1) = (WORKFLOW, ISSUER, scene.v1.as_str());

    env.run(&with(&["--owner", "octo"]))
        .await
        .ok()
        .stdout_has("1 of 1 attestation(s)")
        .stdout_has(&format!("verified  identity {workflow} (issuer {issuer}, repository octo/app, workflow octo/app/.github/workflows/release.yml@refs/tags/v1)"))
        .stdout_has("(referrers_tag)");
    for flags in [
        vec![
            "--certificate-identity",
            workflow,
            "--certificate-oidc-issuer",
            issuer,
        ],
        vec![
            "--certificate-identity-regexp",
            "^https://github.com/octo/",
            "--certificate-oidc-issuer",
            issuer,
        ],
        vec![
            "--repo",
            "octo/app",
            "--signer-workflow",
            "octo/app/.github/workflows/release.yml",
        ],
    ] {
        env.run(&with(&flags)).await.ok();
    }
    let json = env
        .run(&[&["--json"][..], &with(&["--owner", "octo"])].concat())
        .await
        .ok()
        .json();
    let signer = &json["attestations"][0]["signer"];
    assert_eq!(signer["kind"], "keyless");
    assert_eq!(signer["identity"], workflow);
    assert_eq!(signer["issuer"], issuer);
    assert_eq!(
        signer["claims"]["source_repository_uri"],
        "https://github.com/octo/app"
    );

    // Another owner, issuer, workflow: refused with why, exit 8.
    for (flags, says) in [
        (vec!["--owner", "evil"], "source repository owner"),
        (
            vec![
                "--certificate-identity",
                workflow,
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
            ],
            "OIDC issuer",
        ),
        (
            vec![
                "--owner",
                "octo",
                "--signer-workflow",
                "octo/app/.github/workflows/ci.yml",
            ],
            "signing workflow",
        ),
    ] {
        env.run(&with(&flags))
            .await
            .code(8)
            .stdout_has("0 of 1 attestation(s)")
            .stdout_has(says)
            .stderr_has("verified under the given policy");
    }
    // Against the shipped public-good root, the test log is unknown.
    env.run(&["verify", v1, "--type", "attestation", "--owner", "octo"])
        .await
        .code(8)
        .stdout_has("not in the trusted root");
}

#[tokio::test(flavor = "multi_thread")]
async fn keyless_flags_that_name_no_single_policy_exit_2() {
    let scene = scene().await;
    let env = Env::fake(&scene.fake);
    let (workflow, issuer, v1) = (WORKFLOW, ISSUER, scene.v1.as_str());
    // Both kinds, neither, incomplete, keyless signatures, bad regex, bad root.
    let key = keygen(scene.world.path(), "k").display().to_string();
    env.run(&scene.args(&["--owner", "octo", "--key", &key]))
        .await
        .code(2)
        .stderr_has("not both");
    env.run(&scene.args(&[]))
        .await
        .code(2)
        .stderr_has("--key FILE, or a keyless identity");
    env.run(&scene.args(&["--certificate-identity", workflow]))
        .await
        .code(2)
        .stderr_has("--certificate-oidc-issuer");
    env.run(&["verify", v1, "--owner", "octo"])
        .await
        .code(2)
        .stderr_has("--type attestation");
    env.run(&scene.args(&[
        "--certificate-identity-regexp",
        "(",
        "--certificate-oidc-issuer",
        issuer,
    ]))
    .await
    .code(2)
    .stderr_has("not a regular expression");
    let garbage = scene.world.path().join("garbage.json");
    std::fs::write(&garbage, "{}").unwrap();
    env.run(&[
        "verify",
        v1,
        "--type",
        "attestation",
        "--owner",
        "octo",
        "--trusted-root",
        &garbage.display().to_string(),
    ])
    .await
    .code(1)
    .stderr_has("trusted root");
}
