//! The registry commands against Debian's docker-registry, a registry
//! that is not ghcr.io: deletes through the registry API, plain HTTP only
//! with --plain-http, token auth and its refusals, and copies from the
//! fake ghcr.io across registries.

use ghcr::types::Digest;

use crate::support::registry::{self, Auth, skopeo_inspect};
use crate::support::{Env, at, fake, seed_app, write_layout};

#[tokio::test(flavor = "multi_thread")]
async fn every_registry_command_on_docker_registry() {
    let registry = registry::start(Auth::None).await;
    let host = registry.host();
    let env = Env::empty();
    let dir = tempfile::tempdir().unwrap();
    let digest = write_layout(
        &dir.path().join("src"),
        "v1",
        b"a layer for docker-registry",
    );
    let layout = format!("{}:v1", dir.path().join("src").display());
    let app = format!("{host}/octo/app");

    // Without --plain-http the client speaks TLS to a plain-HTTP server.
    let once = Env::empty().set("GHCR_MAX_RETRIES", "0");
    once.run(&["push", &layout, &app])
        .await
        .code(1)
        .stderr_has("--plain-http");
    env.run(&["--plain-http", "push", &layout, &app])
        .await
        .ok()
        .stdout_has(&format!("pushed {app}:v1 {digest}"));
    let p = |args: &[&str]| {
        let mut all = vec!["--plain-http"];
        all.extend(args);
        all.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| {
        let env = &env;
        async move {
            env.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
                .await
        }
    };
    assert_eq!(
        run(p(&["digest", &format!("{app}:v1")])).await.ok().stdout,
        format!("{digest}\n")
    );
    run(p(&["tag", &format!("{app}:v1"), "v2", "latest"]))
        .await
        .ok();
    assert_eq!(run(p(&["ls", &app])).await.ok().stdout, "latest\nv1\nv2\n");
    let manifest = run(p(&["manifest", &format!("{app}:v2")])).await;
    assert_eq!(Digest::sha256_of(manifest.ok().stdout.as_bytes()), digest);
    run(p(&["config", &format!("{app}:v1")]))
        .await
        .ok()
        .stdout_has("amd64");
    run(p(&["size", "--json", &format!("{app}:v1")])).await.ok();
    run(p(&["referrers", &format!("{app}:v1")]))
        .await
        .ok()
        .stdout_has("0 referrer(s)");

    let pulled = dir.path().join("pulled").display().to_string();
    run(p(&["pull", &format!("{app}:v2"), &pulled]))
        .await
        .ok()
        .stdout_has("verified");
    let inspected = skopeo_inspect(&[&format!("oci:{pulled}:v2")]).await;
    assert!(String::from_utf8_lossy(&inspected).contains(digest.as_str()));

    // One tag goes; the manifest and its other tags stay.
    run(p(&["rm", &format!("{app}:v2")]))
        .await
        .ok()
        .stdout_has("manifest ")
        .stdout_has("kept");
    assert_eq!(run(p(&["ls", &app])).await.ok().stdout, "latest\nv1\n");
    let json = run(p(&["rm", "--json", &format!("{app}@{digest}")]))
        .await
        .ok()
        .json();
    assert_eq!(json["deleted"], "manifest");
    run(p(&["digest", &format!("{app}:v1")])).await.code(3);
    run(p(&["--json", "manifest", &format!("{app}:v1")]))
        .await
        .json_error(3, "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_cross_from_the_fake_to_docker_registry() {
    let registry = registry::start(Auth::None).await;
    let fake = fake().await;
    let image = seed_app(&fake, b"layer crossing registries".as_slice());
    let digest = image.manifest;
    let env = Env::fake(&fake);
    let target = format!("{}/mirror/app:v1", registry.host());
    env.run(&["--plain-http", "cp", &at(&fake, "octo/app:v1"), &target])
        .await
        .ok()
        .stdout_has(digest.as_str())
        .stdout_has("2 uploaded");
    let json = env
        .run(&["--plain-http", "--json", "digest", &target])
        .await
        .ok()
        .json();
    assert_eq!(json["digest"], digest.as_str());
    let blob = format!("{}/mirror/app@{}", registry.host(), image.layers[0]);
    assert_eq!(
        env.run(&["--plain-http", "blob", &blob]).await.ok().stdout,
        "layer crossing registries"
    );
}

/// The same commands' JSON results on docker-registry, and what is missing
/// there: a repository, a tag, a blob (exit code 3, `not_found`).
#[tokio::test(flavor = "multi_thread")]
async fn json_results_and_not_found_on_docker_registry() {
    let registry = registry::start(Auth::None).await;
    let env = Env::empty();
    let dir = tempfile::tempdir().unwrap();
    let digest = write_layout(&dir.path().join("src"), "v1", b"json on docker-registry");
    let layout = format!("{}:v1", dir.path().join("src").display());
    let app = format!("{}/octo/app", registry.host());
    let v1 = format!("{app}:v1");
    let run = |args: &[&str]| {
        let mut all = vec!["--plain-http", "--json"];
        all.extend(args);
        let all: Vec<String> = all.into_iter().map(str::to_owned).collect();
        let env = &env;
        async move {
            env.run(&all.iter().map(String::as_str).collect::<Vec<_>>())
                .await
        }
    };
    let pushed = run(&["push", &layout, &app]).await.ok().json();
    assert_eq!(pushed["digest"], digest.as_str());
    assert_eq!(pushed["reference"], v1);
    let tagged = run(&["tag", &v1, "latest"]).await.ok().json();
    assert_eq!(tagged["digest"], digest.as_str());
    let tags = run(&["ls", &app]).await.ok().json();
    assert_eq!(tags["tags"], serde_json::json!(["latest", "v1"]));
    let manifest = run(&["manifest", &v1]).await.ok().json();
    assert_eq!(manifest["digest"], digest.as_str());
    let config = run(&["config", &v1]).await.ok().json();
    assert_eq!(config["config"]["architecture"], "amd64");
    let referrers = run(&["referrers", &v1]).await.ok().json();
    assert_eq!(referrers["referrers"], serde_json::json!([]));
    let pulled = dir.path().join("pulled").display().to_string();
    let pull = run(&["pull", &v1, &pulled]).await.ok().json();
    assert_eq!(pull["digest"], digest.as_str());
    assert_eq!(pull["blobs"], 2);

    let missing_blob = format!("{app}@{}", Digest::sha256_of(b"not pushed"));
    let file = dir.path().join("blob").display().to_string();
    for args in [
        vec!["ls", &format!("{}/octo/none", registry.host())],
        vec!["digest", &format!("{app}:v9")],
        vec!["pull", &format!("{app}:v9"), &pulled],
        vec!["blob", &missing_blob, "-o", &file],
    ] {
        run(&args).await.json_error(3, "not_found");
    }
    assert!(!std::path::Path::new(&file).exists());
}

/// docker-registry with token auth: the credentials from the environment
/// get a token from its issuer; wrong or missing ones exit with 4.
#[tokio::test(flavor = "multi_thread")]
async fn token_auth_on_docker_registry() {
    let registry = registry::start(Auth::Token).await;
    let (user, password) = registry.credentials().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let digest = write_layout(&dir.path().join("src"), "v1", b"behind token auth");
    let layout = format!("{}:v1", dir.path().join("src").display());
    let app = format!("{}/octo/app", registry.host());
    let signed_in = Env::empty()
        .set("GHCR_REGISTRY", registry.host())
        .set("GHCR_USERNAME", user)
        .set("GHCR_TOKEN", password);
    signed_in
        .run(&["--plain-http", "push", &layout, &app])
        .await
        .ok()
        .stdout_has(digest.as_str());
    assert_eq!(
        signed_in
            .run(&["--plain-http", "digest", &format!("{app}:v1")])
            .await
            .ok()
            .stdout,
        format!("{digest}\n")
    );
    let wrong = signed_in.set("GHCR_TOKEN", "not-the-password");
    let run = wrong.run(&["--plain-http", "ls", &app]).await;
    run.code(4);
    assert!(!run.stderr.contains("not-the-password"), "{run:#?}");
    wrong
        .run(&["--plain-http", "--json", "ls", &app])
        .await
        .json_error(4, "auth");
    Env::empty()
        .run(&["--plain-http", "ls", &app])
        .await
        .code(4);
}
