//! Stopping a cleanup run from outside (`execute_cleanup_until`): the
//! deletion under way completes and is reported, no other DELETE is sent,
//! and the versions left are "not attempted (stopped)", never failures.

use std::time::Duration;

use ghcr_packages::{CleanupReport, Outcome, RetentionPolicy};
use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use ghcr_types::Owner;
use http::Method;

use crate::support::{self, USER};

const LEFTOVERS: usize = 6;

fn deletes(fake: &FakeGhcr) -> usize {
    fake.log().count_where(|r| r.method == Method::DELETE)
}

fn live(fake: &FakeGhcr) -> usize {
    fake.store()
        .versions("octo/app")
        .iter()
        .filter(|v| v.deleted_at.is_none())
        .count()
}

/// A tagged release and [`LEFTOVERS`] untagged builds, and the plan
/// deleting the builds.
async fn planned(env: &support::Env) -> ghcr_packages::CleanupPlan {
    env.fake
        .store()
        .push_image("octo/app", Some("v1"), &[bytes::Bytes::from_static(b"v1")])
        .unwrap();
    env.push_untagged("octo/app", LEFTOVERS);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = env
        .client
        .plan_cleanup(&Owner::user(USER), "app", &policy)
        .await
        .unwrap();
    assert_eq!(plan.to_delete().count(), LEFTOVERS);
    plan
}

/// Exactly one deletion made, the others stopped, nothing failed.
fn assert_stopped_after_one(report: &CleanupReport) {
    assert_eq!(report.deleted().len(), 1, "{report}");
    assert!(report.failed().is_empty(), "{report}");
    let stopped = report
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Stopped)
        .count();
    assert_eq!(stopped, LEFTOVERS - 1, "{report}");
    assert_eq!(report.skipped().len(), LEFTOVERS - 1);
    assert!(report.was_stopped());
    assert!(!report.is_complete());
    assert!(
        report.to_string().contains("not attempted (stopped)"),
        "{report}"
    );
    // Only the deletion made can be restored.
    assert_eq!(report.restore_hint().ids, report.deleted());
}

#[tokio::test]
async fn a_stop_during_a_delete_lets_it_finish_and_starts_no_other() {
    // Each DELETE takes 300 ms; the stop comes while the first is on its way.
    let fake = support::accounts().fault(Fault::delay(
        Route::new(
            Method::DELETE,
            "/users/octo/packages/container/app/versions/*",
        ),
        Duration::from_millis(300),
    ));
    let env = support::start(fake).await;
    let plan = planned(&env).await;
    let faults = env.fake.faults().clone();
    let stop = async move {
        while faults.fired() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let report = env.client.execute_cleanup_until(&plan, stop).await;
    assert_stopped_after_one(&report);
    assert_eq!(deletes(&env.fake), 1, "one DELETE sent, and it completed");
    assert_eq!(live(&env.fake), LEFTOVERS);
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_the_wait_for_the_pace() {
    let env = support::start(support::accounts()).await;
    let plan = planned(&env).await;
    // 5 points a minute: one DELETE, then a minute's wait for the next.
    let transport = support::transport(&env.fake, USER, support::TOKEN)
        .build()
        .unwrap();
    let slow = support::client_with(&env.fake, transport, 5);
    let started = tokio::time::Instant::now();
    let report = slow
        .execute_cleanup_until(&plan, tokio::time::sleep(Duration::from_secs(10)))
        .await;
    assert_stopped_after_one(&report);
    assert_eq!(deletes(&env.fake), 1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run waited out the pace instead of stopping: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stop_before_the_run_deletes_nothing_and_a_rerun_finishes() {
    let env = support::start(support::accounts()).await;
    let plan = planned(&env).await;
    let report = env
        .client
        .execute_cleanup_until(&plan, std::future::ready(()))
        .await;
    assert!(report.deleted().is_empty(), "{report}");
    assert!(report.failed().is_empty(), "{report}");
    assert_eq!(report.skipped().len(), LEFTOVERS);
    assert_eq!(deletes(&env.fake), 0);
    // The kept release is reported as kept, not as stopped.
    assert_eq!(report.kept().len(), 1);
    let again = env.client.execute_cleanup(&plan).await;
    assert_eq!(again.deleted().len(), LEFTOVERS, "{again}");
    assert!(again.is_complete());
}
