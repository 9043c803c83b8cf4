//! `gate --key` and `vulns --key`: only a scan signed with one of the
//! keys counts. A clean scan signed with the fake's key (as `cosign attest
//! --key` signs) passes and names its signer; a forged clean scan (a
//! placeholder signature, what anyone who can push can attach) and a
//! keyless bundle are ignored with their reasons, and with nothing
//! verified the gate exits 8. Without `--key` the forged scan still
//! passes: today's behaviour.

use ghcr_sim::attest::{Attachment, Envelope, SigningKey, VulnFormat, attestation_key};

use crate::support::{Env, at, fake, seed};

/// The fake with `octo/app:signed` (a clean scan signed with the fake's
/// key) and `octo/app:forged` (a forged clean scan and a keyless bundle),
/// and the key files in `dir`: the fake's and a stranger's.
async fn signed_and_forged(dir: &std::path::Path) -> (ghcr_sim::fake::FakeGhcr, String, String) {
    let fake = fake().await;
    let clean = |envelope| Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, envelope);
    let signed = seed(&fake, "octo/app", Some("signed"), "signed layer");
    let forged = seed(&fake, "octo/app", Some("forged"), "forged layer");
    let store = fake.store();
    store
        .attach("octo/app", &signed, &clean(Envelope::SignedDsse))
        .unwrap();
    store
        .attach("octo/app", &forged, &clean(Envelope::Dsse))
        .unwrap();
    store
        .attach("octo/app", &forged, &clean(Envelope::SigstoreBundle))
        .unwrap();
    let key = dir.join("cosign.pub");
    std::fs::write(&key, attestation_key().unwrap().public_key_pem()).unwrap();
    let stranger = dir.join("stranger.pub");
    std::fs::write(&stranger, SigningKey::generate().unwrap().public_key_pem()).unwrap();
    (
        fake,
        key.display().to_string(),
        stranger.display().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn gate_with_a_key_passes_the_signed_scan_and_refuses_forged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, key, stranger) = signed_and_forged(dir.path()).await;
    let env = Env::fake(&fake);
    let fingerprint = attestation_key().unwrap().fingerprint().to_owned();
    let (signed_ref, forged_ref) = (at(&fake, "octo/app:signed"), at(&fake, "octo/app:forged"));

    // Without a key, the forged clean scan passes the gate: issue 13.
    env.run(&["gate", &forged_ref, "--fail-on", "low"])
        .await
        .ok()
        .stdout_has("passed");

    env.run(&["gate", &signed_ref, "--fail-on", "low", "--key", &key])
        .await
        .ok()
        .stdout_has("passed: no finding at low or worse")
        .stdout_has(&format!("signature verified: key {fingerprint}"));
    let json = env
        .run(&[
            "gate",
            &signed_ref,
            "--fail-on",
            "low",
            "--key",
            &key,
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["decision"], "passed");
    assert_eq!(json["signature_verified"], true);
    assert_eq!(json["signer"]["kind"], "key");
    assert_eq!(json["signer"]["fingerprint"], fingerprint.as_str());
    assert_eq!(json["ignored"], serde_json::json!([]));

    env.run(&["gate", &forged_ref, "--fail-on", "low", "--key", &key])
        .await
        .code(8)
        .stdout_has("2 ignored")
        .stdout_has("ASN.1 DER")
        .stdout_has("names no keyless identity")
        .stderr_has("verified with the given key(s)");
    let json = env
        .run(&[
            "gate",
            &forged_ref,
            "--fail-on",
            "low",
            "--key",
            &key,
            "--json",
        ])
        .await
        .code(8)
        .json();
    assert_eq!(json["decision"], "blocked");
    assert_eq!(json["reason"], "not_verified");
    assert_eq!(json["signature_verified"], false);
    let ignored = json["ignored"].as_array().unwrap();
    assert_eq!(ignored.len(), 2, "{json}");
    assert!(
        ignored
            .iter()
            .all(|i| i["origin"] == "registry" && i["reason"].is_string())
    );

    // vulns under the key has no report to show for the forged image.
    env.run(&["vulns", &forged_ref, "--key", &key])
        .await
        .code(8)
        .stderr_has("verified under the policy; 2 ignored");

    // The signed scan under another key is refused too; both keys accept it.
    env.run(&["gate", &signed_ref, "--fail-on", "low", "--key", &stranger])
        .await
        .code(8)
        .stdout_has("does not verify");
    env.run(&[
        "gate",
        &signed_ref,
        "--fail-on",
        "low",
        "--key",
        &stranger,
        "--key",
        &key,
    ])
    .await
    .ok();

    // A key file that is not a key is a usage error.
    let garbage = dir.path().join("garbage.pub");
    std::fs::write(&garbage, "not a key").unwrap();
    env.run(&[
        "gate",
        &signed_ref,
        "--fail-on",
        "low",
        "--key",
        &garbage.display().to_string(),
    ])
    .await
    .code(2)
    .stderr_has("is not an ECDSA P-256 public key");
}

