//! Every metric the transport promises exists in the caller's registry and
//! moves when the thing it counts happens.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ghcr_auth::{BoxFuture, CredentialProvider, Credentials, StaticProvider};
use ghcr_transport::{AuthScope, Body, Endpoint, Transport};
use http_body_util::BodyExt;
use prometheus_client::registry::Registry;

use crate::support::{Script, challenge_reply, get, pull, reply};

/// The value of the sample named exactly `sample` (name and labels).
fn value(text: &str, sample: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample `{sample}` in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).unwrap();
    text
}

/// Credentials that take a moment, like a Docker credential helper.
#[derive(Debug)]
struct SlowProvider(StaticProvider);

impl CredentialProvider for SlowProvider {
    fn credentials<'a>(
        &'a self,
        host: &'a str,
    ) -> BoxFuture<'a, ghcr_auth::Result<Option<Credentials>>> {
        Box::pin(async move {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.0.credentials(host).await
        })
    }
}

fn with_endpoint(mut request: http::Request<Body>, endpoint: &'static str) -> http::Request<Body> {
    request.extensions_mut().insert(Endpoint(endpoint));
    request
}

/// A registry with a slow token endpoint, a flaky path, a rate-limited path
/// and a GitHub API host that reports its budget.
fn instrumented() -> Transport {
    let flaky = AtomicBool::new(true);
    let limited = AtomicBool::new(true);
    let script = Script::new(move |seen, _| {
        let path = seen.uri.path();
        if path == "/token" {
            return reply(200, &[], r#"{"token":"t"}"#);
        }
        if seen.uri.host() == Some("api.github.test") {
            return reply(
                200,
                &[
                    ("x-ratelimit-limit", "5000"),
                    ("x-ratelimit-remaining", "4321"),
                    ("x-ratelimit-reset", "4102444800"),
                    ("x-ratelimit-resource", "core"),
                ],
                "[]",
            );
        }
        if seen.authorization().is_none() {
            return challenge_reply("https://registry.test/token");
        }
        match path {
            // Each fails once, then works.
            "/v2/o/a/flaky" if flaky.swap(false, Ordering::SeqCst) => reply(503, &[], "busy"),
            "/v2/o/a/limited" if limited.swap(false, Ordering::SeqCst) => {
                reply(429, &[("retry-after", "1")], "")
            }
            _ => reply(200, &[], "0123456789"),
        }
    });
    // A token endpoint that takes a while, so that callers pile up behind the fetch.
    let wire = script.delayed(|uri| {
        if uri.path() == "/token" {
            std::time::Duration::from_millis(50)
        } else {
            std::time::Duration::ZERO
        }
    });
    Transport::builder()
        .credentials(Arc::new(SlowProvider(StaticProvider::new(
            Credentials::basic("octo", "pat"),
        ))))
        .wire(wire)
        .retry_backoff(
            std::time::Duration::from_millis(1),
            std::time::Duration::from_millis(1),
        )
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn every_metric_is_registered_and_moves() {
    let transport = instrumented();
    let mut registry = Registry::default();
    transport.register_metrics(&mut registry);

    // A hundred reads at once behind one token fetch; read every body.
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let transport = transport.clone();
            tokio::spawn(async move {
                let request = with_endpoint(
                    get("https://registry.test/v2/o/a/blobs/x", pull("o/a")),
                    "blobs",
                );
                let response = transport.send_checked(request).await.unwrap();
                response
                    .into_body()
                    .collect()
                    .await
                    .unwrap()
                    .to_bytes()
                    .len()
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 10);
    }
    let mut upload = http::Request::put("https://registry.test/v2/o/a/manifests/v1")
        .body(Body::from(vec![0u8; 1234]))
        .unwrap();
    upload.extensions_mut().insert(pull("o/a"));
    transport
        .send_checked(with_endpoint(upload, "manifests"))
        .await
        .unwrap();
    // A PUT that fails once: its body crosses the wire twice.
    let mut flaky = http::Request::put("https://registry.test/v2/o/a/flaky")
        .body(Body::from(vec![1u8; 100]))
        .unwrap();
    flaky.extensions_mut().insert(pull("o/a"));
    transport.send_checked(flaky).await.unwrap();
    // A streamed body of unknown length still counts.
    let mut streamed = http::Request::patch("https://registry.test/v2/o/a/blobs/uploads/s")
        .body(Body::stream(
            Body::from(vec![2u8; 50]).into_http_body(),
            None,
        ))
        .unwrap();
    streamed.extensions_mut().insert(pull("o/a"));
    transport.send_checked(streamed).await.unwrap();
    transport
        .send_checked(get("https://registry.test/v2/o/a/limited", pull("o/a")))
        .await
        .unwrap();
    transport
        .send_checked(get(
            "https://api.github.test/user/packages",
            AuthScope::GitHubApi,
        ))
        .await
        .unwrap();
    transport
        .send(get("http://plain.test/v2/", AuthScope::Anonymous))
        .await
        .unwrap_err();

    let text = encode(&registry);
    let requests = |labels: &str| value(&text, &format!("ghcr_requests_total{{{labels}}}"));
    assert_eq!(
        requests(r#"method="GET",endpoint="blobs",status="200""#),
        100
    );
    assert_eq!(
        requests(r#"method="PUT",endpoint="manifests",status="200""#),
        1
    );
    assert_eq!(
        requests(r#"method="GET",endpoint="other",status="error""#),
        1
    );
    assert_eq!(
        value(
            &text,
            r#"ghcr_request_duration_seconds_count{method="GET",endpoint="blobs"}"#
        ),
        100
    );
    assert_eq!(value(&text, "ghcr_token_fetches_total"), 1);
    assert_eq!(value(&text, "ghcr_retries_total"), 1);
    assert_eq!(value(&text, "ghcr_rate_limit_waits_total"), 1);
    assert_eq!(
        value(&text, r#"ghcr_rate_limit_remaining{resource="core"}"#),
        4321
    );
    assert_eq!(value(&text, r#"ghcr_errors_total{kind="config"}"#), 1);
    // Bytes on the wire: the manifest, the flaky PUT twice, the stream.
    assert_eq!(value(&text, "ghcr_bytes_sent_total"), 1234 + 2 * 100 + 50);
    assert!(value(&text, "ghcr_bytes_received_total") >= 1000);
}
