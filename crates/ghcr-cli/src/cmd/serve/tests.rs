//! The HTTP side in-process, on a paused clock: /health answers from a
//! cache and says only status words, and the listener's limits hold
//! (header-read timeout, header size, connection count); what `--once`
//! exits with.

use std::sync::Arc;
use std::time::Duration;

use ::http::Method;
use ghcr::{GhcrClient, GhcrConfig};
use ghcr_sim::fake::FakeGhcr;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::health::{HEALTH_MAX_AGE, HealthCache};
use super::http::{self, Limits, State};
use super::stop::Stop;

const USER: &str = "octo";
const TOKEN: &str = "serve-test-token-3f9a";

async fn fake() -> FakeGhcr {
    FakeGhcr::builder().user(USER, TOKEN).start().await.unwrap()
}

fn client(fake: &FakeGhcr, token: &str) -> GhcrClient {
    let config = GhcrConfig::builder()
        .registry(fake.registry_host())
        .api_base(&fake.api_base())
        .allow_plain_http(fake.registry_host())
        .credentials(USER, token)
        .build()
        .unwrap();
    GhcrClient::new(config).unwrap()
}

/// Serves `client` on a free loopback port; the address to connect to.
async fn start(client: GhcrClient, limits: Limits) -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let state = State {
        health: Arc::new(HealthCache::new(client, HEALTH_MAX_AGE)),
        metrics: Arc::new(Registry::default()),
        stop: Stop::default(),
    };
    tokio::spawn(http::serve(listener, state, limits));
    address
}

/// Sends `request` and reads until the server closes: the status and body.
async fn exchange(address: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn get(address: &str, path: &str) -> (u16, String) {
    exchange(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// The outbound requests health checks made, as the fake counts them:
/// registry pings (`GET /v2/`: one check sends it twice, for the challenge
/// and then with the token) and API pings (`GET /rate_limit`).
fn checks(fake: &FakeGhcr) -> (usize, usize) {
    let log = fake.log();
    (
        log.count_where(|r| r.method == Method::GET && r.path == "/v2/"),
        log.count_where(|r| r.method == Method::GET && r.path == "/rate_limit"),
    )
}

#[tokio::test(start_paused = true)]
async fn a_health_flood_makes_one_check_per_target_per_window() {
    let fake = fake().await;
    let address = start(client(&fake, TOKEN), Limits::default()).await;
    // Twenty at once, then twenty one after another, within the window.
    let at_once: Vec<_> = (0..20).map(|_| get(&address, "/health")).collect();
    for (status, body) in futures_util::future::join_all(at_once).await {
        assert_eq!(status, 200, "{body}");
    }
    for _ in 0..20 {
        assert_eq!(get(&address, "/health").await.0, 200);
    }
    let (registry, api) = checks(&fake);
    assert!(
        (1..=2).contains(&registry),
        "one registry check (challenge and answer), not {registry} pings"
    );
    assert_eq!(api, 1, "one API check");
    assert_eq!(fake.log().token_fetches(), 1);
    // Once the window has passed, the next probe checks again.
    tokio::time::advance(HEALTH_MAX_AGE).await;
    assert_eq!(get(&address, "/health").await.0, 200);
    let (again, api) = checks(&fake);
    assert!(again > registry, "{again} registry pings");
    assert_eq!(api, 2);
}

const STATUS_WORDS: [&str; 5] = ["ok", "unhealthy", "failed", "acquired", "anonymous"];

#[tokio::test(start_paused = true)]
async fn health_says_only_status_words_when_checks_fail() {
    let fake = fake().await;
    let address = start(client(&fake, "a-refused-token"), Limits::default()).await;
    let (status, body) = get(&address, "/health").await;
    assert_eq!(status, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fields = health.as_object().unwrap();
    assert_eq!(health["status"], "unhealthy", "{body}");
    assert_eq!(health["token"], "failed", "{body}");
    for (name, value) in fields {
        assert!(
            value
                .as_str()
                .is_some_and(|word| STATUS_WORDS.contains(&word)),
            "{name} is not a status word: {body}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn half_a_header_is_cut_off_after_the_header_read_timeout() {
    let fake = fake().await;
    let address = start(client(&fake, TOKEN), Limits::default()).await;
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(300), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was still open after 300 s");
    assert!(
        started.elapsed() >= Limits::default().header_read_timeout,
        "cut off after {:?}",
        started.elapsed()
    );
    assert_eq!(checks(&fake), (0, 0), "no check for half a request");
}

#[tokio::test(start_paused = true)]
async fn oversized_headers_are_refused() {
    let fake = fake().await;
    let address = start(client(&fake, TOKEN), Limits::default()).await;
    let padding = "x".repeat(Limits::default().max_header_size + 1);
    let (status, _) = exchange(
        &address,
        &format!(
            "GET /ready HTTP/1.1\r\nHost: test\r\nX-Pad: {padding}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status, 431);
    assert_eq!(get(&address, "/ready").await.0, 200);
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_limit_wait_for_a_free_one() {
    let fake = fake().await;
    let limits = Limits::default();
    let address = start(client(&fake, TOKEN), limits.clone()).await;
    let mut idle = Vec::new();
    for _ in 0..limits.max_connections {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    // The idle ones hold every slot until the header-read timeout ends them.
    let started = Instant::now();
    assert_eq!(get(&address, "/ready").await.0, 200);
    assert!(
        started.elapsed() >= limits.header_read_timeout,
        "answered after {:?} with every slot taken",
        started.elapsed()
    );
    drop(idle);
}

/// `--once`: the first plan error's code, else `Other` for refused
/// deletions or a stop, else success.
#[test]
fn a_run_once_exits_with_the_code_of_what_went_wrong() {
    use super::Run;
    use crate::exit::{Code, classify};
    let not_found = || {
        anyhow::Error::from(ghcr::packages::Error::from(
            ghcr::transport::Error::from_parts(
                &Method::GET,
                &"https://api.github.com/users/octo/packages/container/nope"
                    .parse()
                    .unwrap(),
                ::http::StatusCode::NOT_FOUND,
                b"",
                1,
            ),
        ))
    };
    let run = |errors: Vec<anyhow::Error>, failed_deletions: usize| Run {
        errors,
        failed_deletions,
        failed_syncs: 0,
    };
    let code = |result: anyhow::Result<()>| result.err().map(|error| classify(&error));
    assert_eq!(code(run(vec![], 0).outcome(false)), None);
    let failed_sync = Run {
        failed_syncs: 2,
        ..Run::default()
    };
    assert_eq!(code(failed_sync.outcome(false)), Some(Code::Other));
    assert_eq!(
        code(run(vec![not_found()], 0).outcome(false)),
        Some(Code::NotFound)
    );
    assert_eq!(
        code(run(vec![anyhow::anyhow!("disk full"), not_found()], 2).outcome(false)),
        Some(Code::Other),
        "the first error decides"
    );
    assert_eq!(code(run(vec![], 1).outcome(false)), Some(Code::Other));
    assert_eq!(code(run(vec![], 0).outcome(true)), Some(Code::Other));
    let message = run(vec![not_found()], 3)
        .outcome(false)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("1 policy or package plan(s) failed, and 3 deletion(s) failed"),
        "{message}"
    );
}
