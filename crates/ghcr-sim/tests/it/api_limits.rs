//! The Packages API's rate limits on the fake: the primary budget with its
//! `x-ratelimit-*` headers and window, and the secondary limit counted per
//! endpoint in windows of the fake's clock, which follows tokio's.

use std::time::Duration;

use bytes::Bytes;
use ghcr_sim::fake::FakeGhcr;

use crate::packages_api::{api, error};

#[tokio::test]
async fn primary_rate_limits_spend_and_reset() {
    let fake = FakeGhcr::builder()
        .user("octo", "t-octo")
        .api_rate_limit(3, Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"1")])
        .unwrap();
    let path = "/user/packages/container/app";
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let reply = api(&fake, "GET", path, "t-octo").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(reply.header("x-ratelimit-resource"), Some("core"));
        remaining.push(reply.header("x-ratelimit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let spent = api(&fake, "GET", path, "t-octo").await;
    assert!(error(&spent, 403).contains("API rate limit exceeded"));
    assert_eq!(spent.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = spent.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > fake.clock().now().unix_timestamp());
    // /rate_limit is free and reports the same budget.
    let overview = api(&fake, "GET", "/rate_limit", "t-octo").await;
    assert_eq!(overview.json()["resources"]["core"]["remaining"], 0);
    assert_eq!(overview.json()["rate"]["used"], 3);
    fake.clock().advance(Duration::from_secs(3601));
    assert_eq!(
        api(&fake, "GET", path, "t-octo").await.status,
        200,
        "a new window"
    );
}

/// The secondary limit counts points per endpoint in windows of the fake's
/// clock, which follows tokio's: a paused test drives it.
/// A paused test drives the windows with `tokio::time::advance`.
#[tokio::test(start_paused = true)]
async fn secondary_limits_count_per_endpoint_on_tokios_clock() {
    let fake = FakeGhcr::builder()
        .user("octo", "t-octo")
        .secondary_rate_limit(11)
        .start()
        .await
        .unwrap();
    let store = fake.store();
    for tag in ["a", "b", "c", "d"] {
        store
            .push_image("octo/app", Some(tag), &[Bytes::from(tag.to_owned())])
            .unwrap();
    }
    let ids: Vec<_> = store.versions("octo/app").iter().map(|v| v.id).collect();
    let delete = |id| format!("/user/packages/container/app/versions/{id}");
    for id in &ids[..2] {
        assert_eq!(
            api(&fake, "DELETE", &delete(id), "t-octo").await.status,
            204
        );
    }
    // Another endpoint has its own budget: 11 reads pass.
    for _ in 0..11 {
        let read = api(&fake, "GET", "/user/packages/container/app", "t-octo").await;
        assert_eq!(read.status, 200, "{}", read.text());
    }
    // 10 points spent on the delete endpoint; a third delete (5) is refused.
    let throttled = api(&fake, "DELETE", &delete(&ids[2]), "t-octo").await;
    assert!(error(&throttled, 403).contains("secondary rate limit"));
    let wait: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Not yet: the window has not moved.
    tokio::time::advance(Duration::from_secs(wait - 1)).await;
    let early = api(&fake, "DELETE", &delete(&ids[2]), "t-octo").await;
    assert_eq!(early.status, 403, "{}", early.text());
    // Once tokio's clock passes the wait, the new window takes the delete.
    tokio::time::advance(Duration::from_secs(1)).await;
    let later = api(&fake, "DELETE", &delete(&ids[2]), "t-octo").await;
    assert_eq!(later.status, 204, "{}", later.text());
}
