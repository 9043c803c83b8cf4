//! Each example's `run`, against the fake, with what it did checked in the
//! fake's store.

// Each example brings the shared `support` module of the examples along.
#![allow(clippy::duplicate_mod)]

#[path = "../../examples/cleanup_versions.rs"]
#[allow(dead_code)] // The example's `main`; the tests call `run`.
mod cleanup_versions;
#[path = "../../examples/list_tags.rs"]
#[allow(dead_code)]
mod list_tags;
#[path = "../../examples/multiarch.rs"]
#[allow(dead_code)]
mod multiarch;
#[path = "../../examples/pull_image.rs"]
#[allow(dead_code)]
mod pull_image;
#[path = "../../examples/push_image.rs"]
#[allow(dead_code)]
mod push_image;
#[path = "../../examples/vulnerability_gate.rs"]
#[allow(dead_code)]
mod vulnerability_gate;

use bytes::Bytes;
use ghcr::packages::GateResult;
use ghcr::types::{Owner, Platform, Severity};
use ghcr_sim::attest::{Attachment, Envelope, VulnFormat};

use crate::support::{client, fake, reference};

#[tokio::test(flavor = "multi_thread")]
async fn push_image_pushes_every_blob_and_tags() {
    let fake = fake().await;
    let target = reference(&fake, "octo/ghcr-example:v1");
    let report = push_image::run(&client(&fake), &target).await.unwrap();
    let store = fake.store();
    assert_eq!(store.tags("octo/ghcr-example"), ["v1"]);
    let (bytes, _) = store.manifest("octo/ghcr-example", "v1").unwrap();
    assert_eq!(ghcr::types::Digest::sha256_of(&bytes), report.digest);
    assert_eq!(report.blobs.len(), 3, "config and two layers");
    for blob in &report.blobs {
        assert_eq!(
            store.blob(&blob.digest).map(|b| b.len() as u64),
            Some(blob.size)
        );
    }
    assert!(report.bytes_uploaded() > 64 * 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_image_writes_a_verified_layout() {
    let fake = fake().await;
    let pushed = fake
        .store()
        .push_index("octo/hello", "v1", &["linux/amd64", "linux/arm64"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = reference(&fake, "octo/hello:v1");
    let report = pull_image::run(&client(&fake), &image, dir.path())
        .await
        .unwrap();
    assert_eq!(report.digest, pushed.index);
    assert_eq!(report.blobs, 4, "a config and a layer per platform");
    let index = std::fs::read_to_string(dir.path().join("index.json")).unwrap();
    assert!(
        index.contains(pushed.index.as_str()) && index.contains("\"v1\""),
        "{index}"
    );
    for (_, child) in &pushed.children {
        let path = dir
            .path()
            .join("blobs/sha256")
            .join(child.layers[0].encoded());
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(ghcr::types::Digest::sha256_of(&bytes), child.layers[0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_tags_lists_and_filters() {
    let fake = fake().await;
    let image = fake
        .store()
        .push_image("octo/hello", Some("v1.0.0"), &[Bytes::from_static(b"l")])
        .unwrap();
    for tag in ["v1.1.0", "latest", "pr-7"] {
        fake.store()
            .tag("octo/hello", tag, &image.manifest)
            .unwrap();
    }
    let client = client(&fake);
    let repository = reference(&fake, "octo/hello");
    let all = list_tags::run(&client, &repository, None).await.unwrap();
    let mut all: Vec<&str> = all.iter().map(ghcr::types::Tag::as_str).collect();
    all.sort_unstable();
    assert_eq!(all, ["latest", "pr-7", "v1.0.0", "v1.1.0"]);
    let releases = list_tags::run(&client, &repository, Some("^v1\\."))
        .await
        .unwrap();
    assert_eq!(releases.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn multiarch_pushes_an_index_of_each_platform() {
    let fake = fake().await;
    let target = reference(&fake, "octo/ghcr-example-multiarch:v1");
    let platforms: Vec<Platform> = vec![
        "linux/amd64".parse().unwrap(),
        "linux/arm64/v8".parse().unwrap(),
    ];
    let report = multiarch::run(&client(&fake), &target, &platforms)
        .await
        .unwrap();
    let (bytes, media_type) = fake
        .store()
        .manifest("octo/ghcr-example-multiarch", "v1")
        .unwrap();
    assert_eq!(media_type, "application/vnd.oci.image.index.v1+json");
    let index = ghcr::types::Manifest::from_bytes(bytes, Some(&media_type)).unwrap();
    assert_eq!(index.digest(), &report.digest);
    assert_eq!(index.platforms(), platforms);
    // Children were pushed by digest only: one tag, three versions.
    assert_eq!(fake.store().tags("octo/ghcr-example-multiarch"), ["v1"]);
    assert_eq!(
        fake.store().versions("octo/ghcr-example-multiarch").len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_versions_deletes_only_unneeded_untagged_versions() {
    use cleanup_versions::Execute;
    let fake = fake().await;
    let store = fake.store();
    let index = store
        .push_index("octo/hello", "v1.0.0", &["linux/amd64", "linux/arm64"])
        .unwrap();
    let mut builds = Vec::new();
    for days in [12, 10, 8, 6, 4] {
        let layer = Bytes::from(format!("nightly build from {days} days ago"));
        builds.push(
            store
                .push_image("octo/hello", None, &[layer])
                .unwrap()
                .manifest,
        );
        let id = store
            .version_id("octo/hello", builds.last().unwrap())
            .unwrap();
        let at = time::OffsetDateTime::now_utc() - time::Duration::days(days);
        store.set_version_created_at("octo/hello", id, at).unwrap();
    }
    let client = client(&fake);
    let owner = Owner::user("octo");
    let (plan, report) = cleanup_versions::run(&client, &owner, "hello", Execute::DryRun)
        .await
        .unwrap();
    assert!(report.is_none());
    assert_eq!(plan.to_delete().count(), 3, "{plan:?}");
    assert_eq!(
        store
            .versions("octo/hello")
            .iter()
            .filter(|v| v.deleted_at.is_none())
            .count(),
        8
    );
    let (_, report) = cleanup_versions::run(&client, &owner, "hello", Execute::Yes)
        .await
        .unwrap();
    let report = report.unwrap();
    assert_eq!(report.deleted().len(), 3);
    let live: Vec<_> = store
        .versions("octo/hello")
        .into_iter()
        .filter(|v| v.deleted_at.is_none())
        .map(|v| v.digest)
        .collect();
    // Builds older than a week went; the index, its platforms and the recent builds stayed.
    for build in &builds[..3] {
        assert!(!live.contains(build));
    }
    assert!(live.contains(&index.index));
    for (_, child) in &index.children {
        assert!(live.contains(&child.manifest));
    }
    for build in &builds[3..] {
        assert!(live.contains(build));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vulnerability_gate_blocks_on_the_attached_scan() {
    let fake = fake().await;
    let pushed = fake
        .store()
        .push_image("octo/hello", Some("v1"), &[Bytes::from_static(b"layer")])
        .unwrap();
    let scan = Attachment::Vulnerabilities(VulnFormat::CosignSarif, Envelope::SigstoreBundle);
    fake.store()
        .attach("octo/hello", &pushed.manifest, &scan)
        .unwrap();
    let image = reference(&fake, "octo/hello:v1");
    let (report, decision) = vulnerability_gate::run(&client(&fake), &image, Severity::Critical)
        .await
        .unwrap();
    assert_eq!(report.subject, pushed.manifest);
    let expected = ghcr_sim::attest::SAMPLE_VULNERABILITIES.len();
    assert_eq!(report.vulnerabilities.len(), expected);
    match decision {
        GateResult::Blocked { findings } => {
            let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
            assert_eq!(
                ids,
                ["CVE-2023-45853"],
                "only the critical finding blocks at critical"
            );
        }
        other => panic!("expected a block, got {other:?}"),
    }
    // No scan: the lookup fails instead of passing.
    fake.store()
        .push_image("octo/clean", Some("v1"), &[Bytes::from_static(b"clean")])
        .unwrap();
    let clean = reference(&fake, "octo/clean:v1");
    let error = vulnerability_gate::run(&client(&fake), &clean, Severity::Critical)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no vulnerability data"),
        "{error}"
    );
}

/// Each example's `main` as `cargo run --example NAME` runs it without
/// credentials: on an embedded fake, seeded as the example seeds it.
#[tokio::test(flavor = "multi_thread")]
async fn without_credentials_each_example_runs_on_an_embedded_fake() {
    let offline = || push_image::support::connect_with(|_| None);

    let target = offline().await.unwrap();
    let fake = target.fake.as_ref().expect("no token: the embedded fake");
    let pushed = push_image::example(&target).await.unwrap();
    assert_eq!(fake.store().tags("octo/ghcr-example"), ["v1"]);
    assert_eq!(pushed.blobs.len(), 3);

    let target = multiarch::support::connect_with(|_| None).await.unwrap();
    let report = multiarch::example(&target).await.unwrap();
    assert_eq!(report.platforms.len(), 2);

    let target = list_tags::support::connect_with(|_| None).await.unwrap();
    let mut tags: Vec<String> = list_tags::example(&target, &[])
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    tags.sort();
    assert_eq!(tags, ["latest", "pr-7", "v1.0.0", "v1.1.0"]);

    // The layout goes to a folder of the test's, not the working directory.
    let target = pull_image::support::connect_with(|_| None).await.unwrap();
    let fake = target.fake.as_ref().unwrap();
    let seeded = fake
        .store()
        .push_index("octo/hello", "v1", &["linux/amd64"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        format!("{}:v1", target.image("hello")),
        dir.path().display().to_string(),
    ];
    let pulled = pull_image::example(&target, &args).await.unwrap();
    assert_eq!(pulled.digest, seeded.index);
    assert!(dir.path().join("index.json").exists());

    let target = cleanup_versions::support::connect_with(|_| None)
        .await
        .unwrap();
    let (plan, report) = cleanup_versions::example(&target, &[]).await.unwrap();
    assert_eq!(plan.to_delete().count(), 3);
    assert_eq!(
        report
            .expect("the fake is cleaned for real")
            .deleted()
            .len(),
        3
    );

    // The seeded scan has critical and high findings: blocked at high.
    let target = vulnerability_gate::support::connect_with(|_| None)
        .await
        .unwrap();
    assert!(!vulnerability_gate::example(&target, &[]).await.unwrap());
    let passed = vulnerability_gate::example(
        &target,
        &[format!("{}:v1", target.image("hello")), "critical".into()],
    )
    .await
    .unwrap();
    assert!(!passed, "a critical finding blocks at critical too");
}

/// With a token the examples use the `GHCR_*` settings and no fake; the
/// namespace must be named.
#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_the_examples_use_the_settings() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let target = push_image::support::connect_with(vars(&[
        ("GHCR_TOKEN", "ghp_example"),
        ("GHCR_USERNAME", "Octo"),
        ("GHCR_REGISTRY", "127.0.0.1:5000"),
    ]))
    .await
    .unwrap();
    assert!(target.fake.is_none());
    assert_eq!(target.namespace, "octo");
    assert_eq!(target.image("app"), "127.0.0.1:5000/octo/app");
    let target = push_image::support::connect_with(vars(&[
        ("GHCR_TOKEN", "ghp_example"),
        ("GHCR_NAMESPACE", "octo-org"),
    ]))
    .await
    .unwrap();
    assert_eq!(target.image("app"), "ghcr.io/octo-org/app");
    let Err(error) =
        push_image::support::connect_with(vars(&[("GHCR_TOKEN", "ghp_example")])).await
    else {
        panic!("a token without a namespace names no place for the images");
    };
    assert!(error.to_string().contains("GHCR_NAMESPACE"), "{error}");
}
