//! `ghcr serve` as a process: /health, /ready and /metrics answer, the
//! policies run on their schedule against the fake, and SIGTERM stops it
//! between deletions. A subprocess needs real time: everything here polls
//! with a deadline instead of sleeping a fixed while.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ghcr_sim::fake::FakeGhcr;
use http::Method;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

use crate::support::{Env, fake, fake_with_slow_deletes, seed, send_signal};

/// A running `ghcr serve` and the lines it logged.
struct Service {
    child: tokio::process::Child,
    log: Arc<Mutex<Vec<String>>>,
    address: String,
}

impl Service {
    async fn start(env: &Env, policies: &str, extra: &[&str]) -> (Self, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policies.toml");
        std::fs::write(&file, policies).unwrap();
        let file = file.display().to_string();
        let mut args = vec![
            "serve",
            "--policies",
            &file,
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
        ];
        args.extend(extra);
        let mut child = env.spawn(&args);
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let mut service = Self {
            child,
            log,
            address: String::new(),
        };
        let line = service.wait_for_log("listening on ").await;
        let rest = line.split("listening on ").nth(1).unwrap();
        service.address = rest.split(':').take(2).collect::<Vec<_>>().join(":");
        (service, dir)
    }

    async fn wait_for_log(&mut self, text: &str) -> String {
        let log = self.log.clone();
        until(&format!("a log line with {text:?}"), || {
            log.lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(text))
                .cloned()
        })
        .await
    }

    /// `GET path`: the status and the body.
    async fn get(&self, path: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(&self.address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Sends SIGTERM and waits for the exit code.
    async fn terminate(mut self) -> (i32, Vec<String>) {
        send_signal(&self.child, "TERM").await;
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("ghcr serve did not stop within 20 s of SIGTERM")
            .unwrap();
        // Let the reader catch the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let log = self.log.lock().unwrap().clone();
        (status.code().unwrap_or(-1), log)
    }
}

/// Polls `check` until it gives a value, failing after 20 s.
async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Pushes an untagged build created `days` ago.
fn old_build(fake: &FakeGhcr, n: usize, days: i64) {
    let store = fake.store();
    let image = store
        .push_image("octo/app", None, &[Bytes::from(format!("old build {n}"))])
        .unwrap();
    let id = store.version_id("octo/app", &image.manifest).unwrap();
    let created = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    store
        .set_version_created_at("octo/app", id, created)
        .unwrap();
}

fn live_versions(fake: &FakeGhcr) -> usize {
    fake.store()
        .versions("octo/app")
        .iter()
        .filter(|v| v.deleted_at.is_none())
        .count()
}

const POLICY: &str = r#"
[[policy]]
owner = "octo"
kind = "user"
package = "app"
only_untagged = true
keep_newer_than = "7d"
"#;

/// The fake with `octo/app`'s release and two untagged builds over a week
/// old (what POLICY deletes), and the settings to reach it.
async fn release_and_two_old_builds() -> (FakeGhcr, Env) {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "the release");
    old_build(&fake, 1, 10);
    old_build(&fake, 2, 9);
    let env = Env::fake(&fake);
    (fake, env)
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_probes_and_cleans_on_schedule() {
    let (fake, env) = release_and_two_old_builds().await;
    let (mut service, _dir) =
        Service::start(&env, &format!("interval = \"1s\"\n{POLICY}"), &[]).await;

    let (status, body) = service.get("/health").await;
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "registry": "ok", "token": "acquired", "api": "ok"})
    );
    assert_eq!(service.get("/ready").await.0, 200);
    assert_eq!(service.get("/nope").await.0, 404);

    until("the first run to delete both old builds", || {
        (live_versions(&fake) == 1).then_some(())
    })
    .await;
    service
        .wait_for_log("plan for package app of user octo: delete 2 of 3")
        .await;
    service.wait_for_log("2 deleted").await;
    // A later run, on the schedule, finds the next leftover.
    old_build(&fake, 3, 8);
    until("a scheduled run to delete the new leftover", || {
        (live_versions(&fake) == 1).then_some(())
    })
    .await;

    let (status, metrics) = service.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("ghcr_requests_total{"), "{metrics}");
    assert!(
        metrics.contains("ghcr_serve_versions_deleted_total 3"),
        "{metrics}"
    );
    let runs: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ghcr_serve_runs_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(runs >= 2, "{metrics}");

    let (code, log) = service.terminate().await;
    assert_eq!(code, 0, "{log:#?}");
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_between_deletions() {
    let fake = fake_with_slow_deletes().await;
    seed(&fake, "octo/app", Some("v1"), "the release");
    for n in 0..10 {
        old_build(&fake, n, 10);
    }
    let env = Env::fake(&fake);
    let (service, _dir) =
        Service::start(&env, &format!("interval = \"1h\"\n{POLICY}"), &["--json"]).await;
    let deletes = |fake: &FakeGhcr| fake.log().count_where(|r| r.method == Method::DELETE);
    until("the first deletion", || (deletes(&fake) >= 1).then_some(())).await;
    let (code, log) = service.terminate().await;
    assert_eq!(code, 0, "{log:#?}");
    let gone = 11 - live_versions(&fake);
    assert!(
        (1..10).contains(&gone),
        "stopped part way: {gone} deleted; {log:#?}"
    );
    assert_eq!(
        deletes(&fake),
        gone,
        "every DELETE that was sent completed, and no other was sent"
    );
    // --json logs one object a line, for log collectors.
    let stopped = log.iter().any(|line| {
        serde_json::from_str::<serde_json::Value>(line).is_ok_and(|entry| {
            entry["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("stopped between deletions"))
        })
    });
    assert!(stopped, "{log:#?}");
    // The versions left are not attempted, never failures.
    let summary = format!(
        "{} deleted, 1 kept, 0 failed, {} not attempted",
        gone,
        10 - gone
    );
    assert!(service_logged(&log, &summary), "{summary}: {log:#?}");
    assert!(!service_logged(&log, " failed: "), "{log:#?}");
}

fn service_logged(log: &[String], text: &str) -> bool {
    log.iter().any(|l| l.contains(text))
}

/// SIGTERM while a plan is being made (a listing that takes a minute):
/// planning only reads, so it is abandoned and the service exits at once.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_abandons_planning() {
    use ghcr_sim::fake::{Fault, Route};
    let listing = Route::new(Method::GET, "/users/octo/packages/container/app/versions");
    let fake = FakeGhcr::builder()
        .user(crate::support::USER, crate::support::TOKEN)
        .fault(Fault::delay(listing, Duration::from_secs(60)))
        .start()
        .await
        .unwrap();
    seed(&fake, "octo/app", Some("v1"), "the release");
    old_build(&fake, 1, 10);
    let env = Env::fake(&fake);
    let (service, _dir) = Service::start(&env, &format!("interval = \"1h\"\n{POLICY}"), &[]).await;
    until("the listing to start", || {
        (fake.faults().fired() > 0).then_some(())
    })
    .await;
    // Within terminate's 20 s, far less than the listing's minute.
    let (code, log) = service.terminate().await;
    assert_eq!(code, 0, "{log:#?}");
    assert!(
        service_logged(&log, "was abandoned; nothing was deleted"),
        "{log:#?}"
    );
    assert_eq!(fake.log().count_where(|r| r.method == Method::DELETE), 0);
    assert_eq!(live_versions(&fake), 2);
}

