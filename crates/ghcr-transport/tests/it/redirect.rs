//! Redirects over real sockets: credentials never cross origins.

use std::sync::Arc;

use ghcr_auth::{Credentials, StaticProvider};
use ghcr_transport::{Body, Error, NoRedirect, Transport};
use http_body_util::BodyExt;

use crate::support::{Script, challenge_reply, get, pull, reply, serve};

#[tokio::test]
async fn a_redirect_to_another_port_carries_no_authorization() {
    let storage = Script::new(|seen, _| {
        if seen.authorization().is_some() {
            reply(400, &[], "Only one auth mechanism allowed")
        } else {
            reply(200, &[], "blob bytes")
        }
    });
    let storage_addr = serve(storage.clone()).await;
    let registry = Script::new(move |seen, _| {
        if seen.uri.path() == "/token" {
            return reply(200, &[], r#"{"token":"registry-token"}"#);
        }
        if seen.authorization().as_deref() != Some("Bearer registry-token") {
            return challenge_reply(&format!(
                "http://{}/token",
                seen.headers["host"].to_str().unwrap()
            ));
        }
        let location = format!("http://{storage_addr}/blobs/abc?sig=signed");
        reply(307, &[("location", &location)], "")
    });
    let registry_addr = serve(registry.clone()).await;
    let transport = Transport::builder()
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            "octo", "pat",
        ))))
        .allow_plain_http(registry_addr.to_string())
        .build()
        .unwrap();
    let mut request = get(
        &format!("http://{registry_addr}/v2/o/a/blobs/sha256:abc"),
        pull("o/a"),
    );
    request.headers_mut().insert(
        http::header::COOKIE,
        "session=registry-only".parse().unwrap(),
    );
    request.headers_mut().insert(
        http::header::PROXY_AUTHORIZATION,
        "Basic cHJveHk6cGFzcw==".parse().unwrap(),
    );
    let response = transport.send_checked(request).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "blob bytes"
    );
    let blob_requests: Vec<_> = registry
        .seen()
        .into_iter()
        .filter(|s| s.uri.path().contains("/blobs/"))
        .collect();
    assert_eq!(
        blob_requests.last().unwrap().authorization().as_deref(),
        Some("Bearer registry-token")
    );
    let hops = storage.seen();
    assert_eq!(hops.len(), 1);
    assert_eq!(hops[0].authorization(), None);
    assert!(blob_requests.last().unwrap().headers.contains_key("cookie"));
    for header in ["cookie", "proxy-authorization"] {
        assert!(
            !hops[0].headers.contains_key(header),
            "{header} crossed origins"
        );
    }
    assert_eq!(hops[0].uri.query(), Some("sig=signed"));
}

#[tokio::test]
async fn plain_http_storage_hosts_are_reachable_only_from_an_allowed_registry() {
    let storage_addr = serve(Script::new(|_, _| reply(200, &[], "x"))).await;
    let location = format!("http://{storage_addr}/x");
    let registry_addr = serve(Script::new(move |_, _| {
        reply(307, &[("location", &location)], "")
    }))
    .await;
    let allowed = Transport::builder()
        .allow_plain_http(registry_addr.to_string())
        .build()
        .unwrap();
    allowed
        .send_checked(
            http::Request::get(format!("http://{registry_addr}/v2/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let refused = Transport::builder().build().unwrap();
    let err = refused
        .send(
            http::Request::get(format!("http://{registry_addr}/v2/x"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn https_to_http_is_refused() {
    let script = Script::new(|_, _| reply(307, &[("location", "http://evil.test/steal")], ""));
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let err = transport
        .send(get("https://ghcr.test/v2/o/a/blobs/x", pull("o/a")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirect { reason, .. } if reason.contains("plain http")),
        "{err:?}"
    );
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn redirect_loops_end() {
    let script = Script::new(|_, _| reply(302, &[("location", "/again")], ""));
    let transport = Transport::builder()
        .wire(script.clone())
        .max_redirects(3)
        .build()
        .unwrap();
    let err = transport
        .send(get("https://ghcr.test/start", pull("o/a")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Redirect {
                reason: "too many redirects",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(script.seen().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn no_redirect_hands_the_3xx_back() {
    let script =
        Script::new(|_, _| reply(303, &[("location", "https://github.com/-/v2/packages")], ""));
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let mut request = get("https://ghcr.test/v2/o/a/referrers/sha256:x", pull("o/a"));
    request.extensions_mut().insert(NoRedirect);
    assert_eq!(transport.send(request).await.unwrap().status(), 303);
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn same_origin_redirects_keep_credentials_and_303_switches_to_get() {
    let script = Script::new(|seen, _| {
        if seen.uri.path() == "/token" {
            return reply(200, &[], r#"{"token":"t"}"#);
        }
        if seen.authorization().is_none() {
            return challenge_reply("https://ghcr.test/token");
        }
        match seen.uri.path() {
            "/v2/o/a/blobs/uploads/" => {
                reply(303, &[("location", "/v2/o/a/blobs/uploads/session")], "")
            }
            _ => reply(200, &[], "ok"),
        }
    });
    let transport = Transport::builder().wire(script.clone()).build().unwrap();
    let mut request = http::Request::post("https://ghcr.test/v2/o/a/blobs/uploads/")
        .body(Body::from("data"))
        .unwrap();
    request.extensions_mut().insert(pull("o/a"));
    transport.send_checked(request).await.unwrap();
    let last = script.seen().pop().unwrap();
    assert_eq!(last.method, http::Method::GET);
    assert!(last.body.is_empty());
    assert_eq!(last.authorization().as_deref(), Some("Bearer t"));
}
