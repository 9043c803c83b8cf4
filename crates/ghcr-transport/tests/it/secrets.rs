//! Tokens never appear in Debug output, tracing output or errors.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ghcr_auth::{Credentials, StaticProvider};
use ghcr_transport::{AuthScope, Transport};

use crate::support::{Script, challenge, get, pull, reply};

const PAT: &str = "ghp_PatThatMustNotLeak";
const TOKEN: &str = "registry-token-that-must-not-leak";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tracing_debug_and_errors_carry_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let script = Script::new(|seen, _| {
        if seen.uri.path() == "/token" {
            return reply(200, &[], &format!(r#"{{"token":"{TOKEN}"}}"#));
        }
        match seen.authorization() {
            Some(_) if seen.uri.path().ends_with("/missing") => reply(
                404,
                &[],
                r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#,
            ),
            Some(_) => reply(503, &[], "busy"),
            None if seen.uri.host() == Some("api.github.test") => reply(200, &[], "{}"),
            None => reply(
                401,
                &[(
                    "www-authenticate",
                    &challenge("https://registry.test/token"),
                )],
                "",
            ),
        }
    });
    let transport = Transport::builder()
        .credentials(Arc::new(StaticProvider::new(Credentials::basic(
            "octo", PAT,
        ))))
        .wire(script.clone())
        .retry_backoff(
            std::time::Duration::from_millis(1),
            std::time::Duration::from_millis(1),
        )
        .build()
        .unwrap();
    let err = transport
        .send_checked(get(
            "https://registry.test/v2/o/a/blobs/x?sig=query-secret",
            pull("o/a"),
        ))
        .await
        .unwrap_err();
    let missing = transport
        .send_checked(get(
            "https://registry.test/v2/o/a/blobs/missing",
            pull("o/a"),
        ))
        .await
        .unwrap_err();
    transport
        .send(get("https://api.github.test/user", AuthScope::GitHubApi))
        .await
        .unwrap();

    let seen = script.seen();
    let authorized = seen.iter().find(|s| s.authorization().is_some()).unwrap();
    assert!(authorized.headers[http::header::AUTHORIZATION].is_sensitive());
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("ghcr.request"), "the capture works: {logs}");
    let everything = format!(
        "{logs}\n{err}\n{err:?}\n{missing}\n{missing:?}\n{transport:?}\n{:?}",
        seen.iter()
            .map(|s| format!("{:?}", s.headers))
            .collect::<Vec<_>>()
    );
    for secret in [PAT, TOKEN, "query-secret"] {
        assert!(!everything.contains(secret), "`{secret}` leaked");
    }
}
