//! Token manager behaviour against a scripted token endpoint, on a paused clock.

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use super::*;
use crate::{AnonymousProvider, Credentials, Scope, StaticProvider};

/// A token endpoint that answers from a script and records what it was asked.
#[derive(Debug, Default)]
struct Script {
    answers: Mutex<Vec<(u16, String)>>,
    seen: Mutex<Vec<http::Request<Bytes>>>,
    calls: AtomicUsize,
}

impl Script {
    fn answering(answers: &[(u16, &str)]) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(
                answers
                    .iter()
                    .rev()
                    .map(|(s, b)| (*s, (*b).to_owned()))
                    .collect(),
            ),
            ..Self::default()
        })
    }
}

impl TokenClient for Script {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, std::result::Result<http::Response<Bytes>, BoxError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            // Let concurrent callers pile up behind the first fetch.
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.seen.lock().unwrap().push(request);
            let (status, body) = self
                .answers
                .lock()
                .unwrap()
                .pop()
                .unwrap_or((200, format!(r#"{{"token":"token-{n}"}}"#)));
            Ok(http::Response::builder()
                .status(status)
                .body(Bytes::from(body))
                .unwrap())
        })
    }
}

fn manager(script: &Arc<Script>) -> TokenManager {
    TokenManager::builder(
        script.clone(),
        Arc::new(StaticProvider::new(Credentials::basic("octo", "pat"))),
    )
    .build()
}

fn realm() -> TokenRealm {
    TokenRealm::new("https://ghcr.io/token", Some("ghcr.io".into()))
}

fn header(token: &BearerToken) -> String {
    token.authorization().unwrap().to_str().unwrap().to_owned()
}

#[tokio::test(start_paused = true)]
async fn one_fetch_for_a_hundred_concurrent_callers() {
    let script = Script::answering(&[]);
    let tokens = manager(&script);
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    let calls = (0..100).map(|_| {
        let tokens = tokens.clone();
        let scopes = scopes.clone();
        tokio::spawn(async move {
            tokens
                .token("ghcr.io", &realm(), &scopes)
                .await
                .map(|t| header(&t))
        })
    });
    let results = futures_join(calls).await;
    assert!(results.iter().all(|r| r == "Bearer token-0"), "{results:?}");
    assert_eq!(script.calls.load(Ordering::SeqCst), 1);
    assert_eq!(tokens.fetch_count(), 1);
    let seen = script.seen.lock().unwrap();
    assert!(
        seen[0].headers()[http::header::AUTHORIZATION]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
}

async fn futures_join(
    handles: impl Iterator<Item = tokio::task::JoinHandle<Result<String>>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap().unwrap());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn tokens_without_expiry_live_sixty_seconds_minus_the_margin() {
    let script = Script::answering(&[]);
    let tokens = manager(&script);
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer token-0"
    );
    tokio::time::advance(Duration::from_secs(49)).await;
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer token-0"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer token-1"
    );
}

