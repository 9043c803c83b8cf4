//! `cleanup --yes` killed with SIGKILL at seeded random points: its
//! journal lets `--resume` finish the run without deleting any version
//! twice (the fake's request log counts every DELETE of each id), and
//! `versions restore --journal` brings back exactly the versions deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use http::Method;

use crate::support::{Env, TOKEN, USER, seed};

/// Untagged builds the cleanup deletes, beside one tagged release it keeps.
const LEFTOVERS: usize = 5;
/// Kill-and-resume runs, each against its own fake.
const RUNS: usize = 50;
/// Runs at once: each mostly waits on the CLI's pace (a DELETE every 334 ms).
const AT_ONCE: usize = 10;
const SEED: u64 = 0x5eed_c1ea;
/// How long the fake takes over a DELETE: a kill can land while one is on its way.
const DELETE_TAKES: Duration = Duration::from_millis(40);

const CLEANUP: [&str; 6] = [
    "cleanup",
    "octo/app",
    "--user",
    "--only-untagged",
    "--yes",
    "--journal",
];

/// Each id's DELETE requests, and the ids restored (in order).
fn requests(fake: &FakeGhcr) -> (BTreeMap<u64, usize>, Vec<u64>) {
    let id_in = |path: &str, at: usize| path.rsplit('/').nth(at).and_then(|id| id.parse().ok());
    let mut deletes = BTreeMap::new();
    let mut restores = Vec::new();
    for request in fake.log().entries() {
        if request.method == Method::DELETE {
            *deletes.entry(id_in(&request.path, 0).unwrap()).or_default() += 1;
        } else if request.method == Method::POST && request.path.ends_with("/restore") {
            restores.push(id_in(&request.path, 1).unwrap());
        }
    }
    (deletes, restores)
}

fn deleted_in_fake(fake: &FakeGhcr) -> BTreeSet<u64> {
    fake.store()
        .versions("octo/app")
        .into_iter()
        .filter(|v| v.deleted_at.is_some())
        .map(|v| v.id.0)
        .collect()
}

fn ids(value: &serde_json::Value) -> BTreeSet<u64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|id| id.as_u64().unwrap())
        .collect()
}

/// What one run saw, for the closing figures.
struct Seen {
    deleted_before_kill: usize,
    possibly_deleted: usize,
    finished_before_kill: bool,
}

/// One run: kill `cleanup --yes` once the fake has answered `kill_after`
/// DELETEs and `then` has passed, resume it, check, undo it, check.
async fn killed_resumed_and_undone(run: usize, kill_after: usize, then: Duration) -> Seen {
    let fake = FakeGhcr::builder()
        .user(USER, TOKEN)
        .fault(Fault::delay(
            Route::new(Method::DELETE, "/users/*"),
            DELETE_TAKES,
        ))
        .start()
        .await
        .unwrap();
    seed(&fake, "octo/app", Some("v1"), "release");
    let planned: BTreeSet<u64> = (0..LEFTOVERS)
        .map(|n| {
            let digest = seed(&fake, "octo/app", None, &format!("build {n}"));
            fake.store().version_id("octo/app", &digest).unwrap().0
        })
        .collect();
    let env = Env::fake(&fake);
    let journal = env.home.path().join("cleanup.jsonl");
    let path = journal.to_str().unwrap();
    let args: Vec<&str> = CLEANUP.iter().copied().chain([path]).collect();
    let context = format!("run {run}: kill after {kill_after} DELETEs and {then:?}");

    let mut child = env.spawn(&args);
    let started = Instant::now();
    let deletes = || fake.log().count_where(|r| r.method == Method::DELETE);
    let finished_before_kill = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if deletes() >= kill_after && has_plan_line(&journal) {
            break false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{context}: stuck"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    tokio::time::sleep(then).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    // A DELETE the fake had received when the CLI died completes there
    // (or never starts), as on GitHub: let it end before looking.
    tokio::time::sleep(DELETE_TAKES + Duration::from_millis(20)).await;
    let deleted_before_kill = deleted_in_fake(&fake).len();
    let possibly_deleted = ghcr::packages::JournalSummary::read(&journal)
        .unwrap_or_else(|error| panic!("{context}: {error}"))
        .possibly_deleted
        .len();

    let mut resume = args.clone();
    resume.splice(5..6, ["--resume"]);
    resume.insert(0, "--json");
    let resumed = env.run(&resume).await;
    resumed.ok();
    let json = resumed.json();
    assert_eq!(json["report"]["complete"], true, "{context}: {json:#}");
    assert_eq!(deleted_in_fake(&fake), planned, "{context}: {json:#}");
    let (deletes, _) = requests(&fake);
    for id in &planned {
        assert_eq!(deletes.get(id), Some(&1), "{context}: DELETEs of {id}");
    }
    assert_eq!(deletes.len(), LEFTOVERS, "{context}: {deletes:?}");
    let summary = &json["journal"];
    assert_eq!(ids(&summary["deleted"]), planned, "{context}: {summary:#}");
    assert!(ids(&summary["possibly_deleted"]).is_empty(), "{context}");

    let restored = env
        .run(&["--json", "versions", "restore", "--journal", path])
        .await;
    restored.ok();
    let json = restored.json();
    assert_eq!(ids(&json["restored"]), planned, "{context}: {json:#}");
    let (_, mut sorted) = requests(&fake);
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        planned.iter().copied().collect::<Vec<_>>(),
        "{context}: each deleted version restored once, no other"
    );
    assert!(deleted_in_fake(&fake).is_empty(), "{context}");
    Seen {
        deleted_before_kill,
        possibly_deleted,
        finished_before_kill,
    }
}

