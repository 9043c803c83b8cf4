//! `ghcr verify --type attestation`: exit 0 with the signer and predicate
//! type when an envelope by the key about the image is in its `.att` tag,
//! exit 8 with each refusal's reason otherwise (another key, another
//! predicate type than `--predicate-type`, an envelope about another
//! image). The envelopes are PyCA cryptography's (ghcr-trust's
//! `cosign_sign.py attest`).

use std::path::Path;

use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::fake::FakeGhcr;
use serde_json::json;

use crate::support::{Env, at, fake, seed};
use crate::verify::{keygen, signer};

const SLSA: &str = "https://slsa.dev/provenance/v0.2";

/// An envelope about `about` by the key beside `public`, pushed to
/// `image`'s `sha256-<hex>.att` tag in the fake, as `cosign attest` does.
fn attest(fake: &FakeGhcr, image: &Digest, about: &Digest, public: &Path) -> String {
    let key = public.with_file_name("cosign.key").display().to_string();
    let out: serde_json::Value =
        serde_json::from_slice(&signer(&["attest", &key, about.as_str(), SLSA])).unwrap();
    let envelope = Bytes::from(serde_json::to_vec(&out["envelope"]).unwrap());
    let store = fake.store();
    let layer = store.push_blob("octo/app", envelope.clone()).unwrap();
    let config = Bytes::from_static(b"{}");
    let config = store.push_blob("octo/app", config).unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.dsse.envelope.v1+json",
            "digest": layer.as_str(),
            "size": envelope.len(),
            "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": SLSA},
        }],
    });
    store
        .push_manifest(
            "octo/app",
            &format!("{}.att", image.referrers_tag()),
            manifest.to_string(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    out["fingerprint"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_type_attestation_exits_0_when_one_verifies_and_8_when_none_does() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let trusted = keygen(dir.path(), "trusted");
    let stranger = keygen(dir.path(), "stranger");
    let v1 = seed(&fake, "octo/app", Some("v1"), "attested layer");
    let v2 = seed(&fake, "octo/app", Some("v2"), "copied-to layer");
    let fingerprint = attest(&fake, &v1, &v1, &trusted);
    attest(&fake, &v2, &v1, &trusted);
    let env = Env::fake(&fake);
    let (v1_ref, v2_ref) = (at(&fake, "octo/app:v1"), at(&fake, "octo/app:v2"));
    let key = |path: &Path| path.display().to_string();
    let verify = |reference: &str, key: &str, extra: &[&str]| {
        let mut args = vec!["verify", reference, "--key", key, "--type", "attestation"];
        args.extend(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let env = &env;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.run(&args).await
        }
    };

    run(verify(&v1_ref, &key(&trusted), &[]))
        .await
        .ok()
        .stdout_has("1 of 1 attestation(s)")
        .stdout_has(&format!("verified  key {fingerprint}  {SLSA}"))
        .stdout_has("(att_tag)");
    run(verify(&v1_ref, &key(&trusted), &["--predicate-type", SLSA]))
        .await
        .ok();
    let mut json_args = vec!["--json".to_owned()];
    json_args.extend(verify(&v1_ref, &key(&trusted), &[]));
    let json = run(json_args).await.ok().json();
    assert_eq!(json["verified"], true);
    let entry = &json["attestations"][0];
    assert_eq!(entry["signer"]["fingerprint"], fingerprint);
    assert_eq!(entry["predicate_type"], SLSA);
    assert_eq!(
        entry["statement"]["subject"][0]["digest"]["sha256"],
        v1.as_str().trim_start_matches("sha256:")
    );
    // The signatures of v1: none (attestations are not signatures).
    env.run(&["verify", &v1_ref, "--key", &key(&trusted)])
        .await
        .code(8)
        .stdout_has("0 of 0 signature(s)");

    // Another key, another predicate type, an envelope about v1 on v2.
    run(verify(&v1_ref, &key(&stranger), &[]))
        .await
        .code(8)
        .stdout_has("0 of 1 attestation(s)")
        .stdout_has("does not verify with the policy's key")
        .stderr_has("no attestation of");
    run(verify(
        &v1_ref,
        &key(&trusted),
        &["--predicate-type", "https://spdx.dev/Document"],
    ))
    .await
    .code(8)
    .stdout_has("its predicate type is");
    run(verify(&v2_ref, &key(&trusted), &[]))
        .await
        .code(8)
        .stdout_has("it is about another image");
    // --predicate-type is for attestations only.
    env.run(&[
        "verify",
        &v1_ref,
        "--key",
        &key(&trusted),
        "--predicate-type",
        SLSA,
    ])
    .await
    .code(2)
    .stderr_has("--predicate-type needs --type attestation");
}
