//! `kill -9` of `ghcr sync` between two fake ghcr.io's at seeded points,
//! counted in requests one of them saw (held there unanswered, or just
//! answered; see `kill.rs`): after each kill every tag on the target
//! points at the source's digest for that tag, and that manifest, its
//! children and all their blobs are stored; a re-run completes and leaves
//! the target's tags equal to the source's.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::fake::FakeGhcr;
use serde_json::{Value, json};

use crate::kill::{KillPoint, Points, run_and_kill};
use crate::support::{Env, TOKEN, USER, at, fake};

/// Kills; each is a fresh target (the source is only read).
const RUNS: u64 = 60;
const SEED: u64 = 0x7379_6e63;
const SOURCE: &str = "octo/src";
const TARGET: &str = "octo/mirror";

/// Eight tags in `octo/src`: five images (two sharing a layer, one of
/// 192 KiB), two multi-platform indexes, and `latest` at `v5`'s digest.
fn seed_source(fake: &FakeGhcr) {
    let store = fake.store();
    let shared = Bytes::from_static(b"a layer two images share");
    for (n, tag) in ["v1", "v2", "v3", "v4", "v5"].iter().enumerate() {
        let mut layers = vec![Bytes::from(format!("layer of {tag}").repeat(n * 3 + 1))];
        if n < 2 {
            layers.push(shared.clone());
        }
        if n == 3 {
            layers.push(Bytes::from(vec![u8::try_from(n).unwrap(); 192 * 1024]));
        }
        store.push_image(SOURCE, Some(tag), &layers).unwrap();
    }
    for tag in ["multi", "edge"] {
        store
            .push_index(SOURCE, tag, &["linux/amd64", "linux/arm64"])
            .unwrap();
    }
    let v5 = store.manifest(SOURCE, "v5").unwrap().0;
    store
        .tag(SOURCE, "latest", &Digest::sha256_of(&v5))
        .unwrap();
}

/// A second fake, as the target; the `ghcr` runs reach it through a
/// Docker config in the env's home (GHCR_TOKEN is only for GHCR_REGISTRY).
async fn target_for(env: &Env) -> FakeGhcr {
    let target = FakeGhcr::builder().user(USER, TOKEN).start().await.unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{TOKEN}"));
    let config = json!({"auths": {target.registry_host(): {"auth": auth}}});
    let dir = env.home.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    target
}

/// Each tag of `repository` with the digest of its manifest.
fn tag_digests(fake: &FakeGhcr, repository: &str) -> BTreeMap<String, Digest> {
    fake.store()
        .tags(repository)
        .into_iter()
        .map(|tag| {
            let (bytes, _) = fake.store().manifest(repository, &tag).unwrap();
            (tag, Digest::sha256_of(&bytes))
        })
        .collect()
}

/// The manifest `digest` is in `repository` with all it names: an
/// index's children, an image's config and layers.
#[track_caller]
fn assert_complete(fake: &FakeGhcr, repository: &str, digest: &Digest, context: &str) {
    let (bytes, _) = fake
        .store()
        .manifest(repository, digest.as_str())
        .unwrap_or_else(|| panic!("{context}: manifest {digest} is missing"));
    assert_eq!(Digest::sha256_of(&bytes), *digest, "{context}");
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    let named =
        |descriptor: &Value| -> Digest { descriptor["digest"].as_str().unwrap().parse().unwrap() };
    if let Some(children) = manifest["manifests"].as_array() {
        for child in children {
            assert_complete(fake, repository, &named(child), context);
        }
        return;
    }
    let blobs = std::iter::once(&manifest["config"]).chain(manifest["layers"].as_array().unwrap());
    for descriptor in blobs {
        let blob = named(descriptor);
        let stored = fake
            .store()
            .blob(&blob)
            .unwrap_or_else(|| panic!("{context}: {digest} names {blob}, missing"));
        assert_eq!(
            Digest::sha256_of(&stored),
            blob,
            "{context}: {blob}'s bytes"
        );
    }
}

/// Every tag on the target is at the source's digest for it, complete.
/// Returns how many tags the target has.
#[track_caller]
fn assert_target_sound(
    target: &FakeGhcr,
    expected: &BTreeMap<String, Digest>,
    context: &str,
) -> usize {
    let tags = tag_digests(target, TARGET);
    for (tag, digest) in &tags {
        assert_eq!(
            Some(digest),
            expected.get(tag),
            "{context}: the target's {tag} is not the source's"
        );
        assert_complete(target, TARGET, digest, &format!("{context}, tag {tag}"));
    }
    tags.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_killed_at_seeded_points_never_tags_an_incomplete_image() {
    let source = fake().await;
    seed_source(&source);
    let expected = tag_digests(&source, SOURCE);
    assert_eq!(expected.len(), 8, "{expected:?}");
    let (from, to_of) = (at(&source, SOURCE), |target: &FakeGhcr| at(target, TARGET));

    // Requests each side sees in an uninterrupted run.
    let (source_total, target_total) = {
        let env = Env::fake(&source);
        let target = target_for(&env).await;
        let to = to_of(&target);
        source.log().clear();
        env.run(&["--plain-http", "sync", &from, &to]).await.ok();
        assert_eq!(tag_digests(&target, TARGET), expected);
        (source.log().len(), target.log().len())
    };

    let mut points = Points(SEED);
    let (mut killed, mut partial) = (0, 0);
    let mut left = Vec::new();
    for run in 0..RUNS {
        let env = Env::fake(&source);
        let target = target_for(&env).await;
        let to = to_of(&target);
        let args = ["--plain-http", "sync", from.as_str(), to.as_str()];
        let on_source = points.next(2) == 0;
        let (side, total) = if on_source {
            (&source, source_total)
        } else {
            (&target, target_total)
        };
        let point = KillPoint::seeded(&mut points, total);
        let name = if on_source { "source" } else { "target" };
        let context = format!("sync run {run}, {point:?} of {total} on the {name}");
        killed += usize::from(run_and_kill(&env, side, &args, point).await);
        let tagged = assert_target_sound(&target, &expected, &context);
        partial += usize::from(tagged < expected.len());
        left.push(tagged);

        let rerun = ["--plain-http", "--json", "sync", from.as_str(), to.as_str()];
        let json = env.run(&rerun).await.ok().json();
        assert_eq!(json["report"]["complete"], true, "{context}: {json:#}");
        assert_eq!(
            tag_digests(&target, TARGET),
            expected,
            "{context}: {json:#}"
        );
        assert_target_sound(&target, &expected, &context);
    }
    println!(
        "sync: {killed} of {RUNS} runs killed ({partial} with tags missing), \
         points within {source_total} source and {target_total} target requests; \
         tags on the target after each kill: {left:?}"
    );
    assert!(
        killed * 2 >= usize::try_from(RUNS).unwrap(),
        "only {killed} of {RUNS} runs were killed before they finished"
    );
}
