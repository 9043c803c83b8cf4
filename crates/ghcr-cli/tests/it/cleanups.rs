//! `cleanup OWNER --package GLOB...`: one plan over the packages the globs
//! choose (and none other), one journal folder, one undo for all of it,
//! and a resume that deletes nothing twice.

use std::collections::{BTreeMap, BTreeSet};

use ghcr_sim::fake::FakeGhcr;
use http::Method;

use crate::support::{Env, fake, seed};

/// The packages seeded, with the untagged builds of each.
const PACKAGES: [(&str, usize); 4] = [
    ("app-web", 2),
    ("app-api", 1),
    ("app-legacy", 2),
    ("tools", 1),
];

/// Seeds every package with a tagged release and its untagged builds;
/// returns each package's untagged version ids.
fn seed_packages(fake: &FakeGhcr) -> BTreeMap<&'static str, BTreeSet<u64>> {
    PACKAGES
        .iter()
        .map(|(package, builds)| {
            let repository = format!("octo/{package}");
            seed(fake, &repository, Some("v1"), &format!("{package} release"));
            let ids = (0..*builds)
                .map(|n| {
                    let digest = seed(fake, &repository, None, &format!("{package} build {n}"));
                    fake.store().version_id(&repository, &digest).unwrap().0
                })
                .collect();
            (*package, ids)
        })
        .collect()
}

fn deleted(fake: &FakeGhcr, package: &str) -> BTreeSet<u64> {
    fake.store()
        .versions(&format!("octo/{package}"))
        .into_iter()
        .filter(|v| v.deleted_at.is_some())
        .map(|v| v.id.0)
        .collect()
}

