//! A cleanup of 500 versions under GitHub's secondary limit (403 with
//! `retry-after`) and 429 storms, with a journal: every planned version
//! ends deleted, failed with a reason, or not attempted; the journal says
//! the same as the report; a resumed run finishes the rest; no version is
//! deleted twice (the fake's request log counts the DELETEs of each id).
//! Time is virtual, so the waits cost nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ghcr_packages::{CleanupReport, Journal, JournalSummary, Outcome, RetentionPolicy};
use ghcr_sim::fake::{FakeGhcr, Fault, Route};
use ghcr_types::{Owner, PackageVersionId};
use http::{Method, StatusCode};

use crate::support::{self, USER};

const VERSIONS: usize = 500;
const DELETES: &str = "/users/octo/packages/container/app/versions/*";

/// Each id's DELETE requests, by the status the fake answered.
fn deletes_by_id(fake: &FakeGhcr) -> BTreeMap<u64, Vec<StatusCode>> {
    let mut by_id: BTreeMap<u64, Vec<StatusCode>> = BTreeMap::new();
    for request in fake.log().entries() {
        if request.method != Method::DELETE {
            continue;
        }
        let id = request
            .path
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok());
        by_id.entry(id.unwrap()).or_default().push(request.status);
    }
    by_id
}

fn deleted_in_fake(fake: &FakeGhcr) -> BTreeSet<PackageVersionId> {
    fake.store()
        .versions("octo/app")
        .into_iter()
        .filter(|v| v.deleted_at.is_some())
        .map(|v| v.id)
        .collect()
}

fn set(ids: impl IntoIterator<Item = PackageVersionId>) -> BTreeSet<PackageVersionId> {
    ids.into_iter().collect()
}