#[tokio::test(start_paused = true)]
async fn expires_in_is_honoured() {
    let script = Script::answering(&[(200, r#"{"token":"long","expires_in":600}"#)]);
    let tokens = manager(&script);
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    tokio::time::advance(Duration::from_secs(585)).await;
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer long"
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_ne!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer long"
    );
}

#[tokio::test(start_paused = true)]
async fn scopes_are_separate_keys_and_invalidate_forces_a_fetch() {
    let script = Script::answering(&[]);
    let tokens = manager(&script);
    let pull = ScopeSet::single(Scope::pull("octo/app"));
    let push = ScopeSet::single(Scope::push("octo/app"));
    tokens.token("ghcr.io", &realm(), &pull).await.unwrap();
    tokens.token("ghcr.io", &realm(), &push).await.unwrap();
    assert_eq!(tokens.fetch_count(), 2);
    tokens.remember_realm("ghcr.io", realm());
    assert!(tokens.cached("ghcr.io", &pull).is_some());
    tokens.invalidate("ghcr.io", &pull);
    assert!(tokens.cached("ghcr.io", &pull).is_none());
    assert!(tokens.cached("ghcr.io", &push).is_some());
    tokens.token("ghcr.io", &realm(), &pull).await.unwrap();
    assert_eq!(tokens.fetch_count(), 3);
}

#[tokio::test(start_paused = true)]
async fn refusals_and_unsafe_realms() {
    let script = Script::answering(&[(
        401,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
    )]);
    let tokens = manager(&script);
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    let err = tokens
        .token("ghcr.io", &realm(), &scopes)
        .await
        .unwrap_err();
    assert!(matches!(err, crate::Error::AuthFailed { .. }), "{err}");
    let plain = TokenRealm::new("http://127.0.0.1:1/token", None);
    let err = tokens.token("ghcr.io", &plain, &scopes).await.unwrap_err();
    assert!(matches!(err, crate::Error::UnsafeRealm { .. }), "{err}");
    assert_eq!(
        script.calls.load(Ordering::SeqCst),
        1,
        "an unsafe realm must not be contacted"
    );
}

#[tokio::test(start_paused = true)]
async fn anonymous_requests_carry_no_authorization() {
    let script = Script::answering(&[]);
    let tokens = TokenManager::builder(script.clone(), Arc::new(AnonymousProvider))
        .allow_plain_http("127.0.0.1:5000")
        .build();
    let local = TokenRealm::new("http://127.0.0.1:5001/token", Some("local".into()));
    tokens
        .token(
            "127.0.0.1:5000",
            &local,
            &ScopeSet::single(Scope::pull("a")),
        )
        .await
        .unwrap();
    let seen = script.seen.lock().unwrap();
    assert!(seen[0].headers().get(http::header::AUTHORIZATION).is_none());
    assert!(
        seen[0]
            .uri()
            .to_string()
            .starts_with("http://127.0.0.1:5001/token?service=local&scope=")
    );
}

#[test]
fn debug_never_shows_a_token() {
    let token = BearerToken {
        value: Arc::new(SecretString::from("very-secret".to_owned())),
        refresh_at: Instant::now(),
        serial: 0,
    };
    assert!(!format!("{token:?}").contains("very-secret"));
}

#[tokio::test(start_paused = true)]
async fn absurd_lifetimes_are_capped_instead_of_overflowing() {
    let script = Script::answering(&[(
        200,
        r#"{"token":"forever","expires_in":18446744073709551615}"#,
    )]);
    let tokens = manager(&script);
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    let token = tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    assert_eq!(header(&token), "Bearer forever");
    assert!(token.refresh_at() <= Instant::now() + MAX_LIFETIME);
    tokio::time::advance(MAX_LIFETIME).await;
    assert_ne!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer forever",
        "no token is trusted for longer than a day"
    );
}

#[tokio::test(start_paused = true)]
async fn short_lifetimes_are_raised_to_the_spec_minimum() {
    // The token spec says a token never lives less than 60 s; docker's client
    // raises shorter lifetimes to 60 s, and so do we, so that callers queued
    // behind a fetch share its token instead of fetching again.
    let script = Script::answering(&[(200, r#"{"token":"brief","expires_in":0}"#)]);
    let tokens = manager(&script);
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let tokens = tokens.clone();
            let scopes = scopes.clone();
            tokio::spawn(async move {
                tokens
                    .token("ghcr.io", &realm(), &scopes)
                    .await
                    .map(|t| header(&t))
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "Bearer brief");
    }
    assert_eq!(tokens.fetch_count(), 1);
    tokio::time::advance(Duration::from_secs(45)).await;
    tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    assert_eq!(
        tokens.fetch_count(),
        1,
        "still within 60 s minus the margin"
    );
}

#[tokio::test(start_paused = true)]
async fn odd_lifetime_fields_do_not_lose_the_token() {
    for body in [
        r#"{"token":"t","expires_in":300.0}"#,
        r#"{"token":"t","expires_in":"300"}"#,
        r#"{"token":"t","expires_in":-5}"#,
        r#"{"token":"t","issued_at":"yesterday"}"#,
        r#"{"token":"t","expires_in":300,"issued_at":12}"#,
    ] {
        let script = Script::answering(&[(200, body)]);
        let tokens = manager(&script);
        let scopes = ScopeSet::single(Scope::pull("octo/app"));
        let token = tokens.token("ghcr.io", &realm(), &scopes).await;
        assert_eq!(
            token.map(|t| header(&t)).map_err(|e| e.to_string()),
            Ok("Bearer t".to_owned()),
            "{body}"
        );
    }
}

fn pull_key() -> TokenKey {
    TokenKey {
        registry: "ghcr.io".to_owned(),
        service: "ghcr.io".to_owned(),
        scopes: ScopeSet::single(Scope::pull("octo/app")),
    }
}

#[tokio::test(start_paused = true)]
async fn invalidate_is_not_lost_while_another_caller_holds_the_slot() {
    let script = Script::answering(&[]);
    let tokens = manager(&script);
    let scopes = pull_key().scopes;
    tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    // Another caller is reading the cached token at the moment a 401 says it is dead.
    let slot = tokens.slot(&pull_key());
    let busy = slot.lock();
    tokens.invalidate("ghcr.io", &scopes);
    drop(busy);
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer token-1"
    );
}

#[tokio::test(start_paused = true)]
async fn invalidating_a_refused_token_keeps_a_newer_one() {
    let script = Script::answering(&[]);
    let tokens = manager(&script);
    let scopes = pull_key().scopes;
    let first = tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    tokens.invalidate_token("ghcr.io", &scopes, &first);
    let second = tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    assert_eq!(header(&second), "Bearer token-1");
    // A slow request that was sent with the first token reports its 401 late.
    tokens.invalidate_token("ghcr.io", &scopes, &first);
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer token-1"
    );
    assert_eq!(tokens.fetch_count(), 2);
    tokens.invalidate_token("ghcr.io", &scopes, &second);
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &scopes).await.unwrap()),
        "Bearer token-2"
    );
    // Other scopes keep their tokens.
    let push = ScopeSet::single(Scope::push("octo/app"));
    let pushed = tokens.token("ghcr.io", &realm(), &push).await.unwrap();
    tokens.invalidate("ghcr.io", &scopes);
    assert_eq!(
        header(&tokens.token("ghcr.io", &realm(), &push).await.unwrap()),
        header(&pushed)
    );
}