#[tokio::test(flavor = "multi_thread")]
async fn vulns_with_a_key_shows_the_signer_and_what_was_ignored() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let image = seed(&fake, "octo/app", Some("v1"), "scanned layer");
    let store = fake.store();
    let scan = |format, envelope| Attachment::Vulnerabilities(format, envelope);
    store
        .attach(
            "octo/app",
            &image,
            &scan(VulnFormat::CosignTrivy, Envelope::KeyedBundle),
        )
        .unwrap();
    store
        .attach(
            "octo/app",
            &image,
            &scan(VulnFormat::CosignTrivyClean, Envelope::Dsse),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("cosign.pub");
    std::fs::write(&key, attestation_key().unwrap().public_key_pem()).unwrap();
    let key = key.display().to_string();
    let reference = at(&fake, "octo/app:v1");

    let json = env
        .run(&["vulns", &reference, "--key", &key, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json["source"]["signature_verified"], true);
    assert_eq!(
        json["source"]["signer"]["fingerprint"],
        attestation_key().unwrap().fingerprint()
    );
    assert_eq!(
        json["total"], 4,
        "the signed scan's findings, not the forged clean one"
    );
    assert_eq!(json["ignored"].as_array().unwrap().len(), 1, "{json}");
    env.run(&["vulns", &reference, "--key", &key])
        .await
        .ok()
        .stdout_has("signature verified: key sha256:")
        .stdout_has("ignored  ");
    let json = env.run(&["vulns", &reference, "--json"]).await.ok().json();
    assert_eq!(json["source"]["signature_verified"], false);
    assert!(json["source"].get("signer").is_none());
}

/// A certificate (keyless) bundle from GitHub's attestations API is
/// listed as ignored under `--key`: a key policy names no identity.
#[tokio::test(flavor = "multi_thread")]
async fn github_keyless_bundles_are_ignored_under_a_key() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let image = seed(&fake, "octo/app", Some("v1"), "attested by actions");
    fake.store()
        .attest_on_github("octo/app", &image, VulnFormat::CosignTrivyClean)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("cosign.pub");
    std::fs::write(&key, attestation_key().unwrap().public_key_pem()).unwrap();
    let key = key.display().to_string();
    let v1 = at(&fake, "octo/app:v1");
    let gate = ["gate", &v1, "--fail-on", "low", "--github-attestations"];
    env.run(&gate).await.ok().stdout_has("passed");
    let mut keyed = gate.to_vec();
    keyed.extend(["--key", &key, "--json"]);
    let json = env.run(&keyed).await.code(8).json();
    assert_eq!(json["reason"], "not_verified");
    assert_eq!(json["ignored"][0]["origin"], "github_attestations_api");
    let reason = json["ignored"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("names no keyless identity"), "{json}");
}

/// An unsigned clean scan beside a signed scan with a critical finding on
/// one image: under the key only the signed scan counts, so the gate
/// blocks on its finding (exit 7) and lists the clean one as ignored; the
/// clean scan cannot outvote it.
#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_clean_scan_beside_a_signed_dirty_one_blocks_under_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let fake = fake().await;
    let mixed = seed(&fake, "octo/app", Some("mixed"), "mixed layer");
    let store = fake.store();
    store
        .attach(
            "octo/app",
            &mixed,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, Envelope::Dsse),
        )
        .unwrap();
    store
        .attach(
            "octo/app",
            &mixed,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::SignedDsse),
        )
        .unwrap();
    let key = dir.path().join("cosign.pub");
    std::fs::write(&key, attestation_key().unwrap().public_key_pem()).unwrap();
    let key = key.display().to_string();
    let env = Env::fake(&fake);
    let mixed_ref = at(&fake, "octo/app:mixed");

    let json = env
        .run(&[
            "gate",
            &mixed_ref,
            "--fail-on",
            "low",
            "--key",
            &key,
            "--json",
        ])
        .await
        .code(7)
        .json();
    assert_eq!(json["decision"], "blocked", "{json}");
    assert_eq!(json["signature_verified"], true, "{json}");
    assert_eq!(json["signer"]["kind"], "key", "{json}");
    let ignored = json["ignored"].as_array().unwrap();
    assert_eq!(ignored.len(), 1, "the unsigned clean scan: {json}");
    env.run(&["gate", &mixed_ref, "--fail-on", "low", "--key", &key])
        .await
        .code(7)
        .stdout_has("blocked");
}
