//! Fault injection and the request log.

use std::time::Duration;

use bytes::Bytes;
use ghcr_sim::fake::{FakeGhcr, Fault, Profile, Route};
use ghcr_types::Digest;
use http::{Method, StatusCode};

use crate::support::{authed, bearer, fake, send};

#[tokio::test]
async fn the_nth_matching_request_fails_and_the_log_counts() {
    let fake = FakeGhcr::builder()
        .user("octo", "t-octo")
        .fault(
            Fault::fail(
                Route::new(Method::GET, "/v2/*/tags/list"),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .nth(2),
        )
        .start()
        .await
        .unwrap();
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"1")])
        .unwrap();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let url = format!("{}/v2/octo/app/tags/list", fake.registry_url());
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(authed("GET", &url, &auth).await.status);
    }
    assert_eq!(statuses, [200, 500, 200]);
    assert_eq!(fake.faults().fired(), 1);
    let log = fake.log();
    assert_eq!(log.token_fetches(), 1);
    assert_eq!(log.count(&Route::new(Method::GET, "/v2/*/tags/list")), 3);
    let entries = log.entries();
    assert_eq!(entries[2].status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(entries[1].has_authorization());
    log.clear();
    assert!(log.is_empty());
}

#[tokio::test]
async fn a_429_storm_carries_ghcrs_go_duration() {
    let fake = fake(Profile::Ghcr).await;
    fake.faults().add(Fault::too_many_requests(
        Route::new(Method::POST, "/v2/*/blobs/uploads/"),
        2,
    ));
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let url = format!("{}/v2/octo/app/blobs/uploads/", fake.registry_url());
    for _ in 0..2 {
        let limited = authed("POST", &url, &auth).await;
        assert_eq!(limited.status, 429);
        assert_eq!(limited.code(), "TOOMANYREQUESTS");
        assert_eq!(
            limited.json()["errors"][0]["message"],
            "retry-after: 10.305ms, allowed: 2000/minute"
        );
    }
    assert_eq!(authed("POST", &url, &auth).await.status, 202);
    fake.faults().add(Fault::too_many_requests(
        Route::new(Method::GET, "/v2/*/manifests/*"),
        1,
    ));
    let pulled = authed(
        "GET",
        &format!("{}/v2/octo/app/manifests/v1", fake.registry_url()),
        &auth,
    )
    .await;
    assert!(
        pulled.text().contains("allowed: 44000/minute"),
        "{}",
        pulled.text()
    );
}

#[tokio::test]
async fn corrupted_and_truncated_blobs() {
    let fake = fake(Profile::Generic).await;
    let layer = Bytes::from(vec![3u8; 4096]);
    let image = fake
        .store()
        .push_image("octo/app", None, std::slice::from_ref(&layer))
        .unwrap();
    let digest = image.layers[0].clone();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let url = format!("{}/v2/octo/app/blobs/{digest}", fake.registry_url());
    let route = Route::new(Method::GET, "/v2/*/blobs/*");
    fake.faults().add(Fault::corrupt(route.clone()).nth(1));
    let corrupted = authed("GET", &url, &auth).await;
    assert_eq!(corrupted.body.len(), layer.len());
    assert_ne!(
        Digest::sha256_of(&corrupted.body),
        digest,
        "the bytes no longer match"
    );
    let clean = authed("GET", &url, &auth).await;
    assert_eq!(Digest::sha256_of(&clean.body), digest);
    fake.faults().add(Fault::drop_after(route, 100).nth(1));
    let stream = tokio::net::TcpStream::connect(fake.registry_host())
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::get(format!("/v2/octo/app/blobs/{digest}"))
        .header("host", fake.registry_host())
        .header("authorization", &auth)
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body()).await;
    assert!(body.is_err(), "the connection broke mid-body");
}

#[tokio::test(start_paused = true)]
async fn delays_pass_on_a_paused_clock() {
    let fake = fake(Profile::Ghcr).await;
    fake.faults().add(Fault::delay(
        Route::any_method("/v2/"),
        Duration::from_secs(600),
    ));
    let started = tokio::time::Instant::now();
    let ping = send(
        "GET",
        &format!("{}/v2/", fake.registry_url()),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(ping.status, 401);
    assert!(
        started.elapsed() >= Duration::from_secs(600),
        "the virtual clock moved by the delay"
    );
}

#[tokio::test]
async fn expired_tokens_are_challenged_again() {
    let fake = fake(Profile::Ghcr).await;
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let url = format!("{}/v2/", fake.registry_url());
    assert_eq!(authed("GET", &url, &auth).await.status, 200);
    fake.expire_tokens();
    let expired = authed("GET", &url, &auth).await;
    assert_eq!(expired.status, 401);
    assert!(expired.header("www-authenticate").is_some());
    // And by lifetime, on the fake's clock.
    let short = FakeGhcr::builder()
        .user("octo", "t-octo")
        .token_lifetime(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let auth = bearer(&short, "octo", "t-octo", "repository:octo/app:pull").await;
    let url = format!("{}/v2/", short.registry_url());
    assert_eq!(authed("GET", &url, &auth).await.status, 200);
    short.clock().advance(Duration::from_secs(61));
    assert_eq!(authed("GET", &url, &auth).await.status, 401);
}
