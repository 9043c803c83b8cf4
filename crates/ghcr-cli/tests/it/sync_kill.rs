//! `kill -9` of `ghcr sync` at seeded points, to a second fake ghcr.io
//! (blobs streamed across) or to another repository on the source's fake
//! (blobs mounted), counted in requests one fake saw (held there
//! unanswered, or just answered; see `kill.rs`): after each kill every tag
//! on the target points at the source's digest for that tag, and that
//! manifest, its children and all their blobs are stored; a re-run skips
//! exactly the tags already there, copies the rest, and leaves the
//! target's tags equal to the source's.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use ghcr::types::Digest;
use ghcr_sim::fake::FakeGhcr;
use serde_json::{Value, json};

use crate::kill::{KillPoint, Points, quiet, run_and_kill};
use crate::support::{Env, TOKEN, USER, at, fake};

/// Kills per test; each into a fresh target (the source is only read).
const RUNS: u64 = 40;
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
/// Returns the target's tags.
#[track_caller]
fn assert_target_sound(
    target: &FakeGhcr,
    repository: &str,
    expected: &BTreeMap<String, Digest>,
    context: &str,
) -> Vec<String> {
    let tags = tag_digests(target, repository);
    for (tag, digest) in &tags {
        assert_eq!(
            Some(digest),
            expected.get(tag),
            "{context}: the target's {tag} is not the source's"
        );
        assert_complete(target, repository, digest, &format!("{context}, tag {tag}"));
    }
    tags.into_keys().collect()
}

/// Where the copies go: a second fake, or another repository on the
/// source's fake (so blobs are mounted).
#[derive(Clone, Copy)]
enum Target {
    Apart,
    Beside,
}

/// One run's target: its fake (the source's when beside) and reference.
struct Place {
    apart: Option<FakeGhcr>,
    repository: String,
}

impl Target {
    async fn place(self, env: &Env, run: u64) -> Place {
        match self {
            Self::Apart => Place {
                apart: Some(target_for(env).await),
                repository: TARGET.to_owned(),
            },
            Self::Beside => Place {
                apart: None,
                repository: format!("{TARGET}-{run}"),
            },
        }
    }
}

impl Place {
    fn fake<'a>(&'a self, source: &'a FakeGhcr) -> &'a FakeGhcr {
        self.apart.as_ref().unwrap_or(source)
    }
}

/// Seeds the source, then `RUNS` times: `ghcr sync` killed at a seeded
/// point, the target checked, a re-run that copies exactly the tags the
/// killed run left missing. Returns how many runs were killed.
async fn sync_killed_at_seeded_points(target: Target, seed: u64) -> usize {
    let source = fake().await;
    seed_source(&source);
    let expected = tag_digests(&source, SOURCE);
    assert_eq!(expected.len(), 8, "{expected:?}");
    let from = at(&source, SOURCE);

    // Requests each fake sees in an uninterrupted run (one total when beside).
    let (source_total, target_total) = {
        let env = Env::fake(&source);
        let place = target.place(&env, RUNS).await;
        let fake = place.fake(&source);
        source.log().clear();
        fake.log().clear();
        let to = at(fake, &place.repository);
        let json = env
            .run(&["--plain-http", "--json", "sync", &from, &to])
            .await
            .ok()
            .json();
        let blobs = &json["report"]["blobs"];
        // 23 blobs: 20 distinct, and 3 found there (a shared layer, and
        // `latest` after `v5`); mounted only within a registry.
        let (moved, way) = match target {
            Target::Apart => ("uploaded", "mounted"),
            Target::Beside => ("mounted", "uploaded"),
        };
        assert_eq!(
            (&blobs[moved], &blobs[way], &blobs["existed"]),
            (&json!(20), &json!(0), &json!(3)),
            "{json:#}"
        );
        assert_eq!(tag_digests(fake, &place.repository), expected);
        (source.log().len(), fake.log().len())
    };

    let mut points = Points(seed);
    let mut killed = 0;
    let mut left = Vec::new();
    for run in 0..RUNS {
        let env = Env::fake(&source);
        let place = target.place(&env, run).await;
        let fake = place.fake(&source);
        let to = at(fake, &place.repository);
        let args = ["--plain-http", "sync", from.as_str(), to.as_str()];
        let on_source = points.next(2) == 0;
        let (side, total, name) = if on_source {
            (&source, source_total, "source")
        } else {
            (fake, target_total, "target")
        };
        let point = KillPoint::seeded(&mut points, total);
        let context = format!("sync run {run}, {point:?} of {total} on the {name}'s fake");
        killed += usize::from(run_and_kill(&env, side, &args, point).await);
        // The target may be the other fake, still handling what was sent.
        quiet(fake).await;
        let tagged = assert_target_sound(fake, &place.repository, &expected, &context);
        left.push(tagged.len());

        let rerun = ["--plain-http", "--json", "sync", from.as_str(), to.as_str()];
        let json = env.run(&rerun).await.ok().json();
        let report = &json["report"];
        assert_eq!(report["complete"], true, "{context}: {json:#}");
        let mut skipped: Vec<&str> = report["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| tag.as_str().unwrap())
            .collect();
        skipped.sort_unstable();
        assert_eq!(
            skipped, tagged,
            "{context}: the re-run skipped other tags than were there"
        );
        assert_eq!(
            report["copied"].as_array().unwrap().len() + skipped.len(),
            expected.len(),
            "{context}: {json:#}"
        );
        assert_eq!(
            tag_digests(fake, &place.repository),
            expected,
            "{context}: {json:#}"
        );
        assert_target_sound(fake, &place.repository, &expected, &context);
    }
    println!(
        "sync: {killed} of {RUNS} runs killed, points within {source_total} source and \
         {target_total} target requests; tags on the target after each kill: {left:?}"
    );
    assert!(
        killed * 2 >= usize::try_from(RUNS).unwrap(),
        "only {killed} of {RUNS} runs were killed before they finished"
    );
    killed
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_to_another_registry_killed_at_seeded_points_never_tags_an_incomplete_image() {
    sync_killed_at_seeded_points(Target::Apart, SEED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_within_a_registry_killed_at_seeded_points_never_tags_an_incomplete_image() {
    sync_killed_at_seeded_points(Target::Beside, SEED ^ 0x006d_6f75_6e74).await;
}