/// `serve --once` with `policies`: the run, its policy file kept alive.
async fn once(env: &Env, policies: &str) -> crate::support::Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policies.toml");
    std::fs::write(&file, policies).unwrap();
    env.run(&["serve", "--policies", &file.display().to_string(), "--once"])
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn once_runs_every_policy_and_exits() {
    let (fake, env) = release_and_two_old_builds().await;
    // A dry run plans and deletes nothing.
    once(
        &env,
        &format!("interval = \"1h\"\ndry_run = true\n{POLICY}"),
    )
    .await
    .ok()
    .stderr_has("plan for package app of user octo: delete 2 of 3");
    assert_eq!(live_versions(&fake), 3);
    assert_eq!(fake.log().count_where(|r| r.method == Method::DELETE), 0);

    let run = once(
        &env,
        &format!("interval = \"1h\"\ndry_run = false\n{POLICY}"),
    )
    .await;
    run.ok()
        .stderr_has("plan for package app of user octo: delete 2 of 3")
        .stderr_has("2 deleted");
    assert_eq!(live_versions(&fake), 1, "{}", run.stderr);
    let left = fake.store().versions("octo/app");
    let left: Vec<_> = left.iter().filter(|v| v.deleted_at.is_none()).collect();
    assert_eq!(left[0].tags, ["v1"], "the release is kept");
    // No listener was opened.
    assert!(!run.stderr.contains("listening on"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn once_fails_when_a_policy_cannot_be_planned() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "the release");
    old_build(&fake, 1, 10);
    let env = Env::fake(&fake);
    // The first policy names a package that does not exist; the second
    // still runs.
    let policies = format!(
        "interval = \"1h\"\n[[policy]]\nowner = \"octo\"\nkind = \"user\"\npackage = \"no-such-package\"\nonly_untagged = true\n{POLICY}"
    );
    let run = once(&env, &policies).await;
    run.code(3)
        .stderr_has("no-such-package")
        .stderr_has("error: 1 policy or package plan(s) failed");
    assert_eq!(
        live_versions(&fake),
        1,
        "the other policy ran: {}",
        run.stderr
    );
    let json = {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policies.toml");
        std::fs::write(&file, &policies).unwrap();
        env.run(&[
            "--json",
            "serve",
            "--policies",
            &file.display().to_string(),
            "--once",
        ])
        .await
    };
    json.json_error(3, "not_found");
}
