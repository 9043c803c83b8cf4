//! The boundary between the stack and the innermost service: request bodies
//! become wire bodies, the User-Agent is set, plain HTTP is refused unless
//! enabled for the host, and every response body gets the idle timeout.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_LENGTH, HeaderValue, USER_AGENT};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use crate::body::{Body, BoxError, HttpBody};
use crate::idle::idle_timeout;
use crate::metrics::Metrics;
use crate::request::PlainHttpRedirect;
use crate::stack::ResponseFuture;
use crate::{Error, error::redact_url};

/// Any innermost service: the hyper client, a recorder, a replayer, a test script.
pub type WireService =
    BoxCloneSyncService<http::Request<HttpBody>, http::Response<HttpBody>, BoxError>;

/// Adapts the stack's requests to a [`WireService`].
#[derive(Clone)]
pub(crate) struct Wire {
    inner: WireService,
    user_agent: HeaderValue,
    plain_http_hosts: Arc<HashSet<String>>,
    metrics: Arc<Metrics>,
    idle: Duration,
}

impl Wire {
    pub(crate) fn new(
        inner: WireService,
        user_agent: HeaderValue,
        plain_http_hosts: Arc<HashSet<String>>,
        metrics: Arc<Metrics>,
        idle: Duration,
    ) -> Self {
        Self {
            inner,
            user_agent,
            plain_http_hosts,
            metrics,
            idle,
        }
    }

    fn check_scheme(&self, request: &http::Request<Body>) -> Result<(), Error> {
        let uri = request.uri();
        match uri.scheme_str() {
            Some("https") => Ok(()),
            Some("http") => {
                let host = crate::error::host_and_port(uri);
                let redirected_on_loopback =
                    request.extensions().get::<PlainHttpRedirect>().is_some()
                        && ghcr_auth::is_loopback_host(&host);
                if self.plain_http_hosts.contains(&host) || redirected_on_loopback {
                    Ok(())
                } else {
                    Err(Error::Config {
                        reason: format!(
                            "refusing plain HTTP to {host}: enable it for this registry (--plain-http, allow_plain_http) if it really has no TLS"
                        ),
                    })
                }
            }
            _ => Err(Error::Config {
                reason: format!("`{}` is not an absolute http(s) URL", redact_url(uri)),
            }),
        }
    }
}

impl Service<http::Request<Body>> for Wire {
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
        if let Err(err) = self.check_scheme(&request) {
            return Box::pin(async move { Err(err.into()) });
        }
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        if let Some(length) = body.len()
            && !parts.headers.contains_key(CONTENT_LENGTH)
            && (length > 0
                || matches!(
                    parts.method,
                    http::Method::PUT | http::Method::POST | http::Method::PATCH
                ))
        {
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        let body = self.metrics.count_sent(body.into_http_body());
        let uri = parts.uri.clone();
        let request = http::Request::from_parts(parts, body);
        let idle = self.idle;
        // Boxed to a named type up front: rustc cannot prove the oneshot
        // future general enough over lifetimes inside the async block.
        let sent: ResponseFuture = Box::pin(self.inner.clone().oneshot(request));
        Box::pin(async move {
            let response = sent.await?;
            Ok(response.map(|body| idle_timeout(body, idle, &uri)))
        })
    }
}
