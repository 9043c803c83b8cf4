//! `ghcr demo` runs to completion on a fresh machine: nothing but the
//! binary, no settings, no network beyond loopback.

use crate::support::Env;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_walks_every_step() {
    // Settings in the environment must not leak into the demo.
    let env = Env::empty()
        .set("GHCR_TOKEN", "not-used")
        .set("GHCR_CHUNK_SIZE", "broken");
    let run = env.run(&["demo"]).await;
    run.ok();
    for step in 1..=11 {
        run.stdout_has(&format!("[{step}/11]"));
    }
    run.stdout_has("done in ")
        .stdout_has("2 platforms")
        .stdout_has("done\n")
        .stdout_has("mounted")
        .stdout_has("tagged v1 as latest and stable: latest, stable, v1")
        .stdout_has("9 match their names")
        .stdout_has("delete 2 of 6 version(s)")
        .stdout_has("2 deleted, 4 kept, 0 failed")
        .stdout_has("CVE-2023-45853")
        .stdout_has("--fail-on critical: blocked")
        .stdout_has(
            "app:signed --fail-on low --key cosign.pub: passed (signature verified: key sha256:",
        )
        .stdout_has("app:forged --fail-on low: passed without --key")
        .stdout_has("app:forged --fail-on low --key cosign.pub: not verified (exit code 8)")
        .stdout_has("app:keyless --fail-on low --owner octo --trusted-root trusted_root.json: passed (signature verified: identity https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main")
        .stdout_has("--owner evil --trusted-root trusted_root.json: not verified (exit code 8)");

    let json = env.run(&["demo", "--json"]).await.ok().json();
    assert_eq!(json["tags"], serde_json::json!(["latest", "stable", "v1"]));
    assert_eq!(json["cleanup"]["deleted"].as_array().unwrap().len(), 2);
    assert_eq!(json["pulled"]["verified_files"], 9);
    assert_eq!(json["gate"]["high"], "blocked");
    assert_eq!(json["findings"], 4);
    assert_eq!(json["signed_gate"]["signed"], "passed");
    assert_eq!(json["signed_gate"]["forged_without_key"], "passed");
    assert_eq!(json["signed_gate"]["forged"], "not_verified");
    assert_eq!(json["signed_gate"]["signer"]["kind"], "key");
    assert_eq!(json["keyless_gate"]["signed"], "passed");
    assert_eq!(json["keyless_gate"]["other_owner"], "not_verified");
    assert_eq!(json["keyless_gate"]["signer"]["repository"], "octo/app");
}
