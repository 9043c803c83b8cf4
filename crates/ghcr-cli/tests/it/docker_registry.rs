//! The registry commands against Debian's docker-registry, a registry
//! that is not ghcr.io: deletes through the registry API, plain HTTP only
//! with --plain-http, and copies from the fake ghcr.io across registries.

use ghcr::types::Digest;

use crate::support::registry::{Registry, skopeo_inspect};
use crate::support::{Env, at, fake, write_layout};

#[tokio::test(flavor = "multi_thread")]
async fn every_registry_command_on_docker_registry() {
    let registry = Registry::start().await;
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
    let inspected = skopeo_inspect(&[&format!("oci:{pulled}:v2")]);
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
    let registry = Registry::start().await;
    let fake = fake().await;
    let image = fake
        .store()
        .push_image(
            "octo/app",
            Some("v1"),
            &[bytes::Bytes::from_static(b"layer crossing registries")],
        )
        .unwrap();
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
