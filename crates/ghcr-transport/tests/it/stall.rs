//! Bodies that stop or never end, from a raw server on 127.0.0.1 that
//! sends a response head and then as little as it likes, on a paused clock.

use std::net::SocketAddr;
use std::time::Duration;

use ghcr_transport::{Error, Transport};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::support::{get, pull};

/// An hour stands for "forever": the transport must give up long before.
const FOREVER: Duration = Duration::from_secs(3600);

/// Reads one request head and returns its path, without the query.
async fn request_path(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return String::new();
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    let target = line.split(' ').nth(1).unwrap_or_default();
    target.split('?').next().unwrap_or_default().to_owned()
}

/// Serves, per path: `/v2/…` a 401 pointing at `/token`; `/token` and
/// `/blob` a head and a few bytes, then nothing while the connection stays
/// open; `/huge-token` an endless chunked body.
async fn stalling_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                loop {
                    let path = request_path(&mut stream).await;
                    let answer = match path.as_str() {
                        "" => return,
                        "/blob" | "/token" => {
                            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"tok".to_owned()
                        }
                        "/huge-token" => {
                            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                            for _ in 0..1600 {
                                if stream.write_all(chunk.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                            return;
                        }
                        _ => {
                            let realm = if path.contains("huge") {
                                "huge-token"
                            } else {
                                "token"
                            };
                            format!(
                                "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer realm=\"http://{addr}/{realm}\",service=\"test\"\r\n\r\n"
                            )
                        }
                    };
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    if path == "/blob" || path == "/token" {
                        // Keep the connection open and silent.
                        std::future::pending::<()>().await;
                    }
                }
            });
        }
    });
    addr
}

fn transport(addr: SocketAddr) -> ghcr_transport::TransportBuilder {
    Transport::builder().allow_plain_http(addr.to_string())
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stops_fails_after_the_idle_timeout() {
    let addr = stalling_server().await;
    let transport = transport(addr)
        .idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("http://{addr}/blob");
    let response = transport
        .send_checked(get(&url, ghcr_transport::AuthScope::Anonymous))
        .await
        .unwrap();
    let started = Instant::now();
    let read = tokio::time::timeout(FOREVER, response.into_body().collect())
        .await
        .expect("the body read waited an hour for a stalled server");
    let error = read.unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(6),
        "{took:?}"
    );
    let text = error.to_string();
    assert!(text.contains(&url) && text.contains("5 s"), "{text}");
    assert!(
        matches!(error.downcast_ref::<Error>(), Some(Error::Stalled { after, .. }) if *after == Duration::from_secs(5)),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn callers_of_a_scope_whose_token_answer_stalls_all_fail_in_bounded_time() {
    let addr = stalling_server().await;
    let transport = transport(addr)
        .timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let calls: Vec<_> = (0..2)
        .map(|i| {
            let transport = transport.clone();
            let url = format!("http://{addr}/v2/o/a/manifests/{i}");
            tokio::spawn(async move {
                tokio::time::timeout(FOREVER, transport.send_checked(get(&url, pull("o/a")))).await
            })
        })
        .collect();
    for call in calls {
        let outcome = call
            .await
            .unwrap()
            .expect("a caller waited an hour behind a stalled token fetch");
        let error = outcome.unwrap_err();
        assert!(
            matches!(&error, Error::Auth(ghcr_auth::Error::TokenTimeout { after, .. }) if *after == Duration::from_secs(10)),
            "{error:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(11),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(transport.token_fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hundred_mebibyte_token_answer_is_refused() {
    let addr = stalling_server().await;
    let transport = transport(addr).build().unwrap();
    let url = format!("http://{addr}/v2/huge/manifests/latest");
    let outcome = tokio::time::timeout(FOREVER, transport.send_checked(get(&url, pull("huge"))))
        .await
        .expect("the token read waited an hour");
    let error = outcome.unwrap_err();
    let chain = {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    };
    assert!(chain.contains("larger than 1024 KiB"), "{chain}");
}