#[tokio::test(start_paused = true)]
async fn callers_queued_behind_a_refused_fetch_share_its_error() {
    let script = Script::answering(&[(
        403,
        r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
    )]);
    let tokens = manager(&script);
    let scopes = pull_key().scopes;
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let tokens = tokens.clone();
            let scopes = scopes.clone();
            tokio::spawn(async move { tokens.token("ghcr.io", &realm(), &scopes).await })
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, crate::Error::AuthFailed { message, .. } if message.contains("DENIED")),
            "{err}"
        );
    }
    assert_eq!(
        script.calls.load(Ordering::SeqCst),
        1,
        "one refusal is enough for everyone who was waiting for it"
    );
    // A later caller tries again (the credentials may have been fixed).
    tokens.token("ghcr.io", &realm(), &scopes).await.unwrap();
    assert_eq!(script.calls.load(Ordering::SeqCst), 2);
}

/// A token endpoint that sends nothing, ever (a realm that sent its head
/// and then stopped looks the same from here).
#[derive(Debug, Default)]
struct Stuck {
    calls: AtomicUsize,
}

impl TokenClient for Stuck {
    fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> BoxFuture<'_, std::result::Result<http::Response<Bytes>, BoxError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn a_stuck_fetch_times_out_for_its_caller_and_everyone_waiting_on_it() {
    let stuck = Arc::new(Stuck::default());
    let tokens = TokenManager::builder(stuck.clone(), Arc::new(AnonymousProvider)).build();
    let scopes = pull_key().scopes;
    let started = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let tokens = tokens.clone();
            let scopes = scopes.clone();
            tokio::spawn(async move {
                // An hour stands for "forever": the manager must answer long before.
                tokio::time::timeout(
                    Duration::from_secs(3600),
                    tokens.token("ghcr.io", &realm(), &scopes),
                )
                .await
            })
        })
        .collect();
    for call in calls {
        let outcome = call
            .await
            .unwrap()
            .expect("a caller waited an hour for a stuck fetch");
        let err = outcome.unwrap_err();
        assert!(
            matches!(&err, crate::Error::TokenTimeout { after, .. } if *after == Duration::from_secs(30)),
            "{err}"
        );
        assert!(err.to_string().contains("30 s"), "{err}");
    }
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert_eq!(stuck.calls.load(Ordering::SeqCst), 1);
    // The cache is not wedged: a later caller starts a fetch of its own.
    let later = tokio::time::timeout(
        Duration::from_secs(60),
        tokens.token("ghcr.io", &realm(), &scopes),
    )
    .await;
    assert!(
        matches!(later, Ok(Err(crate::Error::TokenTimeout { .. }))),
        "{later:?}"
    );
    assert_eq!(stuck.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_fetcher_hands_the_fetch_to_a_waiter() {
    let script = Script::answering(&[]);
    let tokens = manager(&script);
    let scopes = pull_key().scopes;
    let first = {
        let tokens = tokens.clone();
        let scopes = scopes.clone();
        tokio::spawn(async move { tokens.token("ghcr.io", &realm(), &scopes).await })
    };
    tokio::task::yield_now().await;
    let second = {
        let tokens = tokens.clone();
        let scopes = scopes.clone();
        tokio::spawn(async move { tokens.token("ghcr.io", &realm(), &scopes).await })
    };
    tokio::task::yield_now().await;
    first.abort();
    let token = second.await.unwrap().unwrap();
    assert_eq!(header(&token), "Bearer token-1");
    assert_eq!(script.calls.load(Ordering::SeqCst), 2);
}
