//! `ghcr artifact push|attach|pull` through the binary against Debian's
//! docker-registry and the fake ghcr.io: files up and back byte for byte,
//! JSON results with their digests, referrers attached by digest or
//! pushed with --subject, and file names that would collide refused
//! before anything is pushed.

use ghcr::types::Digest;

use crate::support::registry::{self, Auth};
use crate::support::{Env, at, fake, seed};

#[tokio::test(flavor = "multi_thread")]
async fn artifacts_go_up_and_come_back_through_the_binary() {
    let registry = registry::start(Auth::None).await;
    let host = registry.host();
    let env = Env::empty();
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    let sbom = dir.path().join("sbom.json");
    std::fs::write(&notes, b"release notes\n").unwrap();
    std::fs::write(&sbom, b"{\"spdxVersion\":\"SPDX-2.3\"}").unwrap();
    let target = format!("{host}/octo/files:v1");
    let run = |args: Vec<String>| {
        let env = &env;
        async move {
            let mut all = vec!["--plain-http"];
            all.extend(args.iter().map(String::as_str));
            env.run(&all).await
        }
    };
    let args = |args: &[&str]| args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    let pushed = run(args(&[
        "--json",
        "artifact",
        "push",
        &target,
        &notes.display().to_string(),
        &format!("{}:application/spdx+json", sbom.display()),
        "--annotation",
        "org.opencontainers.image.created=2026-12-03T00:00:00Z",
    ]))
    .await;
    let json = pushed.ok().json();
    let digest = Digest::parse(json["digest"].as_str().unwrap()).unwrap();
    assert_eq!(json["artifact_type"], "application/vnd.unknown.artifact.v1");
    assert_eq!(json["files"][0]["title"], "notes.txt");
    assert_eq!(
        json["files"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(json["files"][1]["title"], "sbom.json");
    assert_eq!(json["files"][1]["media_type"], "application/spdx+json");
    assert_eq!(
        run(args(&["digest", &target])).await.ok().stdout.trim(),
        digest.as_str()
    );

    let out = dir.path().join("out");
    let out_text = out.display().to_string();
    run(args(&["artifact", "pull", &target, &out_text]))
        .await
        .ok()
        .stdout_has(&format!("pulled {target} {digest}"))
        .stdout_has("2 file(s) verified")
        .stdout_has("sbom.json  26 B");
    assert_eq!(
        std::fs::read(out.join("notes.txt")).unwrap(),
        b"release notes\n"
    );
    assert_eq!(
        std::fs::read(out.join("sbom.json")).unwrap(),
        std::fs::read(&sbom).unwrap()
    );

    // Attached by digest: the digest alone on stdout, then a referrer.
    let signature = dir.path().join("signature.sig");
    std::fs::write(&signature, b"a signature").unwrap();
    let attached = run(args(&[
        "artifact",
        "attach",
        &target,
        &signature.display().to_string(),
        "--artifact-type",
        "application/vnd.example.signature.v1",
    ]))
    .await;
    let attached = Digest::parse(attached.ok().stdout.trim()).unwrap();
    let referrers = run(args(&["--json", "referrers", &target]))
        .await
        .ok()
        .json();
    assert_eq!(referrers["subject"], digest.as_str());
    assert_eq!(referrers["referrers"][0]["digest"], attached.as_str());
    assert_eq!(
        referrers["referrers"][0]["artifactType"],
        "application/vnd.example.signature.v1"
    );
    let by_digest = format!("{host}/octo/files@{attached}");
    let out = dir.path().join("signatures");
    let pulled = run(args(&[
        "--json",
        "artifact",
        "pull",
        &by_digest,
        &out.display().to_string(),
    ]))
    .await
    .ok()
    .json();
    assert_eq!(pulled["digest"], attached.as_str());
    assert_eq!(pulled["files"][0]["title"], "signature.sig");
    assert_eq!(pulled["bytes_downloaded"], 11);
    assert_eq!(
        std::fs::read(out.join("signature.sig")).unwrap(),
        b"a signature"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn colliding_names_and_bad_arguments_are_refused() {
    let registry = registry::start(Auth::None).await;
    let env = Env::empty();
    let dir = tempfile::tempdir().unwrap();
    for folder in ["a", "b"] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("same.txt"), folder).unwrap();
    }
    let target = format!("{}/octo/refused:v1", registry.host());
    let first = dir.path().join("a/same.txt").display().to_string();
    let second = dir.path().join("b/same.txt").display().to_string();
    env.run(&[
        "--plain-http",
        "--json",
        "artifact",
        "push",
        &target,
        &first,
        &second,
    ])
    .await
    .json_error(1, "other")
    .stderr_has("\"same.txt\" is used by more than one layer");
    env.run(&["--plain-http", "digest", &target]).await.code(3);
    env.run(&[
        "--plain-http",
        "artifact",
        "push",
        &target,
        &format!("{first}:nope"),
    ])
    .await
    .code(2)
    .stderr_has("`nope` is not a media type");
    env.run(&["--plain-http", "artifact", "attach", &target, &first])
        .await
        .code(2)
        .stderr_has("--artifact-type");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tagged_artifact_with_a_subject_on_the_fake_ghcr() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let image = seed(&fake, "octo/app", Some("v1"), "app layer");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("scan.sarif");
    std::fs::write(&report, b"{\"version\":\"2.1.0\"}").unwrap();
    let target = at(&fake, "octo/app:v1-scan");
    let json = env
        .run(&[
            "--json",
            "artifact",
            "push",
            &target,
            &format!("{}:application/sarif+json", report.display()),
            "--artifact-type",
            "application/sarif+json",
            "--subject",
            &at(&fake, "octo/app:v1"),
        ])
        .await
        .ok()
        .json();
    assert_eq!(json["subject"], image.as_str());
    assert_eq!(json["artifact_type"], "application/sarif+json");
    let digest = json["digest"].as_str().unwrap().to_owned();
    env.run(&["referrers", &at(&fake, "octo/app:v1")])
        .await
        .ok()
        .stdout_has(&format!("{digest}  application/sarif+json"));
    let out = dir.path().join("out");
    env.run(&["artifact", "pull", &target, &out.display().to_string()])
        .await
        .ok()
        .stdout_has("scan.sarif  19 B");
    assert_eq!(
        std::fs::read(out.join("scan.sarif")).unwrap(),
        std::fs::read(&report).unwrap()
    );
    // The subject must be in the artifact's repository.
    env.run(&[
        "artifact",
        "push",
        &target,
        &report.display().to_string(),
        "--subject",
        &at(&fake, "octo/other:v1"),
    ])
    .await
    .code(2)
    .stderr_has("a referrer must be pushed to its subject's repository");
}
