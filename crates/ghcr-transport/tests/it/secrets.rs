//! Tokens never appear in Debug output, tracing output or errors.

use std::sync::Arc;

use ghcr_auth::{Credentials, StaticProvider};
use ghcr_transport::{AuthScope, Transport};

use crate::support::{LogCapture, Script, challenge_reply, get, pull, reply};

const PAT: &str = "ghp_PatThatMustNotLeak";
const TOKEN: &str = "registry-token-that-must-not-leak";

#[tokio::test]
async fn tracing_debug_and_errors_carry_no_secret() {
    let capture = LogCapture::start();

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
            None => challenge_reply("https://registry.test/token"),
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
    let logs = capture.text();
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

#[tokio::test]
async fn credentials_in_a_url_stay_out_of_logs_and_errors() {
    let capture = LogCapture::start();
    let script = Script::new(|_, _| reply(404, &[], "nothing"));
    let transport = Transport::builder().wire(script).build().unwrap();
    let err = transport
        .send_checked(get(
            "https://octo:url-secret@registry.test/v2/o/a/manifests/x?sig=query-secret",
            AuthScope::Anonymous,
        ))
        .await
        .unwrap_err();
    let logs = capture.text();
    // The request's span carries the stable fields, the path without its query.
    for field in [
        "ghcr.request",
        "method=GET",
        "host=registry.test",
        r#"path="/v2/o/a/manifests/x""#,
        "status=404",
        "attempts=1",
        "duration_ms=",
    ] {
        assert!(logs.contains(field), "no `{field}` in {logs}");
    }
    let everything = format!("{logs}\n{err}\n{err:?}");
    for secret in ["url-secret", "query-secret"] {
        assert!(
            !everything.contains(secret),
            "`{secret}` leaked: {everything}"
        );
    }
}
