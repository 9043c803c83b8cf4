//! The fake is also a standalone server other tools talk to: hostile or
//! broken input gets an answer, never a dropped connection from a panic.

use bytes::Bytes;
use ghcr_sim::fake::Profile;

use crate::support::{authed, bearer, fake, send, start_upload};

#[tokio::test]
async fn a_content_range_ending_at_u64_max_is_refused() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let started = start_upload(&base, &auth).await;
    let location = format!("{base}{}", started.header("location").unwrap());
    for range in ["0-18446744073709551615", "bytes 0-18446744073709551615/*"] {
        let refused = send(
            "PATCH",
            &location,
            &[("authorization", &auth), ("content-range", range)],
            Bytes::from_static(b"x"),
        )
        .await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (400, "BLOB_UPLOAD_INVALID"),
            "{range}: {}",
            refused.text()
        );
    }
    // The session is untouched and still usable.
    let status = authed("GET", &location, &auth).await;
    assert_eq!(status.header("range"), Some("0-0"));
}

/// Writes `head` (and `body`) on a raw connection, half-closes it, and
/// reads the answer's status line.
async fn raw(host: &str, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    socket.shutdown().await.unwrap();
    let mut answer = Vec::new();
    // A guard, not a wait: the fake answers at once or never.
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        socket.read_to_end(&mut answer),
    )
    .await
    .expect("the fake answered")
    .unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_unread() {
    let fake = ghcr_sim::fake::FakeGhcr::builder()
        .user("octo", "t-octo")
        .max_request_body(1024)
        .start()
        .await
        .unwrap();
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let started = start_upload(&base, &auth).await;
    let location = format!("{base}{}", started.header("location").unwrap());
    let refused = send(
        "PATCH",
        &location,
        &[("authorization", &auth)],
        vec![7u8; 2048],
    )
    .await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (413, "SIZE_INVALID"),
        "{}",
        refused.text()
    );
    assert!(refused.text().contains("max_request_body"));
    let status = authed("GET", &location, &auth).await;
    assert_eq!(status.header("range"), Some("0-0"), "nothing was appended");
    // A body announced far beyond the limit is refused without waiting for it.
    let path = started.header("location").unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 1000000000000\r\n\r\n"
    );
    let line = raw(fake.registry_host(), &head, b"a few bytes").await;
    assert!(line.starts_with("HTTP/1.1 413"), "{line}");
}

#[tokio::test]
async fn a_body_that_breaks_off_is_not_handled() {
    let fake = fake(Profile::Generic).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let started = start_upload(&base, &auth).await;
    let location = started.header("location").unwrap().to_owned();
    let path = location.strip_prefix(&base).unwrap();
    // Ten bytes of an announced hundred, then the client goes away.
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 100\r\n\r\n"
    );
    let line = raw(fake.registry_host(), &head, &[1u8; 10]).await;
    assert!(line.starts_with("HTTP/1.1 400"), "{line}");
    let logged = fake.log().entries();
    let broken = logged.iter().find(|e| e.method == http::Method::PATCH);
    assert_eq!(
        broken.map(|e| e.status.as_u16()),
        Some(400),
        "the broken PATCH is logged as refused"
    );
    // The session did not move: the Location the client holds still works.
    let status = authed("GET", &location, &auth).await;
    assert_eq!((status.status, status.header("range")), (204, Some("0-0")));
}

#[tokio::test]
async fn the_longest_settings_and_clock_moves_do_not_overflow() {
    let forever = std::time::Duration::MAX;
    let fake = ghcr_sim::fake::FakeGhcr::builder()
        .user("octo", "t-octo")
        .token_lifetime(forever)
        .storage_url_lifetime(forever)
        .restore_window(forever)
        .api_rate_limit(5, forever)
        .start()
        .await
        .unwrap();
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    fake.clock().advance(forever);
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let tags = authed(
        "GET",
        &format!("{}/v2/octo/app/tags/list", fake.registry_url()),
        &auth,
    )
    .await;
    assert_eq!(tags.status, 200, "{}", tags.text());
    let api = send(
        "GET",
        &format!("{}/user/packages/container/app", fake.api_base()),
        &[("user-agent", "tests"), ("authorization", "Bearer t-octo")],
        Bytes::new(),
    )
    .await;
    assert_eq!(api.status, 200, "{}", api.text());
    let reset: i64 = api.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset >= fake.clock().now().unix_timestamp());
}
