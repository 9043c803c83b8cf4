//! `/health` for anyone who can reach the port: the client's health check
//! at most once per [`HEALTH_MAX_AGE`] whatever the number of probes (each
//! check calls the registry and the GitHub API, and a flood would trip
//! GitHub's secondary limits), answered with status words only. What went
//! wrong (it can hold what a registry or credential helper said) goes to
//! the log, not to the caller.

use std::sync::Arc;
use std::time::Duration;

use ghcr::{GhcrClient, HealthStatus, TokenCheck};
use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long a health result is served before the next probe checks again.
pub(crate) const HEALTH_MAX_AGE: Duration = Duration::from_secs(5);

/// The last health result and when it was had.
pub(crate) struct HealthCache {
    client: GhcrClient,
    max_age: Duration,
    last: Mutex<Option<(Instant, Arc<HealthStatus>)>>,
}

impl HealthCache {
    pub(crate) fn new(client: GhcrClient, max_age: Duration) -> Self {
        Self {
            client,
            max_age,
            last: Mutex::new(None),
        }
    }

    /// A result at most `max_age` old. Probes arriving during a check wait
    /// for it (the lock is held across it) rather than start their own.
    pub(crate) async fn status(&self) -> Arc<HealthStatus> {
        let mut last = self.last.lock().await;
        if let Some((at, status)) = last.as_ref()
            && at.elapsed() < self.max_age
        {
            return status.clone();
        }
        let status = Arc::new(self.client.health_check().await);
        log_failures(&status);
        *last = Some((Instant::now(), status.clone()));
        status
    }
}

fn log_failures(status: &HealthStatus) {
    for check in std::iter::once(&status.registry).chain(status.api.as_ref()) {
        if let Some(error) = &check.error {
            tracing::warn!("health check of {} failed: {error}", check.target);
        }
    }
}

fn word(ok: bool) -> &'static str {
    if ok { "ok" } else { "failed" }
}

/// The health status as JSON of status words, nothing a caller could learn
/// a secret or an internal message from.
pub(crate) fn health_json(status: &HealthStatus) -> serde_json::Value {
    let token = match status.token {
        TokenCheck::Acquired => "acquired",
        TokenCheck::Anonymous => "anonymous",
        _ => "failed",
    };
    let mut body = json!({
        "status": if status.healthy { "ok" } else { "unhealthy" },
        "registry": word(status.registry.ok),
        "token": token,
    });
    if let Some(api) = &status.api {
        body["api"] = word(api.ok).into();
    }
    body
}
