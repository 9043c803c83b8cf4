//! GitHub commands on the fake: packages, versions, cleanup, vulns, gate
//! and rate-limit, as text and as JSON, with their failures.

use base64::Engine as _;
use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::attest::{Attachment, Envelope, VulnFormat};
use ghcr_sim::fake::FakeGhcr;
use serde_json::json;

use crate::support::{Env, at, fake, seed};

#[tokio::test(flavor = "multi_thread")]
async fn packages_and_versions() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let digest = seed(&fake, "octo-org/app", Some("v1"), "one");
    seed(&fake, "octo-org/app", None, "untagged");
    // GitHub refuses to delete a package's last tagged version.
    seed(&fake, "octo-org/app", Some("v2"), "two");
    seed(&fake, "octo/tool", Some("latest"), "tool");
    env.run(&["packages", "ls", "octo-org"])
        .await
        .ok()
        .stdout_has("app  private  3 version(s)");
    let json = env
        .run(&["packages", "ls", "octo", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json[0]["name"], "tool");
    env.run(&["packages", "ls", "octo-org", "--visibility", "public"])
        .await
        .ok()
        .stderr_has("no container packages");

    let id = fake.store().version_id("octo-org/app", &digest).unwrap();
    env.run(&["versions", "ls", "octo-org/app"])
        .await
        .ok()
        .stdout_has(&format!("{id}  {digest}  v1  created "));
    let json = env
        .run(&["versions", "ls", "octo-org/app", "--json", "--org"])
        .await
        .ok()
        .json();
    assert_eq!(json.as_array().unwrap().len(), 3);

    env.run(&["versions", "rm", "octo-org/app", &id.to_string()])
        .await
        .ok()
        .stdout_has(&format!("deleted version {id}"))
        .stderr_has("restore");
    assert_eq!(fake.store().tags("octo-org/app"), ["v2"]);
    let json = env
        .run(&["versions", "ls", "octo-org/app", "--deleted", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json[0]["id"], id.0);
    let json = env
        .run(&[
            "versions",
            "restore",
            "octo-org/app",
            &id.to_string(),
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["restored"], json!([id.0]));
    let mut tags = fake.store().tags("octo-org/app");
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);

    // Failures: a missing version (3, also in JSON), a bad OWNER/PKG (2), a missing package (3).
    env.run(&["versions", "rm", "octo-org/app", "999999"])
        .await
        .code(3)
        .stderr_has("not found");
    let json = env
        .run(&["versions", "rm", "octo-org/app", "999999", "--json"])
        .await;
    assert_eq!(json.code(3).json()["failed"][0]["status"], 404);
    env.run(&["versions", "ls", "app"])
        .await
        .code(2)
        .stderr_has("OWNER/PACKAGE");
    env.run(&["--json", "versions", "ls", "octo/nope"])
        .await
        .json_error(3, "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_shows_the_plan_and_deletes_only_with_yes() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let kept = seed(&fake, "octo/app", Some("v1"), "release");
    let old = seed(&fake, "octo/app", None, "old build");
    let id = fake.store().version_id("octo/app", &old).unwrap();
    let policy = ["--only-untagged", "--keep-newer-than", "7d"];
    let week_ago = time::OffsetDateTime::now_utc() - time::Duration::days(8);
    fake.store()
        .set_version_created_at("octo/app", id, week_ago)
        .unwrap();

    let mut args = vec!["cleanup", "octo/app"];
    args.extend(policy);
    env.run(&args)
        .await
        .ok()
        .stdout_has("delete 1 of 2 version(s)")
        .stdout_has(&format!("delete {id}"))
        .stderr_has("run again with --yes");
    let mut dry = args.clone();
    dry.push("--dry-run");
    let run = env.run(&dry).await;
    assert!(
        !run.ok().stderr.contains("--yes"),
        "an explicit dry run needs no hint"
    );
    let mut json_args = args.clone();
    json_args.push("--json");
    let json = env.run(&json_args).await.ok().json();
    assert_eq!(json["executed"], false);
    assert_eq!(json["plan"]["versions"][1]["action"], "delete");
    assert_eq!(
        fake.store()
            .versions("octo/app")
            .iter()
            .filter(|v| v.deleted_at.is_none())
            .count(),
        2
    );

    let mut yes = json_args.clone();
    yes.push("--yes");
    let json = env.run(&yes).await.ok().json();
    assert_eq!(json["report"]["deleted"], json!([id.0]));
    assert!(
        json["report"]["restore"]
            .as_str()
            .unwrap()
            .starts_with("ghcr versions restore octo/app")
    );
    let live: Vec<Digest> = fake
        .store()
        .versions("octo/app")
        .into_iter()
        .filter(|v| v.deleted_at.is_none())
        .map(|v| v.digest)
        .collect();
    assert_eq!(live, [kept]);

    env.run(&["cleanup", "octo/app", "--keep-newer-than", "soon"])
        .await
        .code(2)
        .stderr_has("30d");
    env.run(&["cleanup", "octo/app"])
        .await
        .code(2)
        .stderr_has("would delete every version");
    env.run(&[
        "cleanup",
        "octo/app",
        "--dry-run",
        "--yes",
        "--only-untagged",
    ])
    .await
    .code(2);
}

/// Attaches an in-toto vulns attestation with only a low finding, listed
/// in the `sha256-<hex>` tag as ghcr.io needs.
fn attach_low_scan(fake: &FakeGhcr, repository: &str, subject: &Digest) {
    let store = fake.store();
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": repository, "digest": {"sha256": subject.encoded()}}],
        "predicateType": "https://in-toto.io/attestation/vulns/v0.1",
        "predicate": {"scanner": {"uri": "pkg:github/anchore/grype", "version": "0.74.0",
            "result": [{"id": "CVE-2000-0001", "severity": [{"method": "nvd", "score": "low"}], "annotations": [{"title": "a minor issue"}]}]}},
    });
    let envelope = json!({
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
        "signatures": [],
    });
    let layer = Bytes::from(envelope.to_string());
    let layer_digest = store.push_blob(repository, layer.clone()).unwrap();
    let empty = store
        .push_blob(repository, Bytes::from_static(b"{}"))
        .unwrap();
    let (subject_bytes, subject_type) = store.manifest(repository, subject.as_str()).unwrap();
    let dsse = "application/vnd.dsse.envelope.v1+json";
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": dsse,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.as_str(), "size": 2},
        "layers": [{"mediaType": dsse, "digest": layer_digest.as_str(), "size": layer.len(),
            "annotations": {"predicateType": "https://in-toto.io/attestation/vulns/v0.1"}}],
        "subject": {"mediaType": subject_type, "digest": subject.as_str(), "size": subject_bytes.len()},
    });
    let manifest = Bytes::from(manifest.to_string());
    let digest = Digest::sha256_of(&manifest);
    let oci = "application/vnd.oci.image.manifest.v1+json";
    store
        .push_manifest(repository, digest.as_str(), manifest.clone(), oci)
        .unwrap();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": oci, "digest": digest.as_str(), "size": manifest.len(), "artifactType": dsse}],
    });
    store
        .push_manifest(
            repository,
            &subject.referrers_tag(),
            Bytes::from(index.to_string()),
            "application/vnd.oci.image.index.v1+json",
        )
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn vulns_and_the_gate() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let risky = seed(&fake, "octo/app", Some("v1"), "risky");
    let scan = Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::Dsse);
    fake.store().attach("octo/app", &risky, &scan).unwrap();
    let clean = seed(&fake, "octo/app", Some("v2"), "clean");
    attach_low_scan(&fake, "octo/app", &clean);
    seed(&fake, "octo/app", Some("v3"), "never scanned");
    let (v1, v2, v3) = (
        at(&fake, "octo/app:v1"),
        at(&fake, "octo/app:v2"),
        at(&fake, "octo/app:v3"),
    );

    env.run(&["vulns", &v1])
        .await
        .ok()
        .stdout_has("4 finding(s): 1 critical, 2 high, 1 medium")
        .stdout_has("scanned by trivy")
        .stdout_has("CVE-2024-2961  libc6 2.36-9+deb12u4  fixed in 2.36-9+deb12u7");
    let json = env
        .run(&["vulns", &v1, "--min-severity", "high", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 3);
    assert_eq!(json["total"], 4);
    assert_eq!(json["source"]["signature_verified"], false);
    env.run(&["vulns", &v3])
        .await
        .code(3)
        .stderr_has("no vulnerability data");
    env.run(&["vulns", &v1, "--min-severity", "dire"])
        .await
        .code(2);

    env.run(&["gate", &v1, "--fail-on", "critical"])
        .await
        .code(7)
        .stdout_has("blocked: 1 finding(s) at critical or worse")
        .stdout_has("CVE-2023-45853");
    let json = env.run(&["gate", &v1, "--fail-on", "high", "--json"]).await;
    let json = json.code(7).json();
    assert_eq!(json["decision"], "blocked");
    assert_eq!(json["findings"].as_array().unwrap().len(), 3);
    env.run(&["gate", &v2, "--fail-on", "medium"])
        .await
        .ok()
        .stdout_has("passed: no finding at medium or worse");
    let json = env
        .run(&["gate", &v2, "--fail-on", "medium", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json["decision"], "passed");
    env.run(&["gate", &v2, "--fail-on", "low"]).await.code(7);
    let json = env
        .run(&["gate", &v3, "--fail-on", "critical", "--json"])
        .await;
    assert_eq!(
        json.code(7).json()["reason"],
        "no_data",
        "the gate fails closed"
    );
    env.run(&["gate", &v3, "--fail-on", "critical"])
        .await
        .code(7)
        .stderr_has("fails closed");
    env.run(&["gate", &v1])
        .await
        .code(2)
        .stderr_has("--fail-on");
    // The former name works for one release, and says so on stderr.
    let old = env
        .run(&["gate", &v1, "--max-severity", "critical", "--json"])
        .await;
    old.code(7)
        .stderr_has("--max-severity is deprecated")
        .stderr_has("use --fail-on");
    assert_eq!(old.json()["fail_on"], "critical");
    let new = env.run(&["gate", &v2, "--fail-on", "low"]).await;
    assert!(!new.code(7).stderr.contains("deprecated"), "{new:#?}");
    env.run(&["gate", &v1, "--fail-on", "low", "--max-severity", "low"])
        .await
        .code(2);
}

#[tokio::test(flavor = "multi_thread")]
async fn scans_only_in_githubs_attestations_api_need_the_flag() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let image = seed(&fake, "octo/app", Some("v1"), "attested by actions");
    fake.store()
        .attest_on_github("octo/app", &image, VulnFormat::InTotoVulns)
        .unwrap();
    let v1 = at(&fake, "octo/app:v1");
    let asked = || {
        fake.log()
            .count_where(|e| e.path.contains("/attestations/"))
    };

    env.run(&["vulns", &v1])
        .await
        .code(3)
        .stderr_has("no vulnerability data");
    env.run(&["gate", &v1, "--fail-on", "critical"])
        .await
        .code(7)
        .stderr_has("fails closed");
    assert_eq!(asked(), 0, "the API is asked only with the flag");

    env.run(&["vulns", &v1, "--github-attestations"])
        .await
        .ok()
        .stdout_has("4 finding(s): 1 critical, 2 high, 1 medium")
        .stdout_has("https://in-toto.io/attestation/vulns/v0.1");
    assert_eq!(asked(), 1);
    let json = env
        .run(&[
            "gate",
            &v1,
            "--fail-on",
            "critical",
            "--github-attestations",
            "--json",
        ])
        .await;
    let json = json.code(7).json();
    assert_eq!(json["decision"], "blocked");
    assert_eq!(json["reason"], "findings");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_shows_every_budget() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    env.run(&["rate-limit"])
        .await
        .ok()
        .stdout_has("core: ")
        .stdout_has(" of 5000 left");
    let json = env.run(&["rate-limit", "--json"]).await.ok().json();
    let core = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "core")
        .unwrap();
    assert_eq!(core["limit"], 5000);
    Env::fake(&fake)
        .set("GHCR_TOKEN", "wrong")
        .run(&["--json", "rate-limit"])
        .await
        .json_error(4, "auth");
}

