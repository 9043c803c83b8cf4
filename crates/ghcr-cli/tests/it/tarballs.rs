//! Tarballs at the command line: `push FILE.tar REF` refuses a broken
//! tarball (truncated, a member leaving it, a layer its manifest names but
//! it lacks) with the reason and exit 2 before the tag moves; a push reads
//! the file in place and writes nowhere; a failed `pull --format
//! docker-archive` leaves no file, partial or whole.

use std::io::Write as _;
use std::path::Path;

use ghcr::types::Digest;
use ghcr_sim::fake::{Fault, Route};
use http::Method;
use serde_json::json;

use crate::support::{Env, at, fake, seed_app};

/// A tar of `members` (name, bytes), names written raw so that a hostile
/// `../` survives (the tar crate's `set_path` refuses it).
fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        let raw = &mut header.as_old_mut().name;
        raw.fill(0);
        raw[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        builder.append(&header, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The layer of the test image: 256 KiB that do not repeat, so a cut in
/// the middle lands inside its data.
fn layer() -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(17);
    (0..256 * 1024).map(|_| rng.u8(..)).collect()
}

/// A `docker save` archive holding `layer/layer.tar` (first, so a cut at
/// its middle truncates it), a config and a manifest.json that lists
/// `layers`, and `extra` members before them.
fn docker_archive(layers: &[&str], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let layer = layer();
    let diff_id = Digest::sha256_of(&layer);
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": vec![diff_id.as_str(); layers.len()]},
    })
    .to_string();
    let manifest = json!([{
        "Config": "config.json", "RepoTags": ["octo/app:v1"], "Layers": layers,
    }])
    .to_string();
    let mut members: Vec<(&str, &[u8])> = vec![("layer/layer.tar", &layer)];
    members.extend_from_slice(extra);
    members.push(("config.json", config.as_bytes()));
    members.push(("manifest.json", manifest.as_bytes()));
    tar_of(&members)
}

/// Every name in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_tarballs_are_refused_before_the_tag_moves() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let dir = tempfile::tempdir().unwrap();
    let app = at(&fake, "octo/app:v1");
    let good = docker_archive(&["layer/layer.tar"], &[]);
    let good_path = dir.path().join("good.tar");
    std::fs::write(&good_path, &good).unwrap();
    let pushed = env
        .run(&["push", good_path.to_str().unwrap(), &app, "--json"])
        .await;
    let digest = pushed.ok().json()["digest"].as_str().unwrap().to_owned();

    // Cut in the middle of the layer's data (its 512-byte header first).
    let cut = &good[..512 + 128 * 1024];
    let missing = docker_archive(&["layer/layer.tar", "gone/layer.tar"], &[]);
    let escaping = docker_archive(&["layer/layer.tar"], &[("../escape", b"x")]);
    let table: [(&str, Vec<u8>, &str); 4] = [
        ("truncated.tar", cut.to_vec(), "truncated"),
        ("truncated.tar.gz", gzip(cut), "truncated"),
        (
            "escaping.tar",
            escaping,
            "member `../escape` points outside the tarball",
        ),
        (
            "missing-layer.tar",
            missing,
            "manifest.json names `gone/layer.tar`, which the tarball does not hold",
        ),
    ];
    for (name, bytes, reason) in table {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let path = path.to_str().unwrap();
        env.run(&["push", path, &app])
            .await
            .code(2)
            .stderr_has(&format!("error: tarball {path}: "))
            .stderr_has(reason);
        env.run(&["--json", "push", path, &app])
            .await
            .json_error(2, "usage");
        let now = env.run(&["digest", &app]).await;
        assert_eq!(now.ok().stdout.trim(), digest, "{name} moved the tag");
    }
    assert_eq!(
        fake.store().tags("octo/app"),
        ["v1"],
        "no other tag appeared"
    );
}

/// A tarball is pushed from where it lies: nothing is written into the
/// TMPDIR the process is given, nor beside the tarball, plain or gzip.
#[tokio::test(flavor = "multi_thread")]
async fn pushing_a_tarball_writes_no_file() {
    let fake = fake().await;
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::fake(&fake).set("TMPDIR", tmp.path().to_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let tar = docker_archive(&["layer/layer.tar"], &[]);
    std::fs::write(dir.path().join("image.tar"), &tar).unwrap();
    std::fs::write(dir.path().join("image.tar.gz"), gzip(&tar)).unwrap();
    let before = names_in(dir.path());
    for (file, tag) in [("image.tar", "plain"), ("image.tar.gz", "gzip")] {
        let path = dir.path().join(file);
        env.run(&[
            "push",
            path.to_str().unwrap(),
            &at(&fake, &format!("octo/app:{tag}")),
        ])
        .await
        .ok()
        .stdout_has("2 blob(s)");
    }
    assert_eq!(
        names_in(tmp.path()),
        Vec::<String>::new(),
        "TMPDIR is empty"
    );
    assert_eq!(names_in(dir.path()), before, "nothing beside the tarball");
    // Both pushes gave the same image.
    let digests: Vec<String> = fake
        .store()
        .tags("octo/app")
        .iter()
        .map(|tag| fake.store().manifest("octo/app", tag).unwrap().0)
        .map(|bytes| Digest::sha256_of(&bytes).to_string())
        .collect();
    assert_eq!(digests.len(), 2);
    assert_eq!(digests[0], digests[1]);
}

/// A docker-archive pull from a source that fails (a corrupted layer; a
/// connection cut mid-layer) leaves no file at OUT and no partial file or
/// work folder beside it; a tarball already at OUT stays as it was.
#[tokio::test(flavor = "multi_thread")]
async fn failed_docker_archive_pulls_leave_no_file() {
    let fake = fake().await;
    seed_app(&fake, layer());
    let env = Env::fake(&fake).set("GHCR_MAX_RETRIES", "0");
    let app = at(&fake, "octo/app:v1");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.tar");
    let out_text = out.to_str().unwrap();
    let pull = ["pull", &app, "--format", "docker-archive", out_text];
    let faults = [
        (
            Fault::corrupt(Route::new(Method::GET, "/blobs/*")),
            Fault::corrupt(Route::new(Method::GET, "/v2/*/blobs/*")),
            6,
        ),
        (
            Fault::drop_after(Route::new(Method::GET, "/blobs/*"), 4096),
            Fault::drop_after(Route::new(Method::GET, "/v2/*/blobs/*"), 4096),
            1,
        ),
    ];
    for (storage, registry, code) in faults {
        fake.faults().clear();
        fake.faults().add(storage);
        fake.faults().add(registry);
        env.run(&pull).await.code(code);
        assert_eq!(names_in(dir.path()), Vec::<String>::new(), "code {code}");

        std::fs::write(&out, b"an older tarball").unwrap();
        env.run(&pull).await.code(code);
        assert_eq!(names_in(dir.path()), ["app.tar"], "code {code}");
        assert_eq!(std::fs::read(&out).unwrap(), b"an older tarball");
        std::fs::remove_file(&out).unwrap();
    }
    // Without faults the same pull writes the tarball.
    fake.faults().clear();
    env.run(&pull).await.ok();
    assert_eq!(names_in(dir.path()), ["app.tar"]);
}
