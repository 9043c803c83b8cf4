//! Rate limits of registries and of the GitHub API, on a paused clock.

use std::time::Duration;

use ghcr_transport::{AuthScope, Body, Error, Transport};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::support::{Script, reply};

fn limited_once(headers: Vec<(String, String)>, body: &'static str) -> Script {
    Script::new(move |_, index| {
        if index == 0 {
            let pairs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            reply(429, &pairs, body)
        } else {
            reply(200, &[], "ok")
        }
    })
}

fn registry_get() -> http::Request<Body> {
    http::Request::get("https://ghcr.test/v2/o/a/manifests/latest")
        .body(Body::empty())
        .unwrap()
}

fn api_get() -> http::Request<Body> {
    let mut request = http::Request::get("https://api.github.test/user/packages")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(AuthScope::GitHubApi);
    request
}

async fn elapsed_for(script: &Script, request: http::Request<Body>) -> Duration {
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let started = Instant::now();
    transport.send_checked(request).await.unwrap();
    started.elapsed()
}

#[tokio::test(start_paused = true)]
async fn retry_after_in_seconds() {
    let script = limited_once(vec![("retry-after".into(), "2".into())], "");
    let waited = elapsed_for(&script, registry_get()).await;
    assert!(
        waited >= Duration::from_secs(2) && waited <= Duration::from_millis(2200),
        "{waited:?}"
    );
    assert_eq!(script.seen().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date() {
    let at = OffsetDateTime::now_utc() + time::Duration::seconds(4);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let date = at.format(format).unwrap();
    let script = limited_once(vec![("retry-after".into(), date)], "");
    let waited = elapsed_for(&script, registry_get()).await;
    // Whole seconds in the header, up to 10 % jitter on top.
    assert!(
        waited >= Duration::from_secs(2) && waited <= Duration::from_millis(4500),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn ghcr_go_duration_in_the_body() {
    let script = limited_once(
        vec![],
        r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"toomanyrequests: retry-after: 880.092µs, allowed: 44000/minute"}]}"#,
    );
    let waited = elapsed_for(&script, registry_get()).await;
    assert!(
        waited >= Duration::from_micros(880) && waited < Duration::from_millis(2),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn waits_over_the_maximum_fail_with_rate_limited() {
    let script = limited_once(vec![("retry-after".into(), "3600".into())], "");
    let transport = Transport::builder()
        .wire(script.clone())
        .max_rate_limit_wait(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = transport.send(registry_get()).await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d >= Duration::from_secs(3600)),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::ZERO, "no hang");
}

#[tokio::test(start_paused = true)]
async fn github_budget_past_the_threshold_spreads_requests_until_reset() {
    let reset = (OffsetDateTime::now_utc() + time::Duration::seconds(100))
        .unix_timestamp()
        .to_string();
    let script = Script::new(move |_, _| {
        reply(
            200,
            &[
                ("x-ratelimit-limit", "100"),
                ("x-ratelimit-remaining", "10"),
                ("x-ratelimit-used", "90"),
                ("x-ratelimit-reset", &reset),
                ("x-ratelimit-resource", "core"),
            ],
            "[]",
        )
    });
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let started = Instant::now();
    transport.send_checked(api_get()).await.unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "nothing known yet, no pause"
    );
    let info = &transport.rate_limits()[0];
    assert_eq!(
        (info.limit, info.remaining, info.resource.as_str()),
        (100, 10, "core")
    );
    let started = Instant::now();
    transport.send_checked(api_get()).await.unwrap();
    // 90 % used: the ~100 s to the reset are spread over the 10 requests left.
    let paused = started.elapsed();
    assert!(
        paused >= Duration::from_secs(9) && paused <= Duration::from_secs(10),
        "{paused:?}"
    );
    // Registry requests are not paced by the API budget.
    let started = Instant::now();
    transport.send_checked(registry_get()).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn github_exhausted_budget_waits_for_the_reset() {
    let reset = (OffsetDateTime::now_utc() + time::Duration::seconds(30))
        .unix_timestamp()
        .to_string();
    let script = Script::new(move |_, index| {
        if index == 0 {
            reply(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-limit", "5000"),
                    ("x-ratelimit-reset", &reset),
                ],
                r#"{"message":"API rate limit exceeded"}"#,
            )
        } else {
            reply(200, &[], "[]")
        }
    });
    let waited = elapsed_for(&script, api_get()).await;
    assert!(
        waited >= Duration::from_secs(28) && waited <= Duration::from_secs(34),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn github_secondary_limit_waits_a_minute() {
    let script = Script::new(|_, index| {
        if index == 0 {
            reply(
                403,
                &[],
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
            )
        } else {
            reply(200, &[], "[]")
        }
    });
    let waited = elapsed_for(&script, api_get()).await;
    assert!(
        waited >= Duration::from_secs(60) && waited <= Duration::from_secs(66),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_permission_403_is_not_a_rate_limit() {
    let script = Script::new(|_, _| {
        reply(
            403,
            &[],
            r#"{"message":"Must have admin rights to Repository."}"#,
        )
    });
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let err = transport.send_checked(api_get()).await.unwrap_err();
    assert!(matches!(err, Error::Denied { status: 403, .. }), "{err:?}");
    assert!(err.to_string().contains("Must have admin rights"), "{err}");
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn absurd_waits_fail_fast_instead_of_overflowing() {
    for (headers, body) in [
        (vec![("retry-after".to_owned(), u64::MAX.to_string())], ""),
        (vec![], "toomanyrequests: retry-after: 99999999999999h"),
    ] {
        let script = limited_once(headers, body);
        let transport = Transport::builder().wire(script.clone()).build().unwrap();
        let started = Instant::now();
        let err = transport.send(registry_get()).await.unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{body}: {err:?}");
        assert_eq!(started.elapsed(), Duration::ZERO, "no hang");
        assert_eq!(script.seen().len(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn a_streamed_upload_is_not_resent_after_a_429() {
    let script = limited_once(vec![("retry-after".into(), "1".into())], "");
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let body = Body::stream(Body::from("layer bytes").into_http_body(), Some(11));
    let request = http::Request::patch("https://ghcr.test/v2/o/a/blobs/uploads/session")
        .body(body)
        .unwrap();
    let err = transport.send(request).await.unwrap_err();
    assert!(
        matches!(&err, Error::RateLimited { message, .. } if message.contains("streamed")),
        "{err:?}"
    );
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_api_requests_are_spread_not_released_together() {
    let reset = (OffsetDateTime::now_utc() + time::Duration::seconds(100))
        .unix_timestamp()
        .to_string();
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = arrivals.clone();
    let script = Script::new(move |_, _| {
        log.lock().unwrap().push(Instant::now());
        reply(
            200,
            &[
                ("x-ratelimit-limit", "100"),
                ("x-ratelimit-remaining", "10"),
                ("x-ratelimit-reset", &reset),
            ],
            "[]",
        )
    });
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    transport.send_checked(api_get()).await.unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let transport = transport.clone();
            tokio::spawn(async move { transport.send_checked(api_get()).await.map(drop) })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    // ~100 s to the reset over 10 requests left: one request every ~10 s,
    // whether they come one after another or all at once.
    let offsets: Vec<f64> = arrivals.lock().unwrap()[1..]
        .iter()
        .map(|at| (*at - started).as_secs_f64())
        .collect();
    for (n, offset) in offsets.iter().enumerate() {
        let slot = 10.0 * (n as f64 + 1.0);
        assert!(
            (slot * 0.98..=slot).contains(offset),
            "request {n} went at {offset:.2} s: {offsets:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn registry_answers_do_not_set_the_github_budget() {
    let reset = (OffsetDateTime::now_utc().unix_timestamp() + 3600).to_string();
    let script = Script::new(move |seen, _| {
        if seen.uri.host() == Some("api.github.test") {
            reply(200, &[], "[]")
        } else {
            // A hostile registry claiming the API budget is spent, with a
            // resource name made to blow up metric labels.
            reply(
                200,
                &[
                    ("x-ratelimit-limit", "5000"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", &reset),
                    ("x-ratelimit-resource", "core"),
                ],
                "{}",
            )
        }
    });
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    transport.send_checked(registry_get()).await.unwrap();
    assert!(
        transport.rate_limits().is_empty(),
        "{:?}",
        transport.rate_limits()
    );
    let started = Instant::now();
    transport.send_checked(api_get()).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn unknown_rate_limit_resources_share_one_label() {
    let reset = (OffsetDateTime::now_utc().unix_timestamp() + 3600).to_string();
    let script = Script::new(move |_, index| {
        let resource = if index == 0 {
            "search".to_owned()
        } else {
            format!("made-up-{index}")
        };
        reply(
            200,
            &[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "4000"),
                ("x-ratelimit-reset", &reset),
                ("x-ratelimit-resource", &resource),
            ],
            "[]",
        )
    });
    let transport = Transport::builder().wire(script).build().unwrap();
    for _ in 0..50 {
        transport.send_checked(api_get()).await.unwrap();
    }
    let resources: Vec<String> = transport
        .rate_limits()
        .into_iter()
        .map(|info| info.resource)
        .collect();
    assert_eq!(resources, ["other", "search"]);
    let mut registry = prometheus_client::registry::Registry::default();
    transport.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let labels = text
        .lines()
        .filter(|line| line.starts_with("ghcr_rate_limit_remaining{"))
        .count();
    assert_eq!(labels, 2, "{text}");
}

/// A DELETE whose first answer was lost (502), then rate limited, then
/// answered 404 was sent three times: the caller must learn that, or it
/// takes the 404 for "it was never there" when its own first attempt
/// deleted it. The wait for the limit must not reset the count.
#[tokio::test(start_paused = true)]
async fn attempts_count_every_send_across_rate_limit_waits() {
    let script = Script::new(|_, index| match index {
        0 => reply(502, &[], "bad gateway"),
        1 => reply(429, &[("retry-after", "1")], ""),
        _ => reply(404, &[], "gone"),
    });
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let request = http::Request::delete("https://ghcr.test/v2/o/a/manifests/sha256:00")
        .body(Body::empty())
        .unwrap();
    let response = transport.send(request).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(script.seen().len(), 3);
    assert_eq!(
        response.extensions().get::<ghcr_transport::Attempts>(),
        Some(&ghcr_transport::Attempts(3))
    );
}