/// Whether the journal holds its whole first line (killed earlier, the run
/// deleted nothing and there is nothing to resume).
fn has_plan_line(journal: &Path) -> bool {
    std::fs::read(journal).is_ok_and(|bytes| bytes.contains(&b'\n'))
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_cleanup_at_seeded_points_then_resume_and_undo() {
    let slots = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut runs = tokio::task::JoinSet::new();
    for run in 0..RUNS {
        let mut rng = fastrand::Rng::with_seed(SEED + run as u64);
        let kill_after = rng.usize(0..=LEFTOVERS);
        let then = Duration::from_millis(rng.u64(0..350));
        let slots = slots.clone();
        runs.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            (
                kill_after,
                killed_resumed_and_undone(run, kill_after, then).await,
            )
        });
    }
    let mut seen = Vec::new();
    while let Some(done) = runs.join_next().await {
        seen.push(done.unwrap());
    }
    let killed_mid_delete = seen.iter().filter(|(_, s)| s.possibly_deleted > 0).count();
    let finished = seen.iter().filter(|(_, s)| s.finished_before_kill).count();
    let deleted: usize = seen.iter().map(|(_, s)| s.deleted_before_kill).sum();
    eprintln!(
        "{RUNS} runs: {killed_mid_delete} killed with a DELETE under way, {finished} finished before the kill, {deleted} of {} deletions made before the kill",
        RUNS * LEFTOVERS
    );
    // The seeds spread the kills over the whole run.
    let kill_points: BTreeSet<usize> = seen.iter().map(|(k, _)| *k).collect();
    assert_eq!(kill_points.len(), LEFTOVERS + 1, "{kill_points:?}");
}

/// A journal written by hand: version `live` was being deleted when the
/// run died, and its DELETE never arrived; `gone` was deleted.
fn journal_of(live: u64, gone: u64) -> String {
    let at = "2026-12-01T10:00:00Z";
    [
        format!(
            r#"{{"type":"plan","format":1,"owner":"octo","owner_kind":"user","package":"app","policy":"--only-untagged","planned_at":"{at}","delete":[{gone},{live}]}}"#
        ),
        format!(r#"{{"type":"intent","id":{gone},"digest":"sha256:00","at":"{at}"}}"#),
        format!(r#"{{"type":"outcome","id":{gone},"result":"deleted","at":"{at}"}}"#),
        format!(r#"{{"type":"intent","id":{live},"digest":"sha256:01","at":"{at}"}}"#),
    ]
    .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread")]
async fn restoring_a_version_that_was_not_deleted_is_harmless_and_said() {
    let fake = crate::support::fake().await;
    seed(&fake, "octo/app", Some("v1"), "release");
    let id = |layer: &str| {
        let digest = seed(&fake, "octo/app", None, layer);
        fake.store().version_id("octo/app", &digest).unwrap().0
    };
    let (live, gone) = (id("live"), id("gone"));
    let env = Env::fake(&fake);
    env.run(&["versions", "rm", "octo/app", &gone.to_string(), "--user"])
        .await
        .ok();
    let journal = env.home.path().join("by-hand.jsonl");
    std::fs::write(&journal, journal_of(live, gone)).unwrap();
    let path = journal.to_str().unwrap();
    env.run(&["versions", "restore", "--journal", path])
        .await
        .ok()
        .stdout_has(&format!("restored version {gone}"))
        .stdout_has(&format!("version {live} was not deleted after all"))
        .stderr_has("harmless");
    assert!(deleted_in_fake(&fake).is_empty());

    // Garbage in the middle: refused, naming the line; nothing restored.
    let mut text = journal_of(live, gone);
    text.insert_str(text.find('\n').unwrap() + 1, "not json\n");
    std::fs::write(&journal, text).unwrap();
    let before = fake.log().len();
    env.run(&["versions", "restore", "--journal", path])
        .await
        .code(1)
        .stderr_has("line 2 of the cleanup journal");
    assert_eq!(fake.log().len(), before, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_journal_goes_to_the_state_folder_and_resumes_only_its_own_policy() {
    let fake = crate::support::fake().await;
    seed(&fake, "octo/app", Some("v1"), "release");
    seed(&fake, "octo/app", None, "old build");
    let env = Env::fake(&fake);
    let run = env
        .run(&["cleanup", "octo/app", "--user", "--only-untagged", "--yes"])
        .await;
    run.ok().stderr_has("journal: ").stdout_has("journal: ");
    let folder = env.home.path().join(".local/state/ghcr/cleanup");
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let journal = files[0].as_ref().unwrap().path();
    assert!(run.stdout.contains(journal.to_str().unwrap()), "{run:#?}");
    let summary = ghcr::packages::JournalSummary::read(&journal).unwrap();
    assert_eq!(summary.deleted.len(), 1);

    // Another policy is a usage error, before anything is deleted.
    let resumed = env
        .run(&[
            "--json",
            "cleanup",
            "octo/app",
            "--user",
            "--keep-newest",
            "1",
            "--yes",
            "--resume",
            journal.to_str().unwrap(),
        ])
        .await;
    resumed.json_error(2, "usage");
    assert!(resumed.stderr.contains("--only-untagged"), "{resumed:#?}");
    // --resume deletes only with --yes.
    env.run(&["cleanup", "octo/app", "--resume", journal.to_str().unwrap()])
        .await
        .code(2);
}