/// Ctrl-C during `cleanup --yes`: the DELETE on its way completes, no
/// other is sent, and the report (with the undo command) is still printed;
/// the exit code says the cleanup did not finish.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_a_cleanup_between_deletions() {
    use http::Method;
    use std::time::{Duration, Instant};

    let fake = crate::support::fake_with_slow_deletes().await;
    seed(&fake, "octo/app", Some("v1"), "release");
    for n in 0..6 {
        seed(&fake, "octo/app", None, &format!("old build {n}"));
    }
    let env = Env::fake(&fake);
    let child = env.spawn(&["cleanup", "octo/app", "--user", "--only-untagged", "--yes"]);
    let started = Instant::now();
    while fake.faults().fired() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no DELETE was sent"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crate::support::send_signal(&child, "INT").await;
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("cleanup did not stop within 20 s of Ctrl-C")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 deleted, 1 kept, 0 failed, 5 not attempted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ghcr versions restore octo/app "),
        "{stdout}"
    );
    assert!(
        stderr.contains("stopping:") && stderr.contains("did not finish"),
        "{stderr}"
    );
    let deletes = fake.log().count_where(|r| r.method == Method::DELETE);
    assert_eq!(
        deletes, 1,
        "the DELETE under way completed; no other was sent"
    );
    let live = fake
        .store()
        .versions("octo/app")
        .iter()
        .filter(|v| v.deleted_at.is_none())
        .count();
    assert_eq!(live, 6);
}

