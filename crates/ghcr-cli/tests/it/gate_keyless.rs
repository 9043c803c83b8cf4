//! `gate --owner … --trusted-root FILE`: a clean scan signed keyless by the
//! fake's test Sigstore instance (a certificate for a GitHub Actions run
//! of `octo/app`) passes under its owner against that instance's root and
//! names its signer; under another owner, or the shipped public-good root,
//! nothing verifies and the gate exits 8.

use ghcr_sim::attest::{Attachment, Envelope, KEYLESS_IDENTITY, VulnFormat, keyless_world};

use crate::support::{Env, at, fake, seed};

#[tokio::test(flavor = "multi_thread")]
async fn gate_with_an_owner_and_a_trusted_root_passes_the_keyless_scan() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let image = seed(&fake, "octo/app", Some("keyless"), "keyless layer");
    fake.store()
        .attach(
            "octo/app",
            &image,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, Envelope::KeylessBundle),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("trusted_root.json");
    std::fs::write(&root, keyless_world().unwrap().trusted_root_json()).unwrap();
    let root = root.display().to_string();
    let reference = at(&fake, "octo/app:keyless");
    let gate = |owner: &'static str| {
        vec![
            "gate".to_owned(),
            reference.clone(),
            "--fail-on".to_owned(),
            "low".to_owned(),
            "--owner".to_owned(),
            owner.to_owned(),
            "--trusted-root".to_owned(),
            root.clone(),
        ]
    };

    let octo = gate("octo");
    let octo: Vec<&str> = octo.iter().map(String::as_str).collect();
    env.run(&octo)
        .await
        .ok()
        .stdout_has("passed: no finding at low or worse")
        .stdout_has(&format!("signature verified: identity {KEYLESS_IDENTITY}"))
        .stdout_has("repository octo/app");
    let mut json_args = octo.clone();
    json_args.push("--json");
    let json = env.run(&json_args).await.ok().json();
    assert_eq!(json["decision"], "passed");
    assert_eq!(json["signature_verified"], true);
    assert_eq!(json["signer"]["identity"], KEYLESS_IDENTITY, "{json}");
    assert_eq!(json["signer"]["repository"], "octo/app", "{json}");

    // With GitHub's attestations API consulted too (it lists the same
    // bundle), it still passes.
    let mut api = octo.clone();
    api.extend(["--github-attestations", "--json"]);
    let json = env.run(&api).await.ok().json();
    assert_eq!(json["signature_verified"], true, "{json}");

    // vulns under the same flags shows the verified report and its signer.
    let mut vulns = octo.clone();
    vulns[0] = "vulns";
    vulns.retain(|arg| *arg != "--fail-on" && *arg != "low");
    vulns.push("--json");
    let json = env.run(&vulns).await.ok().json();
    assert_eq!(json["source"]["signature_verified"], true, "{json}");
    assert_eq!(json["source"]["signer"]["kind"], "certificate", "{json}");
    assert_eq!(json["total"], 0, "{json}");

    let evil = gate("evil");
    let evil: Vec<&str> = evil.iter().map(String::as_str).collect();
    env.run(&evil).await.code(8).stdout_has("evil");

    // Without --trusted-root, the public-good root knows neither the test
    // CA nor its log.
    env.run(&["gate", &reference, "--fail-on", "low", "--owner", "octo"])
        .await
        .code(8);
}
