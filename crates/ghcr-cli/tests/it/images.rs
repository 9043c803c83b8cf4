//! Registry commands on the fake ghcr.io: push, pull, cp, tag, ls, digest,
//! manifest, config, size, referrers, blob and rm, as text and as JSON.

use ghcr::types::Digest;
use ghcr_sim::attest::{Attachment, Envelope, VulnFormat};

use crate::support::registry::skopeo_inspect;
use crate::support::{Env, at, fake, seed, seed_app, write_layout};

#[tokio::test(flavor = "multi_thread")]
async fn push_a_layout_and_read_it_back() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let dir = tempfile::tempdir().unwrap();
    let digest = write_layout(dir.path(), "v1", b"layer bytes of the pushed image");
    let layout = format!("{}:v1", dir.path().display());
    let app = at(&fake, "octo/app");
    env.run(&["push", &layout, &app])
        .await
        .ok()
        .stdout_has(&format!("pushed {app}:v1 {digest}"))
        .stdout_has("2 blob(s): 2 uploaded");
    let again = env
        .run(&["push", &layout, &format!("{app}:v2"), "--json"])
        .await;
    let json = again.ok().json();
    assert_eq!(json["digest"], digest.as_str());
    assert_eq!(json["reference"], format!("{app}:v2"));
    let outcomes: Vec<&str> = json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["existed", "existed"],
        "the second push sends nothing"
    );

    let run = env.run(&["digest", &format!("{app}:v1")]).await;
    assert_eq!(
        run.ok().stdout,
        format!("{digest}\n"),
        "digest prints only the digest"
    );
    let json = env
        .run(&["digest", "--json", &format!("{app}:v1")])
        .await
        .ok()
        .json();
    assert_eq!(json["digest"], digest.as_str());

    let run = env.run(&["ls", &app]).await;
    assert_eq!(run.ok().stdout, "v1\nv2\n", "ls prints one tag a line");
    let json = env
        .run(&["ls", &app, "--json", "--filter", "^v2$"])
        .await
        .ok()
        .json();
    assert_eq!(json["tags"], serde_json::json!(["v2"]));

    let manifest = env.run(&["manifest", &format!("{app}:v1")]).await;
    assert_eq!(
        Digest::sha256_of(manifest.ok().stdout.as_bytes()),
        digest,
        "the exact bytes"
    );
    let json = env
        .run(&["manifest", "--json", &format!("{app}:v1")])
        .await
        .ok()
        .json();
    assert_eq!(json["digest"], digest.as_str());
    assert_eq!(json["manifest"]["schemaVersion"], 2);

    env.run(&["config", &format!("{app}:v1")])
        .await
        .ok()
        .stdout_has(r#""architecture":"amd64""#);
    let json = env
        .run(&["config", "--json", &format!("{app}:v1")])
        .await
        .ok()
        .json();
    assert_eq!(json["config"]["os"], "linux");

    env.run(&["size", &format!("{app}:v1")])
        .await
        .ok()
        .stdout_has(digest.as_str());
    let json = env
        .run(&["size", "--json", &format!("{app}:v1")])
        .await
        .ok()
        .json();
    assert!(json["total"].as_u64().unwrap() > 31);
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_platform_images_pull_into_a_layout_skopeo_reads() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let pushed = fake
        .store()
        .push_index("octo/multi", "v1", &["linux/amd64", "linux/arm64"])
        .unwrap();
    let image = at(&fake, "octo/multi:v1");
    let arm = &pushed.children[1].1.manifest;
    env.run(&["digest", "--platform", "linux/arm64", &image])
        .await
        .ok()
        .stdout_has(arm.as_str());
    env.run(&["config", &image])
        .await
        .code(2)
        .stderr_has("--platform (linux/amd64, linux/arm64)");
    env.run(&["config", "--platform", "linux/arm64", &image])
        .await
        .ok()
        .stdout_has("arm64");
    env.run(&["config", "--platform", "linux/s390x", &image])
        .await
        .code(3)
        .stderr_has("offers");
    env.run(&["size", &image])
        .await
        .ok()
        .stdout_has("linux/arm64: ");
    let json = env.run(&["size", "--json", &image]).await.ok().json();
    assert_eq!(json["platforms"].as_array().unwrap().len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let layout_text = layout.display().to_string();
    env.run(&["pull", &image, &layout_text])
        .await
        .ok()
        .stdout_has(&format!("pulled {image} {}", pushed.index))
        .stdout_has("4 blob(s) verified");
    let inspected = skopeo_inspect(&["--raw", &format!("oci:{layout_text}:v1")]).await;
    assert_eq!(Digest::sha256_of(&inspected), pushed.index);

    let json = env
        .run(&[
            "pull",
            "--json",
            "--platform",
            "linux/arm64",
            &image,
            &format!("{layout_text}-arm"),
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["digest"], arm.as_str());
    assert_eq!(json["blobs"], 2);
    // The layout is pushed back under another name, digests kept.
    env.run(&[
        "push",
        &format!("{layout_text}:v1"),
        &at(&fake, "octo/again"),
    ])
    .await
    .ok()
    .stdout_has(pushed.index.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_tag_and_referrers() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let digest = seed(&fake, "octo/app", Some("v1"), "app layer");
    let source = at(&fake, "octo/app:v1");
    env.run(&["cp", &source, &at(&fake, "octo-org/mirror")])
        .await
        .ok()
        .stdout_has(&format!(
            "copied {source} to {}",
            at(&fake, "octo-org/mirror")
        ))
        .stdout_has(digest.as_str());
    assert_eq!(
        fake.store().tags("octo-org/mirror"),
        ["v1"],
        "the source's tag"
    );
    let json = env
        .run(&["cp", "--json", &source, &at(&fake, "octo/copy:v9")])
        .await
        .ok()
        .json();
    assert_eq!(json["digest"], digest.as_str());

    env.run(&["tag", &source, "latest", "stable"])
        .await
        .ok()
        .stdout_has(&format!("tagged {}:stable {digest}", at(&fake, "octo/app")));
    let json = env.run(&["tag", "--json", &source, "rc"]).await.ok().json();
    assert_eq!(json["tags"], serde_json::json!(["rc"]));
    let mut tags = fake.store().tags("octo/app");
    tags.sort();
    assert_eq!(tags, ["latest", "rc", "stable", "v1"]);
    env.run(&["tag", &source, "bad tag!"])
        .await
        .code(2)
        .stderr_has("is not a tag");

    env.run(&["referrers", &source])
        .await
        .ok()
        .stdout_has("0 referrer(s)");
    let scan = Attachment::Vulnerabilities(VulnFormat::InTotoVulns, Envelope::Dsse);
    let attached = fake.store().attach("octo/app", &digest, &scan).unwrap();
    env.run(&["referrers", &source])
        .await
        .ok()
        .stdout_has("1 referrer(s)")
        .stdout_has(&format!("the {} tag", digest.referrers_tag()))
        .stdout_has(attached.manifest.as_str());
    let json = env.run(&["referrers", "--json", &source]).await.ok().json();
    assert_eq!(json["source"], "fallback_tag");
    assert_eq!(json["referrers"][0]["artifactType"], attached.artifact_type);
}

#[tokio::test(flavor = "multi_thread")]
async fn blobs_go_to_stdout_or_a_verified_file() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let image = seed_app(&fake, b"exact layer bytes".as_slice());
    let layer = format!("{}@{}", at(&fake, "octo/app"), image.layers[0]);
    assert_eq!(
        env.run(&["blob", &layer]).await.ok().stdout,
        "exact layer bytes"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layer.tar").display().to_string();
    env.run(&["blob", &layer, "-o", &file])
        .await
        .ok()
        .stdout_has("(verified)");
    assert_eq!(std::fs::read(&file).unwrap(), b"exact layer bytes");
    let json = env
        .run(&["blob", "--json", &layer, "-o", &file])
        .await
        .ok()
        .json();
    assert_eq!(json["size"], 17);
    env.run(&["blob", &at(&fake, "octo/app:v1")])
        .await
        .code(2)
        .stderr_has("REPOSITORY@DIGEST");
    env.run(&["blob", "--json", &layer])
        .await
        .json_error(2, "usage");
    let missing = format!(
        "{}@{}",
        at(&fake, "octo/app"),
        Digest::sha256_of(b"nothing")
    );
    env.run(&["blob", &missing]).await.code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn rm_deletes_the_package_version_on_github() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let digest = seed(&fake, "octo/app", Some("v1"), "one");
    fake.store().tag("octo/app", "latest", &digest).unwrap();
    seed(&fake, "octo/app", Some("v2"), "two");
    let v1 = at(&fake, "octo/app:v1");
    env.run(&["rm", &v1])
        .await
        .code(2)
        .stderr_has("latest")
        .stderr_has("--force");
    env.run(&["rm", "--json", &v1]).await.json_error(2, "usage");
    let id = fake.store().version_id("octo/app", &digest).unwrap();
    env.run(&["rm", "--force", &v1])
        .await
        .ok()
        .stdout_has(&format!(
            "deleted version {id} ({digest}) of octo/app, tags: "
        ))
        .stdout_has(&format!("ghcr versions restore octo/app {id}"));
    assert_eq!(fake.store().tags("octo/app"), ["v2"]);
    let json = env
        .run(&["rm", "--json", &at(&fake, "octo/app:v2"), "--user"])
        .await;
    // GitHub refuses to delete a package's last version.
    json.json_error(1, "other");
    env.run(&["rm", &at(&fake, "octo/app:v7")]).await.code(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_record_and_replay_through_the_environment() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "recorded layer");
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("ls").display().to_string();
    let app = at(&fake, "octo/app");
    let recording = Env::fake(&fake)
        .set("GHCR_SIMULATION_MODE", "record")
        .set("GHCR_SIMULATION_PATH", &cassette);
    let live = recording.run(&["ls", &app]).await;
    assert_eq!(live.ok().stdout, "v1\n");
    let text = std::fs::read_to_string(dir.path().join("ls/cassette.json")).unwrap();
    assert!(
        !text.contains(crate::support::TOKEN),
        "no token reaches the cassette"
    );
    fake.shutdown().await;
    let replaying = recording.set("GHCR_SIMULATION_MODE", "replay");
    assert_eq!(replaying.run(&["ls", &app]).await.ok().stdout, "v1\n");
    replaying
        .set("GHCR_SIMULATION_PATH", "")
        .run(&["ls", &app])
        .await
        .code(2)
        .stderr_has("GHCR_SIMULATION_PATH");
}