/// `--keep-newest` counts images: a tagged multi-arch release's platform
/// manifests take no place among the N untagged builds kept.
#[tokio::test(flavor = "multi_thread")]
async fn keep_newest_counts_images_not_their_parts() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let builds: Vec<Digest> = (0..3)
        .map(|n| seed(&fake, "octo/app", None, &format!("nightly {n}")))
        .collect();
    // The release comes last: its untagged platform manifests are the newest versions.
    fake.store()
        .push_index("octo/app", "v1", &["linux/amd64", "linux/arm64"])
        .unwrap();
    let json = env
        .run(&[
            "cleanup",
            "octo/app",
            "--only-untagged",
            "--keep-newest",
            "2",
            "--json",
        ])
        .await
        .ok()
        .json();
    let deleted: Vec<&str> = json["plan"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["action"] == "delete")
        .map(|v| v["digest"].as_str().unwrap())
        .collect();
    assert_eq!(deleted, [builds[0].as_str()], "{json:#}");
}

/// A DELETE whose answer was lost may have gone through: the undo command
/// names that version too, and says restoring it is harmless.
#[tokio::test(flavor = "multi_thread")]
async fn the_undo_names_a_deletion_whose_answer_was_lost() {
    use ghcr_sim::fake::{Fault, Route};
    use http::{Method, StatusCode};

    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "release");
    let old = seed(&fake, "octo/app", None, "old build");
    let id = fake.store().version_id("octo/app", &old).unwrap();
    let versions = "/users/octo/packages/container/app/versions/*";
    fake.faults().add(Fault::lose_answer(
        Route::new(Method::DELETE, versions),
        StatusCode::BAD_GATEWAY,
    ));
    // Reading the version back to learn what happened fails as well.
    fake.faults().add(Fault::fail(
        Route::new(Method::GET, versions),
        StatusCode::BAD_GATEWAY,
    ));
    let env = Env::fake(&fake).set("GHCR_MAX_RETRIES", "0");
    let run = env
        .run(&[
            "--json",
            "cleanup",
            "octo/app",
            "--user",
            "--only-untagged",
            "--yes",
        ])
        .await;
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
        panic!("{error}: {}\n{}", run.stdout, run.stderr);
    });
    let report = &json["report"];
    assert_eq!(report["deleted"], json!([]), "{report}");
    assert_eq!(report["failed"][0]["may_have_applied"], true, "{report}");
    assert_eq!(report["restore_uncertain"], json!([id.0]), "{report}");
    assert!(
        report["restore"]
            .as_str()
            .unwrap()
            .contains(&id.0.to_string()),
        "{report}"
    );
    let gone = fake
        .store()
        .versions("octo/app")
        .into_iter()
        .any(|v| v.id == id && v.deleted_at.is_some());
    assert!(
        gone,
        "the fake carried out the DELETE whose answer was lost"
    );
}
