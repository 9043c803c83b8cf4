//! Two budgets. For the GitHub REST API: track `x-ratelimit-*` per
//! resource, and past a threshold of the budget used (design: 80 %) spread
//! the remaining requests until the reset; wait out primary and secondary
//! limits as GitHub's docs say. For registries: honour `Retry-After` and
//! ghcr.io's `retry-after: <go duration>` body on 429. Every wait is capped;
//! past the cap the caller gets [`crate::Error::RateLimited`], not a hang.

mod headers;
mod policy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ghcr_types::RateLimitInfo;
use http::StatusCode;
use time::OffsetDateTime;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

use crate::body::{Body, BoxError, HttpBody, full, read_limited, try_clone_request};
use crate::metrics::Metrics;
use crate::request::{Attempts, AuthScope, LeftOrigin};
use crate::stack::{Inner, ResponseFuture};

/// How many rate-limit waits one request may sit through.
const MAX_WAITS: u32 = 5;

/// The latest budgets seen, shared with [`crate::Transport::rate_limits`],
/// and when the next paced API request may go.
#[derive(Debug, Default)]
pub(crate) struct RateLimitState {
    budgets: Mutex<HashMap<String, RateLimitInfo>>,
    next_send: Mutex<Option<Instant>>,
}

impl RateLimitState {
    pub(crate) fn snapshot(&self) -> Vec<RateLimitInfo> {
        let mut all: Vec<RateLimitInfo> = self
            .budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.resource.cmp(&b.resource));
        all
    }

    fn core(&self) -> Option<RateLimitInfo> {
        self.budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get("core")
            .cloned()
    }

    /// Books the next send slot, `spacing` after the last one booked (or
    /// after `now`), so that concurrent callers go one by one instead of
    /// together. `Err` with the wait when it would be over `max_wait`.
    fn book(
        &self,
        now: Instant,
        spacing: Duration,
        max_wait: Duration,
    ) -> Result<Instant, Duration> {
        let mut next = self
            .next_send
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let at = next.map_or(now, |booked| booked.max(now)) + spacing;
        let wait = at - now;
        if wait > max_wait {
            return Err(wait);
        }
        *next = Some(at);
        Ok(at)
    }

    fn record(&self, info: RateLimitInfo) {
        self.budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(info.resource.clone(), info);
    }
}

/// Settings of the rate-limit layer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateLimitSettings {
    pub(crate) threshold: f64,
    pub(crate) max_wait: Duration,
}

/// Applies [`RateLimitService`].
#[derive(Clone, Debug)]
pub(crate) struct RateLimitLayer {
    state: Arc<RateLimitState>,
    settings: RateLimitSettings,
    metrics: Arc<Metrics>,
}

impl RateLimitLayer {
    pub(crate) fn new(
        state: Arc<RateLimitState>,
        settings: RateLimitSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            state,
            settings,
            metrics,
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            layer: self.clone(),
        }
    }
}

/// Paces API requests and waits out rate limits.
#[derive(Clone, Debug)]
pub(crate) struct RateLimitService<S> {
    inner: S,
    layer: RateLimitLayer,
}

fn limited(
    host: &str,
    reset_at: Option<OffsetDateTime>,
    retry_after: Option<Duration>,
    message: String,
) -> BoxError {
    Box::new(crate::Error::RateLimited {
        host: host.to_owned(),
        reset_at,
        retry_after,
        message,
    })
}

impl<S: Inner> Service<http::Request<Body>> for RateLimitService<S> {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let layer = self.layer.clone();
        Box::pin(async move {
            let api = matches!(
                request.extensions().get::<AuthScope>(),
                Some(AuthScope::GitHubApi)
            );
            let host = crate::error::host_and_port(request.uri());
            if api {
                layer.pace(&host).await?;
            }
            layer.send(inner, request, api, &host).await
        })
    }
}