/// Each id carried out by the fake at most once.
#[track_caller]
fn none_deleted_twice(fake: &FakeGhcr) {
    for (id, statuses) in deletes_by_id(fake) {
        let done = statuses.iter().filter(|s| s.is_success()).count();
        assert!(done <= 1, "version {id} deleted {done} times: {statuses:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn secondary_limits_during_a_cleanup_of_500_versions() {
    // 60 DELETEs a minute per endpoint before GitHub's 403; the client
    // itself does not pace, so it runs into the limit over and over.
    let env = support::start(support::accounts().secondary_rate_limit(300)).await;
    // The transport waits out up to 10 minutes per answer (60 s, then
    // doubling, for a 429 without Retry-After): two 429 storms are waited
    // out; a third, of five in a row, outlasts it and stops the run.
    let transport = support::transport(&env.fake, USER, support::TOKEN)
        .max_rate_limit_wait(Duration::from_secs(600))
        .build()
        .unwrap();
    let client = support::client_with(&env.fake, transport, 6_000_000);
    let route = || Route::new(Method::DELETE, DELETES);
    for (skip, count) in [(40, 2), (150, 3), (450, 5)] {
        env.fake
            .faults()
            .add(Fault::too_many_requests(route(), count).skip(skip));
    }

    let owner = Owner::user(USER);
    let policy = support::only_untagged();
    let plan = env.release_and_leftovers(&client, VERSIONS).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cleanup.jsonl");
    let mut journal = Journal::create(&path, &plan).unwrap();
    let started = tokio::time::Instant::now();
    let report = client
        .execute_cleanup_with_journal(&plan, &mut journal, std::future::pending())
        .await;
    drop(journal);
    assert!(
        started.elapsed() > Duration::from_secs(60),
        "the secondary limit was never waited out: {:?}",
        started.elapsed()
    );

    // Every planned version ends in exactly one of three ways.
    let planned = set(plan.to_delete().map(|e| e.version.id));
    let mut ended = BTreeSet::new();
    for entry in report
        .entries
        .iter()
        .filter(|e| planned.contains(&e.version.id))
    {
        match &entry.outcome {
            Outcome::Deleted(_) | Outcome::Skipped { .. } => {}
            Outcome::Failed(failure) => assert!(!failure.reason.is_empty(), "{report}"),
            other => panic!("version {} ended {other}", entry.version.id),
        }
        assert!(ended.insert(entry.version.id), "{} twice", entry.version.id);
    }
    assert_eq!(ended, planned);
    let failed = report.failed();
    assert_eq!(failed.len(), 1, "{}: {failed:?}", report.headline());
    assert!(
        failed[0].reason.contains("rate limit"),
        "{}",
        failed[0].reason
    );
    assert!(!report.skipped().is_empty(), "{}", report.headline());
    assert!(report.deleted().len() > 300, "{}", report.headline());
    assert_eq!(set(report.deleted()), deleted_in_fake(&env.fake));
    let answered = |status: StatusCode| {
        deletes_by_id(&env.fake)
            .values()
            .flatten()
            .filter(|s| **s == status)
            .count()
    };
    // About one secondary-limit 403 per 60 deletions, and every 429 injected.
    let forbidden = answered(StatusCode::FORBIDDEN);
    assert!(forbidden >= 5, "only {forbidden} secondary-limit 403s");
    assert_eq!(answered(StatusCode::TOO_MANY_REQUESTS), 2 + 3 + 5);
    none_deleted_twice(&env.fake);

    // The journal says what the report says.
    let summary = JournalSummary::read(&path).unwrap();
    assert_journal_matches(&summary, &report);

    // Resumed: the rest is deleted, nothing the journal shows deleted is
    // sent a DELETE again.
    env.fake.faults().clear();
    let before = deletes_by_id(&env.fake);
    let resumed = client
        .resume_cleanup_until(&path, &owner, "app", &policy, std::future::pending())
        .await
        .unwrap();
    assert!(resumed.is_complete(), "{}", resumed.headline());
    let after = deletes_by_id(&env.fake);
    for id in &summary.deleted {
        assert_eq!(
            before.get(&id.0),
            after.get(&id.0),
            "version {id} sent again"
        );
    }
    none_deleted_twice(&env.fake);
    let summary = JournalSummary::read(&path).unwrap();
    assert_eq!(set(summary.deleted.iter().copied()), planned);
    assert!(summary.possibly_deleted.is_empty() && summary.not_attempted.is_empty());
    assert_eq!(deleted_in_fake(&env.fake), planned);
}

#[track_caller]
fn assert_journal_matches(summary: &JournalSummary, report: &CleanupReport) {
    assert_eq!(set(summary.deleted.iter().copied()), set(report.deleted()));
    assert_eq!(
        set(summary.failed.iter().map(|f| f.id)),
        set(report.failed().iter().map(|f| f.id))
    );
    assert_eq!(
        set(summary.not_attempted.iter().copied()),
        set(report.skipped())
    );
    assert!(summary.possibly_deleted.is_empty());
    assert!(summary.already_gone.is_empty());
}

/// A DELETE whose every answer was lost, and whose version could not be
/// read back: the journal says "possibly deleted". Resuming reads it (gone:
/// deleted), sends it no DELETE, and deletes the rest.
#[tokio::test(start_paused = true)]
async fn a_resumed_run_settles_a_lost_answer_and_sends_it_no_delete() {
    let env = support::start(support::accounts()).await;
    let owner = Owner::user(USER);
    let policy = support::only_untagged();
    let plan = env.release_and_leftovers(&env.client, 4).await;
    let route = |method| Route::new(method, DELETES);
    env.fake
        .faults()
        .add(Fault::lose_answer(route(Method::DELETE), StatusCode::BAD_GATEWAY).times(4));
    env.fake
        .faults()
        .add(Fault::fail(route(Method::GET), StatusCode::BAD_GATEWAY).times(4));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cleanup.jsonl");
    let mut journal = Journal::create(&path, &plan).unwrap();
    let report = env
        .client
        .execute_cleanup_with_journal(&plan, &mut journal, std::future::pending())
        .await;
    drop(journal);
    assert_eq!(report.failed().len(), 1, "{report}");
    let lost = report.failed()[0].id;
    let summary = JournalSummary::read(&path).unwrap();
    assert_eq!(summary.possibly_deleted, [lost], "{report}");
    assert!(summary.deleted.is_empty(), "{report}");
    assert_eq!(summary.undo(), [lost]);

    let sent = deletes_by_id(&env.fake)[&lost.0].len();
    let resumed = env
        .client
        .resume_cleanup_until(&path, &owner, "app", &policy, std::future::pending())
        .await
        .unwrap();
    assert!(resumed.is_complete(), "{resumed}");
    assert_eq!(deletes_by_id(&env.fake)[&lost.0].len(), sent, "sent again");
    none_deleted_twice(&env.fake);
    let summary = JournalSummary::read(&path).unwrap();
    assert_eq!(summary.deleted.len(), 4);
    assert!(summary.possibly_deleted.is_empty());
    assert_eq!(
        set(summary.deleted.iter().copied()),
        deleted_in_fake(&env.fake)
    );

    // Another policy, or another package, is refused before anything is sent.
    let other = RetentionPolicy::builder().keep_newest(1).build().unwrap();
    let error = env
        .client
        .resume_cleanup_until(&path, &owner, "app", &other, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ghcr_packages::Error::JournalMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--only-untagged"), "{error}");
}
