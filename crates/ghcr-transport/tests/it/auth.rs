//! Challenge, token, retry: on a scripted registry.

use std::sync::Arc;
use std::time::Duration;

use ghcr_auth::{Credentials, StaticProvider};
use ghcr_transport::{Error, Transport};

use crate::support::{Script, challenge_reply, get, pull, reply};

/// A registry that wants `Bearer token-N` and issues tokens numbered by fetch.
fn registry(expires_in: Option<u64>) -> Script {
    let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Script::new(move |seen, _| {
        if seen.uri.path() == "/token" {
            let n = fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let lifetime = expires_in
                .map(|s| format!(r#","expires_in":{s}"#))
                .unwrap_or_default();
            return reply(200, &[], &format!(r#"{{"token":"token-{n}"{lifetime}}}"#));
        }
        match seen.authorization() {
            Some(auth) if auth.starts_with("Bearer token-") => reply(200, &[], "ok"),
            _ => challenge_reply("https://registry.test/token"),
        }
    })
}

fn transport(script: &Script) -> Transport {
    Transport::builder()
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            "octo", "pat",
        ))))
        .wire(script.clone())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn challenge_token_retry_with_one_fetch_for_a_hundred_requests() {
    let script = registry(None);
    let transport = transport(&script);
    // The first request learns the realm; then a hundred go at once.
    transport
        .send_checked(get("https://registry.test/v2/o/a/tags/list", pull("o/a")))
        .await
        .unwrap();
    let calls = (0..100).map(|i| {
        let transport = transport.clone();
        tokio::spawn(async move {
            transport
                .send_checked(get(
                    &format!("https://registry.test/v2/o/a/blobs/{i}"),
                    pull("o/a"),
                ))
                .await
                .map(|r| r.status())
        })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    assert_eq!(script.count(|s| s.uri.path() == "/token"), 1);
    assert_eq!(transport.token_fetches(), 1);
    let token_request = script
        .seen()
        .into_iter()
        .find(|s| s.uri.path() == "/token")
        .unwrap();
    let query = token_request.uri.query().unwrap();
    assert!(query.contains("service=registry.test"), "{query}");
    // The scope is the operation's, not the challenge's placeholder.
    assert!(query.contains("scope=repository%3Ao%2Fa%3Apull"), "{query}");
    assert!(token_request.authorization().unwrap().starts_with("Basic "));
}

#[tokio::test(start_paused = true)]
async fn concurrent_first_requests_still_fetch_one_token() {
    let script = registry(None);
    let transport = transport(&script);
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let transport = transport.clone();
            tokio::spawn(async move {
                transport
                    .send_checked(get("https://registry.test/v2/o/a/tags/list", pull("o/a")))
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(script.count(|s| s.uri.path() == "/token"), 1);
}

#[tokio::test(start_paused = true)]
async fn expired_tokens_are_refreshed() {
    let script = registry(Some(120));
    let transport = transport(&script);
    let request = || get("https://registry.test/v2/o/a/tags/list", pull("o/a"));
    transport.send_checked(request()).await.unwrap();
    tokio::time::advance(Duration::from_secs(100)).await;
    transport.send_checked(request()).await.unwrap();
    assert_eq!(
        transport.token_fetches(),
        1,
        "still fresh after 100 s of 120"
    );
    tokio::time::advance(Duration::from_secs(15)).await;
    transport.send_checked(request()).await.unwrap();
    assert_eq!(
        transport.token_fetches(),
        2,
        "refreshed within the margin before expiry"
    );
    let last = script
        .seen()
        .into_iter()
        .rev()
        .find(|s| s.uri.path() != "/token")
        .unwrap();
    assert_eq!(last.authorization().as_deref(), Some("Bearer token-1"));
}

#[tokio::test(start_paused = true)]
async fn a_refused_fresh_token_is_unauthorized() {
    let script = Script::new(|seen, _| {
        if seen.uri.path() == "/token" {
            reply(200, &[], r#"{"token":"useless"}"#)
        } else {
            challenge_reply("https://registry.test/token")
        }
    });
    let err = transport(&script)
        .send(get("https://registry.test/v2/o/a/tags/list", pull("o/a")))
        .await
        .unwrap_err();
    match err {
        Error::Unauthorized {
            registry, scope, ..
        } => {
            assert_eq!(registry, "registry.test");
            assert_eq!(scope, "repository:o/a:pull");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_eq!(
        script.count(|s| s.uri.path() != "/token"),
        2,
        "one retry, no more"
    );
}

#[tokio::test(start_paused = true)]
async fn token_endpoint_denial_is_auth_failed_with_the_registry_message() {
    let script = Script::new(|seen, _| {
        if seen.uri.path() == "/token" {
            reply(
                403,
                &[],
                r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            )
        } else {
            challenge_reply("https://registry.test/token")
        }
    });
    let err = transport(&script)
        .send(get("https://registry.test/v2/o/a/tags/list", pull("o/a")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Auth(ghcr_auth::Error::AuthFailed { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("requested access to the resource is denied"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn denied_without_challenge_fetches_a_token_for_the_known_realm_once() {
    // ghcr.io has answered 403 DENIED without a challenge to requests with credentials.
    let script = Script::new(|seen, index| {
        if seen.uri.path() == "/token" {
            return reply(200, &[], &format!(r#"{{"token":"t{index}"}}"#));
        }
        match seen.authorization().as_deref() {
            None => challenge_reply("https://registry.test/token"),
            // The second repository's first token is refused without a challenge.
            Some("Bearer t3") => reply(
                403,
                &[],
                r#"{"errors":[{"code":"DENIED","message":"denied"}]}"#,
            ),
            Some(_) => reply(200, &[], "ok"),
        }
    });
    let transport = transport(&script);
    let response = transport
        .send(get("https://registry.test/v2/o/a/x", pull("o/a")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = transport
        .send(get("https://registry.test/v2/o/b/x", pull("o/b")))
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the 403 was answered with a fresh token"
    );
    assert_eq!(script.count(|s| s.uri.path() == "/token"), 3);
}

#[tokio::test(start_paused = true)]
async fn basic_registries_get_basic_credentials() {
    let script = Script::new(|seen, _| match seen.authorization() {
        Some(auth) if auth.starts_with("Basic ") => reply(200, &[], "ok"),
        _ => reply(
            401,
            &[("www-authenticate", r#"Basic realm="basic-realm""#)],
            "",
        ),
    });
    let transport = transport(&script);
    transport
        .send_checked(get("https://basic.test/v2/", pull("a")))
        .await
        .unwrap();
    transport
        .send_checked(get("https://basic.test/v2/a/tags/list", pull("a")))
        .await
        .unwrap();
    assert_eq!(
        script.seen().len(),
        3,
        "the second request went with credentials straight away"
    );
}

#[tokio::test(start_paused = true)]
async fn github_api_requests_carry_the_pat_as_bearer() {
    let script = Script::new(|_, _| reply(200, &[], "{}"));
    let transport = transport(&script);
    transport
        .send_checked(get(
            "https://api.github.com/user/packages?package_type=container",
            ghcr_transport::AuthScope::GitHubApi,
        ))
        .await
        .unwrap();
    assert_eq!(
        script.seen()[0].authorization().as_deref(),
        Some("Bearer pat")
    );
    assert!(
        script.seen()[0].headers[http::header::USER_AGENT]
            .to_str()
            .unwrap()
            .starts_with("ghcr-rs/")
    );
}

/// A registry that issues token `t` and answers `special()` (when it gives
/// an answer) for paths ending in `suffix`, 200 otherwise; and a transport
/// that has already learnt its realm.
async fn registry_with_special_path(
    suffix: &'static str,
    special: impl Fn() -> Option<http::Response<bytes::Bytes>> + Send + Sync + 'static,
) -> Transport {
    let script = Script::new(move |seen, _| {
        if seen.uri.path() == "/token" {
            return reply(200, &[], r#"{"token":"t"}"#);
        }
        if seen.authorization().is_none() {
            return challenge_reply("https://registry.test/token");
        }
        match seen.uri.path().ends_with(suffix).then(&special).flatten() {
            Some(answer) => answer,
            None => reply(200, &[], "ok"),
        }
    });
    let transport = transport(&script);
    transport
        .send_checked(get("https://registry.test/v2/o/a/x", pull("o/a")))
        .await
        .unwrap();
    transport
}

#[tokio::test(start_paused = true)]
async fn a_403_that_is_not_denied_is_left_to_the_rate_limiter() {
    // ghcr.io has refused pushes with "403 You have exceeded a secondary rate
    // limit": that is not a token problem and must not end as Unauthorized.
    let limited = std::sync::atomic::AtomicUsize::new(0);
    let transport = registry_with_special_path("/busy", move || {
        (limited.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2).then(|| {
            reply(
                403,
                &[],
                r#"{"errors":[{"code":"DENIED","message":"You have exceeded a secondary rate limit"}]}"#,
            )
        })
    })
    .await;
    let response = transport
        .send_checked(get("https://registry.test/v2/o/a/busy", pull("o/a")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(transport.token_fetches(), 1, "no token was refetched");
}

#[tokio::test(start_paused = true)]
async fn a_denied_that_survives_a_fresh_token_is_unauthorized() {
    let transport = registry_with_special_path("/private", || {
        Some(reply(
            403,
            &[],
            r#"{"errors":[{"code":"DENIED","message":"permission_denied: write_package"}]}"#,
        ))
    })
    .await;
    let err = transport
        .send_checked(get("https://registry.test/v2/o/a/private", pull("o/a")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(transport.token_fetches(), 2, "one fresh token was tried");
}

#[tokio::test(start_paused = true)]
async fn a_hundred_refusals_of_one_token_cause_one_fetch() {
    // The registry stops accepting token-0 while a hundred requests that
    // carry it are on the wire; their 401s arrive one after another.
    let revoked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fetches = std::sync::atomic::AtomicUsize::new(0);
    let refused = revoked.clone();
    let script = Script::new(move |seen, _| {
        if seen.uri.path() == "/token" {
            let n = fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return reply(200, &[], &format!(r#"{{"token":"token-{n}"}}"#));
        }
        let dead = refused.load(std::sync::atomic::Ordering::SeqCst);
        match seen.authorization().as_deref() {
            Some("Bearer token-0") if dead => challenge_reply("https://registry.test/token"),
            Some(auth) if auth.starts_with("Bearer token-") => reply(200, &[], "ok"),
            _ => challenge_reply("https://registry.test/token"),
        }
    });
    // Registry answers take 10 ms, the token endpoint answers at once.
    let wire = script.delayed(|uri| {
        if uri.path() == "/token" {
            Duration::ZERO
        } else {
            Duration::from_millis(10)
        }
    });
    let transport = Transport::builder()
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            "octo", "pat",
        ))))
        .wire(wire)
        .build()
        .unwrap();
    let request = || get("https://registry.test/v2/o/a/tags/list", pull("o/a"));
    transport.send_checked(request()).await.unwrap();
    assert_eq!(transport.token_fetches(), 1);
    revoked.store(true, std::sync::atomic::Ordering::SeqCst);
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let transport = transport.clone();
            tokio::spawn(async move { transport.send_checked(request()).await.map(drop) })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(
        transport.token_fetches(),
        2,
        "one new token for all of them"
    );
}

#[tokio::test]
async fn over_real_sockets_a_hundred_first_requests_share_one_token() {
    let script = Script::new(|seen, _| {
        if seen.uri.path() == "/token" {
            return reply(200, &[], r#"{"token":"socket-token"}"#);
        }
        if seen.authorization().as_deref() == Some("Bearer socket-token") {
            return reply(200, &[], "ok");
        }
        let realm = format!("http://{}/token", seen.headers["host"].to_str().unwrap());
        challenge_reply(&realm)
    });
    let addr = crate::support::serve(script.clone()).await;
    let transport = Transport::builder()
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            "octo", "pat",
        ))))
        .allow_plain_http(addr.to_string())
        .build()
        .unwrap();
    let calls: Vec<_> = (0..100)
        .map(|i| {
            let transport = transport.clone();
            let url = format!("http://{addr}/v2/o/a/manifests/{i}");
            tokio::spawn(async move {
                transport
                    .send_checked(get(&url, pull("o/a")))
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    let tokens: Vec<_> = script
        .seen()
        .into_iter()
        .filter(|s| s.uri.path() == "/token")
        .collect();
    assert_eq!(tokens.len(), 1, "one token fetch for a hundred requests");
    assert!(tokens[0].authorization().unwrap().starts_with("Basic "));
    assert!(
        tokens[0]
            .uri
            .query()
            .unwrap()
            .contains("scope=repository%3Ao%2Fa%3Apull")
    );
    let answered = script.count(|s| s.authorization().as_deref() == Some("Bearer socket-token"));
    assert_eq!(answered, 100);
}