impl RateLimitLayer {
    /// Past the threshold of the API budget, waits before sending so that
    /// the requests left last until the reset: each request books a slot
    /// one spacing after the previous one, however many run at once. With
    /// nothing left, every request waits for the reset itself.
    async fn pace(&self, host: &str) -> Result<(), BoxError> {
        let Some(info) = self.state.core() else {
            return Ok(());
        };
        let Some(spacing) =
            policy::throttle_delay(&info, self.settings.threshold, OffsetDateTime::now_utc())
        else {
            return Ok(());
        };
        let now = Instant::now();
        let booked = if info.remaining == 0 {
            // Nothing left: everyone waits for the reset; there is no slot to book.
            if spacing > self.settings.max_wait {
                Err(spacing)
            } else {
                Ok(now + spacing)
            }
        } else {
            self.state.book(now, spacing, self.settings.max_wait)
        };
        let send_at = booked.map_err(|wait| {
            limited(
                host,
                Some(info.reset),
                Some(wait),
                format!(
                    "{} of {} requests left; wait for the reset or raise the maximum wait",
                    info.remaining, info.limit
                ),
            )
        })?;
        tracing::warn!(
            wait_ms = millis(send_at - now),
            remaining = info.remaining,
            "throttling GitHub API requests"
        );
        self.metrics.rate_limit_wait();
        tokio::time::sleep_until(send_at).await;
        Ok(())
    }

    /// Sends, recording the budget each answer reports, and waits out a
    /// rate-limit answer as long as the wait is allowed.
    async fn send<S: Inner>(
        &self,
        inner: S,
        mut request: http::Request<Body>,
        api: bool,
        host: &str,
    ) -> Result<http::Response<HttpBody>, BoxError> {
        let mut waits = 0;
        // Attempts of the earlier sends: the caller learns the total, so a
        // 404 after a lost answer and a wait is not taken for a first send.
        let mut sent: u32 = 0;
        loop {
            let copy = try_clone_request(&request);
            let mut response = inner.clone().oneshot(request).await?;
            let attempts = response.extensions().get::<Attempts>().map_or(1, |a| a.0);
            sent = sent.saturating_add(attempts);
            response.extensions_mut().insert(Attempts(sent));
            // Only the GitHub API's own answers set its budget: a registry
            // (or a host an API redirect led to) saying `remaining: 0` must
            // not stall API calls.
            let from_api = api && response.extensions().get::<LeftOrigin>().is_none();
            if from_api
                && let Ok(Some(mut info)) = RateLimitInfo::from_headers(|name| {
                    response.headers().get(name).and_then(|v| v.to_str().ok())
                })
            {
                headers::bounded_resource(&info.resource).clone_into(&mut info.resource);
                self.metrics
                    .rate_limit_remaining(&info.resource, info.remaining);
                self.state.record(info);
            }
            let status = response.status();
            if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::FORBIDDEN {
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            let bytes = read_limited(body, 64 * 1024).await?;
            let text = String::from_utf8_lossy(&bytes);
            let verdict = policy::classify(
                status,
                &parts.headers,
                &text,
                api,
                waits,
                OffsetDateTime::now_utc(),
            );
            let policy::Verdict::Wait {
                delay,
                reset_at,
                reason,
            } = verdict
            else {
                return Ok(http::Response::from_parts(parts, full(bytes)));
            };
            // Spread clients that were told the same time. The delay comes
            // from the server: add without overflowing.
            let delay = delay.saturating_add(jitter(delay));
            let next = match refusal(reason, delay, self.settings.max_wait, waits, copy) {
                Ok(next) => next,
                Err(message) => return Err(limited(host, reset_at, Some(delay), message)),
            };
            tracing::warn!(wait_ms = millis(delay), reason, "rate limited, waiting");
            self.metrics.rate_limit_wait();
            tokio::time::sleep(delay).await;
            request = next;
            waits += 1;
        }
    }
}

/// The request to send again after waiting `delay`, or why the caller
/// gets [`crate::Error::RateLimited`] instead.
fn refusal(
    reason: &str,
    delay: Duration,
    max_wait: Duration,
    waits: u32,
    copy: Option<http::Request<Body>>,
) -> Result<http::Request<Body>, String> {
    if delay > max_wait {
        return Err(format!(
            "{reason}: asked to wait {} s, over the allowed maximum; retry later",
            delay.as_secs()
        ));
    }
    if waits >= MAX_WAITS {
        return Err(format!(
            "{reason}: still limited after {MAX_WAITS} waits; retry later"
        ));
    }
    copy.ok_or_else(|| {
        format!(
            "{reason}: the request body was streamed and cannot be sent again; retry the operation after {} s",
            delay.as_secs()
        )
    })
}

/// Up to a tenth of `delay` more, at random.
fn jitter(delay: Duration) -> Duration {
    Duration::try_from_secs_f64(delay.as_secs_f64() * fastrand::f64() * 0.1)
        .unwrap_or(Duration::ZERO)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
