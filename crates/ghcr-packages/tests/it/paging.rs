//! Requests under failure and load: a 500 in the middle of a huge package
//! (retried, then a resumable cursor), rate-limit headers slowing the
//! client, a secondary-limit 403 waited out, and deletes and restores paced
//! within the fake's own secondary limit. Time is virtual.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use ghcr_packages::{Error, RetentionPolicy, VersionState};
use ghcr_sim::fake::{Fault, FaultAction, Route};
use ghcr_types::Owner;
use http::{Method, StatusCode};
use tokio::time::Instant;

use crate::support::{self, ORG};

fn versions_route(package: &str) -> Route {
    Route::new(
        Method::GET,
        &format!("/orgs/{ORG}/packages/container/{package}/versions"),
    )
}

#[tokio::test(start_paused = true)]
async fn a_500_mid_paging_is_retried_then_resumable_from_its_cursor() {
    let env = support::start(support::accounts()).await;
    env.push_untagged(&format!("{ORG}/huge"), 320);
    // Pages 1 and 2 pass; page 3 fails on the first try and all three retries.
    env.fake.faults().add(
        Fault::fail(versions_route("huge"), StatusCode::INTERNAL_SERVER_ERROR)
            .skip(2)
            .times(4),
    );
    let owner = Owner::org(ORG);
    let mut pages = env
        .client
        .versions(&owner, "huge", VersionState::Active)
        .unwrap();
    let mut seen = Vec::new();
    seen.extend(pages.next_page().await.unwrap().unwrap());
    seen.extend(pages.next_page().await.unwrap().unwrap());
    let error = pages.next_page().await.unwrap_err();
    let Error::Paging { cursor, source, .. } = &error else {
        panic!("expected a paging error, got {error:?}");
    };
    assert_eq!(cursor.page(), 3);
    assert_eq!(source.status(), Some(500));
    assert!(error.to_string().contains("resume from cursor"), "{error}");
    let page_three = env.fake.log().count_where(|e| {
        e.path.ends_with("/huge/versions")
            && e.query.as_deref().is_some_and(|q| q.contains("page=3"))
    });
    assert_eq!(page_three, 4, "the page was retried three times");

    // A later process resumes from the printed cursor and misses nothing.
    let cursor = ghcr_packages::PageCursor::parse(&cursor.to_string()).unwrap();
    let rest = env
        .client
        .resume_versions(cursor)
        .collect_all()
        .await
        .unwrap();
    seen.extend(rest);
    let unique: HashSet<_> = seen.iter().map(|v| v.id).collect();
    assert_eq!(seen.len(), 320);
    assert_eq!(unique.len(), 320);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_headers_slow_the_client() {
    let env = support::start(support::accounts().api_rate_limit(20, Duration::from_secs(60))).await;
    env.push_untagged(&format!("{ORG}/app"), 1);
    let owner = Owner::org(ORG);
    let start = Instant::now();
    for _ in 0..15 {
        env.client.get_package(&owner, "app").await.unwrap();
    }
    let unthrottled = start.elapsed();
    assert!(unthrottled < Duration::from_secs(1), "{unthrottled:?}");
    // Past 80 % of the budget the transport spreads the rest until the
    // reset, so 10 more requests (25 in all, the budget is 20 a minute)
    // cross into the fake's next window without one refusal.
    for _ in 0..10 {
        env.client.get_package(&owner, "app").await.unwrap();
    }
    assert!(
        start.elapsed() >= Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let refused = env
        .fake
        .log()
        .count_where(|e| e.status == StatusCode::FORBIDDEN);
    assert_eq!(refused, 0, "the client never ran into the limit");
    let budget = env.client.transport().rate_limits();
    assert_eq!(budget[0].limit, 20, "{budget:?}");
}

#[tokio::test(start_paused = true)]
async fn a_secondary_limit_403_is_waited_out() {
    let env = support::start(support::accounts()).await;
    env.push_untagged(&format!("{ORG}/app"), 3);
    let body = Bytes::from_static(br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#);
    let refusal = FaultAction::Respond {
        status: StatusCode::FORBIDDEN,
        body,
    };
    env.fake
        .faults()
        .add(Fault::new(versions_route("app"), refusal).nth(1));
    let start = Instant::now();
    let versions = env
        .client
        .list_versions(&Owner::org(ORG), "app", VersionState::Active)
        .await
        .unwrap();
    assert_eq!(versions.len(), 3);
    // GitHub: without retry-after, wait at least a minute.
    assert!(
        start.elapsed() >= Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let statuses: Vec<u16> = env
        .fake
        .log()
        .entries()
        .iter()
        .filter(|e| e.path.ends_with("/app/versions"))
        .map(|e| e.status.as_u16())
        .collect();
    assert_eq!(statuses, [403, 200]);
}

#[tokio::test(start_paused = true)]
async fn paced_deletes_and_restores_stay_within_the_secondary_limit() {
    let env = support::start(support::accounts().secondary_rate_limit(900)).await;
    env.fake
        .store()
        .push_image(
            &format!("{ORG}/app"),
            Some("v1"),
            &[Bytes::from_static(b"v1")],
        )
        .unwrap();
    env.push_untagged(&format!("{ORG}/app"), 200);
    let owner = Owner::org(ORG);
    let transport = support::transport(&env.fake, support::USER, support::TOKEN)
        .build()
        .unwrap();
    // GitHub's figure: 900 points a minute, 5 per DELETE or restore POST.
    let paced = support::client_with(&env.fake, transport, 900);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = paced.plan_cleanup(&owner, "app", &policy).await.unwrap();
    let start = Instant::now();
    let report = paced.execute_cleanup(&plan).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.deleted().len(), 200);
    // 200 deletes are 1,000 points: they need more than one minute.
    assert!(
        start.elapsed() >= Duration::from_secs(66),
        "{:?}",
        start.elapsed()
    );
    let restored = paced
        .restore_versions(&owner, "app", &report.restore_hint().ids)
        .await;
    assert_eq!(restored.restored.len(), 200, "{:?}", restored.failed);
    let refused = |env: &support::Env| {
        env.fake
            .log()
            .count_where(|e| e.status == StatusCode::FORBIDDEN)
    };
    assert_eq!(
        refused(&env),
        0,
        "the fake never had to refuse a paced write"
    );

    // Unpaced, the same run trips the fake's limit (and waits it out).
    let unpaced = env.client.execute_cleanup(&plan).await;
    assert!(unpaced.is_complete(), "{unpaced}");
    assert!(refused(&env) > 0, "the limit is real");
}