fn deletes_per_id(fake: &FakeGhcr) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for request in fake.log().entries() {
        if request.method == Method::DELETE {
            let id = request.path.rsplit('/').next().unwrap().parse().unwrap();
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}

const SELECT: [&str; 7] = [
    "cleanup",
    "octo",
    "--user",
    "--package",
    "app-*",
    "--package",
    "!app-legacy",
];

#[tokio::test(flavor = "multi_thread")]
async fn globs_choose_the_packages_and_one_folder_undoes_the_run() {
    let fake = fake().await;
    let seeded = seed_packages(&fake);
    let env = Env::fake(&fake);

    // The plan: app-api and app-web only, in name order; nothing deleted.
    let mut plan: Vec<&str> = vec!["--json"];
    plan.extend(SELECT);
    plan.push("--only-untagged");
    let planned = env.run(&plan).await;
    planned.ok();
    let json = planned.json();
    assert_eq!(json["executed"], false);
    let names: Vec<&str> = json["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["package"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app-api", "app-web"], "{json:#}");
    assert_eq!(fake.log().count_where(|r| r.method == Method::DELETE), 0);

    // --yes: exactly the untagged builds of the chosen packages go.
    let folder = env.home.path().join("run");
    let folder_text = folder.to_str().unwrap();
    let mut yes = plan.clone();
    yes.extend(["--yes", "--journal", folder_text]);
    let ran = env.run(&yes).await;
    ran.ok();
    let json = ran.json();
    assert_eq!(json["deleted"], 3, "{json:#}");
    assert_eq!(json["journal"], folder_text);
    for (package, ids) in &seeded {
        let expected = if package.starts_with("app-") && *package != "app-legacy" {
            ids.clone()
        } else {
            BTreeSet::new()
        };
        assert_eq!(deleted(&fake, package), expected, "{package}");
    }
    let journals: BTreeSet<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        journals,
        BTreeSet::from(["app-api.jsonl".into(), "app-web.jsonl".into()])
    );

    // --resume on the finished folder deletes nothing again.
    let mut resume = plan.clone();
    resume.extend(["--yes", "--resume", folder_text]);
    env.run(&resume).await.ok();
    assert!(
        deletes_per_id(&fake).values().all(|n| *n == 1),
        "{:?}",
        deletes_per_id(&fake)
    );
    assert_eq!(deletes_per_id(&fake).len(), 3);

    // One undo for the whole run.
    let restored = env
        .run(&["--json", "versions", "restore", "--journal", folder_text])
        .await;
    restored.ok();
    let json = restored.json();
    let count: usize = json["journals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["restored"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, 3, "{json:#}");
    for (package, _) in PACKAGES {
        assert!(deleted(&fake, package).is_empty(), "{package}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_needs_globs_and_a_glob_must_choose_something() {
    let fake = fake().await;
    seed_packages(&fake);
    let env = Env::fake(&fake);
    env.run(&["cleanup", "octo", "--user", "--only-untagged"])
        .await
        .code(2)
        .stderr_has("--package GLOB");
    env.run(&[
        "cleanup",
        "octo/app-web",
        "--user",
        "--package",
        "*",
        "--only-untagged",
    ])
    .await
    .code(2)
    .stderr_has("not both");
    env.run(&[
        "cleanup",
        "octo",
        "--user",
        "--package",
        "nothing-*",
        "--only-untagged",
    ])
    .await
    .code(3)
    .stderr_has("matches `nothing-*`");
    env.run(&[
        "cleanup",
        "octo",
        "--user",
        "--package",
        "a b",
        "--only-untagged",
    ])
    .await
    .code(2)
    .stderr_has("no package name has");
    // `*` and an exclusion: every package but tools, tagged releases kept.
    let all = env
        .run(&[
            "--json",
            "cleanup",
            "octo",
            "--user",
            "--package",
            "*",
            "--package",
            "!tools",
            "--only-untagged",
        ])
        .await;
    all.ok();
    assert_eq!(all.json()["plans"].as_array().unwrap().len(), 3);
}

/// A package of `pr-N` builds and untagged leftovers: a policy deleting
/// both deletes every version, and GitHub keeps the last tagged one.
fn seed_previews(fake: &FakeGhcr, repository: &str, also_release: bool) {
    for n in 1..=2 {
        seed(
            fake,
            repository,
            Some(&format!("pr-{n}")),
            &format!("{repository} pr {n}"),
        );
    }
    seed(fake, repository, None, &format!("{repository} leftover"));
    if also_release {
        seed(
            fake,
            repository,
            Some("v1"),
            &format!("{repository} release"),
        );
    }
}

fn active(fake: &FakeGhcr, repository: &str) -> usize {
    fake.store()
        .versions(repository)
        .into_iter()
        .filter(|v| v.deleted_at.is_none())
        .count()
}

const EVERYTHING: [&str; 5] = [
    "--user",
    "--only-untagged",
    "--only-tags-matching",
    "pr-\\d+",
    "--delete-package",
];

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_that_deletes_every_version_deletes_the_package_only_when_asked() {
    let fake = fake().await;
    seed_previews(&fake, "octo/preview", false);
    let env = Env::fake(&fake);

    // Without the flag the plan says what GitHub refuses and how to go on.
    env.run(&[
        "cleanup",
        "octo/preview",
        "--user",
        "--only-untagged",
        "--only-tags-matching",
        "pr-\\d+",
    ])
    .await
    .ok()
    .stdout_has("keeps a package's last tagged version: add --delete-package");
    let mut args = vec!["--json", "cleanup", "octo/preview"];
    args.extend(EVERYTHING);
    let planned = env.run(&args).await;
    assert_eq!(planned.ok().json()["plan"]["deletes_everything"], true);
    assert_eq!(active(&fake, "octo/preview"), 3, "a plan deletes nothing");

    args.push("--yes");
    let ran = env.run(&args).await;
    let json = ran.ok().json();
    assert_eq!(json["package_deleted"]["versions"], 3, "{json:#}");
    assert_eq!(
        json["package_deleted"]["restore"],
        "ghcr packages restore octo/preview"
    );
    let deletes = fake.log().count_where(|r| r.method == Method::DELETE);
    assert_eq!(deletes, 1, "one DELETE, of the package");
    env.run(&["versions", "ls", "octo/preview", "--user"])
        .await
        .code(3);

    env.run(&["packages", "restore", "octo/preview", "--user"])
        .await
        .ok()
        .stdout_has("restored package preview");
    assert_eq!(active(&fake, "octo/preview"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn many_packages_delete_whole_only_those_the_policy_empties_and_undo_together() {
    let fake = fake().await;
    seed_previews(&fake, "octo/pr-a", false);
    seed_previews(&fake, "octo/pr-b", true);
    let env = Env::fake(&fake);
    let folder = env.home.path().join("run");
    let folder_text = folder.to_str().unwrap();
    let mut args = vec!["--json", "cleanup", "octo", "--package", "pr-*"];
    args.extend(EVERYTHING);
    args.extend(["--yes", "--journal", folder_text]);
    let ran = env.run(&args).await;
    let json = ran.ok().json();
    let whole: Vec<&str> = json["packages_deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["package"].as_str().unwrap())
        .collect();
    assert_eq!(whole, ["pr-a"], "{json:#}");
    // pr-b keeps v1, so only its previews and leftover went, one by one.
    assert_eq!(json["deleted"], 3 + 3, "{json:#}");
    assert_eq!(active(&fake, "octo/pr-b"), 1);
    assert!(folder.join("pr-a.package.json").is_file());
    assert!(folder.join("pr-b.jsonl").is_file());

    let restored = env
        .run(&["--json", "versions", "restore", "--journal", folder_text])
        .await;
    let json = restored.ok().json();
    assert_eq!(
        json["packages_restored"],
        serde_json::json!(["pr-a"]),
        "{json:#}"
    );
    assert_eq!(active(&fake, "octo/pr-a"), 3);
    assert_eq!(active(&fake, "octo/pr-b"), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_stopped_in_its_first_package_is_finished_by_resuming_its_folder() {
    use std::time::{Duration, Instant};

    let fake = crate::support::fake_with_slow_deletes().await;
    let mut planned = BTreeSet::new();
    for package in ["app-api", "app-web"] {
        let repository = format!("octo/{package}");
        seed(
            &fake,
            &repository,
            Some("v1"),
            &format!("{package} release"),
        );
        for n in 0..3 {
            let digest = seed(&fake, &repository, None, &format!("{package} build {n}"));
            planned.insert(fake.store().version_id(&repository, &digest).unwrap().0);
        }
    }
    let env = Env::fake(&fake);
    let folder = env.home.path().join("run");
    let folder_text = folder.to_str().unwrap();
    let run = [
        "cleanup",
        "octo",
        "--user",
        "--package",
        "app-*",
        "--only-untagged",
        "--yes",
    ];
    let mut first: Vec<&str> = run.to_vec();
    first.extend(["--journal", folder_text]);
    let child = env.spawn(&first);
    let started = Instant::now();
    while fake.faults().fired() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no DELETE was sent"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crate::support::send_signal(&child, "INT").await;
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the run did not stop within 20 s of Ctrl-C")
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fake.log().count_where(|r| r.method == Method::DELETE), 1);
    // Both packages' journals were written before that first DELETE.
    assert!(folder.join("app-api.jsonl").is_file() && folder.join("app-web.jsonl").is_file());

    let mut resume = vec!["--json"];
    resume.extend(run);
    resume.extend(["--resume", folder_text]);
    let resumed = env.run(&resume).await;
    let json = resumed.ok().json();
    assert_eq!(json["reports"].as_array().unwrap().len(), 2, "{json:#}");
    let deletes = deletes_per_id(&fake);
    assert_eq!(deletes.keys().copied().collect::<BTreeSet<_>>(), planned);
    assert!(deletes.values().all(|n| *n == 1), "{deletes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_that_cannot_be_planned_is_reported_and_the_others_go_on() {
    use ghcr_sim::fake::{Fault, Route};

    let fake = fake().await;
    let seeded = seed_packages(&fake);
    fake.faults().add(Fault::fail(
        Route::new(Method::GET, "*/packages/container/app-api/versions"),
        http::StatusCode::FORBIDDEN,
    ));
    let env = Env::fake(&fake);
    let mut args = vec!["--json"];
    args.extend(SELECT);
    args.extend(["--only-untagged", "--yes", "--journal"]);
    let folder = env.home.path().join("run");
    args.push(folder.to_str().unwrap());
    let ran = env.run(&args).await;
    let json = ran.code(1).json();
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json:#}");
    assert_eq!(errors[0]["package"], "app-api");
    assert!(
        errors[0]["error"].as_str().unwrap().contains("403"),
        "{json:#}"
    );
    assert_eq!(json["deleted"], 2, "app-web's builds went: {json:#}");
    assert_eq!(deleted(&fake, "app-web"), seeded["app-web"]);
    assert!(deleted(&fake, "app-api").is_empty());
}
