//! `kill -9` of `ghcr push` (from an OCI layout) and `ghcr pull` (into
//! one) at seeded points, counted in requests the fake saw: the CLI is
//! killed either while the fake holds its k-th request unanswered, or just
//! after the fake answered it (the CLI is then hashing, writing or renaming).
//! After each kill the layout holds only blobs that match their digest and
//! index entries whose blobs are all there; the registry's tag is the old
//! digest or the new one, and its manifest's blobs are all stored; a second
//! run completes.

use std::path::Path;
use std::time::Duration;

use ghcr::types::Digest;
use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use serde_json::Value;

use crate::support::{Env, at, fake, seed_app, write_layout};

/// Kills per command; each is a fresh fake (and for pulls, a fresh layout).
const RUNS: u64 = 50;
const SEED: u64 = 0x6b69_6c6c;

/// xorshift64*: seeded kill points without a dependency.
pub(crate) struct Points(pub(crate) u64);

impl Points {
    pub(crate) fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % below.max(1)
    }
}

/// Where a run is killed: when the fake receives request `k` (held there,
/// unanswered), or once it has answered `k` requests.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KillPoint {
    Holding(usize),
    Answered(usize),
}

impl KillPoint {
    pub(crate) fn seeded(points: &mut Points, requests: usize) -> Self {
        let k = 1 + usize::try_from(points.next(requests as u64)).unwrap();
        if points.next(2) == 0 {
            Self::Holding(k)
        } else {
            Self::Answered(k)
        }
    }
}

