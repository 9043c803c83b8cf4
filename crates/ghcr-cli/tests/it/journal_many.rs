//! `cleanup OWNER --package '*' --yes` over several packages, killed with
//! SIGKILL at seeded points: `--resume` of its journal folder finishes the
//! run with exactly one DELETE per planned version (the fake's request log
//! counts them), and `versions restore --journal` of the folder brings
//! back exactly the versions deleted, each once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use http::Method;

use crate::support::{Env, TOKEN, USER, seed};

/// The packages, each a tagged release and [`LEFTOVERS`] untagged builds.
const PACKAGES: [&str; 3] = ["app-api", "app-web", "app-worker"];
const LEFTOVERS: usize = 2;
const PLANNED: usize = PACKAGES.len() * LEFTOVERS;
/// Seeded runs, each against its own fake, [`AT_ONCE`] at a time: each
/// mostly waits on the CLI's pace (a DELETE, and a restore, every 334 ms).
const RUNS: usize = 6;
const AT_ONCE: usize = 3;
const SEED: u64 = 0x5eed_0a11;
/// How long the fake takes over a DELETE: a kill can land while one is on its way.
const DELETE_TAKES: Duration = Duration::from_millis(40);

const CLEANUP: [&str; 7] = [
    "cleanup",
    "octo",
    "--user",
    "--package",
    "*",
    "--only-untagged",
    "--yes",
];

/// Each id's DELETEs, and each id's restores.
fn requests(fake: &FakeGhcr) -> (BTreeMap<u64, usize>, BTreeMap<u64, usize>) {
    let id_at = |path: &str, at: usize| -> u64 {
        path.rsplit('/')
            .nth(at)
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("no id in {path}"))
    };
    let (mut deletes, mut restores) = (BTreeMap::new(), BTreeMap::new());
    for request in fake.log().entries() {
        if request.method == Method::DELETE {
            *deletes.entry(id_at(&request.path, 0)).or_default() += 1;
        } else if request.method == Method::POST && request.path.ends_with("/restore") {
            *restores.entry(id_at(&request.path, 1)).or_default() += 1;
        }
    }
    (deletes, restores)
}

fn deleted_in_fake(fake: &FakeGhcr) -> BTreeSet<u64> {
    PACKAGES
        .iter()
        .flat_map(|package| fake.store().versions(&format!("octo/{package}")))
        .filter(|v| v.deleted_at.is_some())
        .map(|v| v.id.0)
        .collect()
}

/// Whether every package's journal in `folder` holds its whole plan line
/// (killed earlier, the run deleted nothing and left nothing to resume).
fn has_plan_lines(folder: &Path) -> bool {
    PACKAGES.iter().all(|package| {
        std::fs::read(folder.join(format!("{package}.jsonl")))
            .is_ok_and(|bytes| bytes.contains(&b'\n'))
    })
}

/// Seeds the packages; the untagged builds' ids, which the run deletes.
fn seed_packages(fake: &FakeGhcr) -> BTreeSet<u64> {
    let mut planned = BTreeSet::new();
    for package in PACKAGES {
        let repository = format!("octo/{package}");
        seed(fake, &repository, Some("v1"), &format!("{package} release"));
        for n in 0..LEFTOVERS {
            let digest = seed(fake, &repository, None, &format!("{package} build {n}"));
            planned.insert(fake.store().version_id(&repository, &digest).unwrap().0);
        }
    }
    planned
}

/// One run: kill the cleanup once the fake has answered `kill_after`
/// DELETEs and `then` has passed, resume it, check, undo it, check; how
/// many versions were deleted before the kill.
async fn killed_resumed_and_undone(run: usize, kill_after: usize, then: Duration) -> usize {
    let fake = FakeGhcr::builder()
        .user(USER, TOKEN)
        .fault(Fault::delay(
            Route::new(Method::DELETE, "/users/*"),
            DELETE_TAKES,
        ))
        .start()
        .await
        .unwrap();
    let planned = seed_packages(&fake);
    let env = Env::fake(&fake);
    let folder = env.home.path().join("run");
    let folder_text = folder.to_str().unwrap();
    let context = format!("run {run}: kill after {kill_after} DELETEs and {then:?}");

    let mut first: Vec<&str> = CLEANUP.to_vec();
    first.extend(["--journal", folder_text]);
    let mut child = env.spawn(&first);
    let started = Instant::now();
    let deletes = || fake.log().count_where(|r| r.method == Method::DELETE);
    loop {
        if child.try_wait().unwrap().is_some()
            || (deletes() >= kill_after && has_plan_lines(&folder))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{context}: stuck"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(then).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    // A DELETE the fake had received when the CLI died completes there.
    tokio::time::sleep(DELETE_TAKES + Duration::from_millis(20)).await;
    let deleted_before_kill = deleted_in_fake(&fake).len();

    let mut resume = vec!["--json"];
    resume.extend(CLEANUP);
    resume.extend(["--resume", folder_text]);
    let resumed = env.run(&resume).await;
    let json = resumed.ok().json();
    let reports = json["reports"].as_array().unwrap();
    assert_eq!(reports.len(), PACKAGES.len(), "{context}: {json:#}");
    for report in reports {
        assert_eq!(report["complete"], true, "{context}: {report:#}");
    }
    assert_eq!(deleted_in_fake(&fake), planned, "{context}: {json:#}");
    let (deletes, _) = requests(&fake);
    assert_eq!(
        deletes.keys().copied().collect::<BTreeSet<_>>(),
        planned,
        "{context}"
    );
    assert!(
        deletes.values().all(|n| *n == 1),
        "{context}: DELETEs per id {deletes:?}"
    );

    let restored = env
        .run(&["--json", "versions", "restore", "--journal", folder_text])
        .await;
    let json = restored.ok().json();
    let journals = json["journals"].as_array().unwrap();
    assert_eq!(journals.len(), PACKAGES.len(), "{context}: {json:#}");
    let said: BTreeSet<u64> = journals
        .iter()
        .flat_map(|j| j["restored"].as_array().unwrap().iter())
        .map(|id| id.as_u64().unwrap())
        .collect();
    assert_eq!(said, planned, "{context}: {json:#}");
    let (_, posts) = requests(&fake);
    assert_eq!(
        posts,
        planned
            .iter()
            .map(|id| (*id, 1))
            .collect::<BTreeMap<_, _>>(),
        "{context}: each deleted version restored once, no other"
    );
    assert!(deleted_in_fake(&fake).is_empty(), "{context}");
    deleted_before_kill
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_a_many_package_cleanup_then_resume_and_undo() {
    let slots = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut runs = tokio::task::JoinSet::new();
    let mut kill_points = BTreeSet::new();
    for run in 0..RUNS {
        let mut rng = fastrand::Rng::with_seed(SEED + run as u64);
        // Spread over the run: before any DELETE, in each package, after the last.
        let kill_after = (run * PLANNED / (RUNS - 1)).min(PLANNED);
        let then = Duration::from_millis(rng.u64(0..350));
        kill_points.insert(kill_after);
        let slots = slots.clone();
        runs.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            killed_resumed_and_undone(run, kill_after, then).await
        });
    }
    let mut deleted = 0;
    while let Some(done) = runs.join_next().await {
        deleted += done.unwrap();
    }
    eprintln!(
        "{RUNS} runs killed after {kill_points:?} DELETEs: {deleted} of {} deletions made before the kill",
        RUNS * PLANNED
    );
    assert_eq!(kill_points.len(), RUNS, "{kill_points:?}");
}