/// Runs `ghcr ARGS` and kills it with SIGKILL at `point` (or lets it end
/// if it finishes first); returns whether it was killed.
pub(crate) async fn run_and_kill(
    env: &Env,
    fake: &FakeGhcr,
    args: &[&str],
    point: KillPoint,
) -> bool {
    fake.log().clear();
    if let KillPoint::Holding(k) = point {
        let hold = Fault::delay(Route::any_method("*"), Duration::from_secs(3600));
        fake.faults().add(hold.nth(u32::try_from(k).unwrap()));
    }
    let mut child = env.spawn(args);
    let reached = || match point {
        KillPoint::Holding(_) => fake.faults().fired() > 0,
        KillPoint::Answered(k) => fake.log().len() >= k,
    };
    let killed = loop {
        if reached() {
            child.start_kill().unwrap();
            break true;
        }
        tokio::select! {
            status = child.wait() => {
                status.unwrap();
                break false;
            }
            () = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
    };
    child.wait().await.unwrap();
    fake.faults().clear();
    quiet(fake).await;
    killed
}

/// Waits until `fake` has handled what the dead client had sent: a request
/// written completely before the kill is still handled after it.
pub(crate) async fn quiet(fake: &FakeGhcr) {
    tokio::time::timeout(Duration::from_secs(60), fake.quiet())
        .await
        .expect("the fake still serves a connection 60 s after its client died");
}

/// How many requests an uninterrupted run of `args` takes.
async fn requests_of(env: &Env, fake: &FakeGhcr, args: &[&str]) -> usize {
    fake.log().clear();
    env.run(args).await.ok();
    fake.log().len()
}

/// The digests a manifest names (its config and layers).
fn blobs_of(manifest: &[u8]) -> Vec<Digest> {
    let manifest: Value = serde_json::from_slice(manifest).unwrap();
    std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().unwrap())
        .map(|descriptor| descriptor["digest"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Every complete blob matches its digest; every `index.json` entry's
/// manifest and blobs are there. Returns the entries' `ref.name`s.
#[track_caller]
fn assert_layout_sound(dir: &Path, context: &str) -> Vec<String> {
    let blobs = dir.join("blobs/sha256");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // A hidden partial download, never taken as a blob.
        }
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            Digest::sha256_of(&bytes).encoded(),
            name,
            "{context}: a blob whose bytes are not its digest"
        );
    }
    let text = std::fs::read(dir.join("index.json")).unwrap();
    let index: Value = serde_json::from_slice(&text)
        .unwrap_or_else(|e| panic!("{context}: index.json is not JSON ({e})"));
    let mut names = Vec::new();
    for entry in index["manifests"].as_array().unwrap() {
        let digest: Digest = entry["digest"].as_str().unwrap().parse().unwrap();
        let manifest = std::fs::read(blobs.join(digest.encoded()))
            .unwrap_or_else(|e| panic!("{context}: index.json names {digest}, missing ({e})"));
        for blob in blobs_of(&manifest) {
            assert!(
                blobs.join(blob.encoded()).is_file(),
                "{context}: {digest} names {blob}, missing from the layout"
            );
        }
        names.push(
            entry["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    names
}

/// The tag points at `old` or `new`, and every blob of that manifest is stored.
#[track_caller]
fn assert_tag_sound(fake: &FakeGhcr, old: &Digest, new: &Digest, context: &str) -> Digest {
    let (bytes, _) = fake.store().manifest("octo/app", "v1").unwrap();
    let digest = Digest::sha256_of(&bytes);
    assert!(
        digest == *old || digest == *new,
        "{context}: the tag moved to {digest}, neither old nor new"
    );
    for blob in blobs_of(&bytes) {
        assert!(
            fake.store().blob(&blob).is_some(),
            "{context}: the tag's manifest names {blob}, missing from the registry"
        );
    }
    digest
}

#[tokio::test(flavor = "multi_thread")]
async fn push_killed_at_seeded_points_never_moves_the_tag_to_a_broken_image() {
    let source = tempfile::tempdir().unwrap();
    let new = write_layout(source.path(), "v1", &b"new layer ".repeat(8192));
    let layout = format!("{}:v1", source.path().display());
    let total = {
        let (fake, _) = fake_with_old().await;
        let app = at(&fake, "octo/app:v1");
        requests_of(&Env::fake(&fake), &fake, &["push", &layout, &app]).await
    };
    let mut points = Points(SEED);
    let mut killed = 0;
    for run in 0..RUNS {
        let (fake, old) = fake_with_old().await;
        let env = Env::fake(&fake);
        let app = at(&fake, "octo/app:v1");
        let args = ["push", layout.as_str(), app.as_str()];
        let point = KillPoint::seeded(&mut points, total);
        let context = format!("push run {run}, {point:?} of {total}");
        killed += usize::from(run_and_kill(&env, &fake, &args, point).await);
        assert_tag_sound(&fake, &old, &new, &context);
        env.run(&args).await.ok();
        assert_eq!(assert_tag_sound(&fake, &old, &new, &context), new);
    }
    println!("push: {killed} of {RUNS} runs killed, points within {total} requests");
    assert!(killed > 0, "no run was killed before it finished");
}

/// A fake holding the old `octo/app:v1`.
async fn fake_with_old() -> (FakeGhcr, Digest) {
    let fake = fake().await;
    let old = seed_app(&fake, b"old layer".as_slice()).manifest;
    (fake, old)
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_killed_at_seeded_points_leaves_a_sound_layout() {
    let (fake, _) = fake_with_old().await;
    let image = fake
        .store()
        .push_image(
            "octo/app",
            Some("v2"),
            &[
                b"first pulled layer ".repeat(4096).into(),
                b"second pulled layer ".repeat(2048).into(),
                b"third".as_slice().into(),
            ],
        )
        .unwrap();
    let env = Env::fake(&fake);
    let app = at(&fake, "octo/app:v2");
    let probe = tempfile::tempdir().unwrap();
    let probe_dir = probe.path().display().to_string();
    let total = requests_of(&env, &fake, &["pull", &app, &probe_dir]).await;
    let mut points = Points(SEED ^ 0x7075_6c6c);
    let mut killed = 0;
    for run in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        write_layout(dir.path(), "kept", b"a layer pulled before");
        let dir_text = dir.path().display().to_string();
        let args = ["pull", app.as_str(), dir_text.as_str()];
        let point = KillPoint::seeded(&mut points, total);
        let context = format!("pull run {run}, {point:?} of {total}");
        killed += usize::from(run_and_kill(&env, &fake, &args, point).await);
        let names = assert_layout_sound(dir.path(), &context);
        assert!(
            names.iter().any(|name| name == "kept"),
            "{context}: the earlier entry is gone: {names:?}"
        );
        env.run(&args).await.ok();
        let names = assert_layout_sound(dir.path(), &context);
        assert!(
            names.iter().any(|n| n == "v2") && names.iter().any(|n| n == "kept"),
            "{context}: {names:?}"
        );
        let index = std::fs::read_to_string(dir.path().join("index.json")).unwrap();
        assert!(index.contains(image.manifest.as_str()), "{context}");
    }
    println!("pull: {killed} of {RUNS} runs killed, points within {total} requests");
    assert!(killed > 0, "no run was killed before it finished");
}
