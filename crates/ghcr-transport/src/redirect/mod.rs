//! Following redirects without leaking credentials.
//!
//! Blob GETs on ghcr.io answer 307 to a storage host with a signed URL. A hop
//! to another scheme, host or port loses Authorization, Cookie and
//! Proxy-Authorization, and its [`AuthScope`] becomes anonymous so the auth
//! layer (inside this one) does not put a token back; once a hop drops
//! them, later hops stay without. Never from https to http.

mod policy;

use http::Method;
use http::header::{AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use tower::{Layer, Service, ServiceExt};

use crate::body::{Body, BoxError, HttpBody, read_limited, try_clone_request};
use crate::error::redact_url;
use crate::request::{AuthScope, LeftOrigin, NoRedirect, PlainHttpRedirect};
use crate::stack::{Inner, ResponseFuture};

/// Applies [`RedirectService`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct RedirectLayer {
    max_redirects: u32,
}

impl RedirectLayer {
    pub(crate) fn new(max_redirects: u32) -> Self {
        Self { max_redirects }
    }
}

impl<S> Layer<S> for RedirectLayer {
    type Service = RedirectService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RedirectService {
            inner,
            max_redirects: self.max_redirects,
        }
    }
}

/// Follows redirects up to a limit.
#[derive(Clone, Debug)]
pub(crate) struct RedirectService<S> {
    inner: S,
    max_redirects: u32,
}

fn refuse(url: &http::Uri, reason: &'static str) -> BoxError {
    Box::new(crate::Error::Redirect {
        url: redact_url(url),
        reason,
    })
}

impl<S: Inner> Service<http::Request<Body>> for RedirectService<S> {
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
        let max_redirects = self.max_redirects;
        Box::pin(async move {
            if request.extensions().get::<NoRedirect>().is_some() {
                return inner.oneshot(request).await;
            }
            let mut request = request;
            let mut hops = 0;
            let mut left_origin = false;
            let finish = |mut response: http::Response<HttpBody>,
                          left_origin: bool|
             -> Result<http::Response<HttpBody>, BoxError> {
                if left_origin {
                    response.extensions_mut().insert(LeftOrigin);
                }
                Ok(response)
            };
            loop {
                let copy = try_clone_request(&request);
                let current = request.uri().clone();
                let method = request.method().clone();
                let response = inner.clone().oneshot(request).await?;
                let status = response.status();
                let Some(hop) = policy::hop(status, &method) else {
                    return finish(response, left_origin);
                };
                let Some(location) = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                else {
                    return finish(response, left_origin);
                };
                let next_uri = policy::resolve(&current, location)
                    .ok_or_else(|| refuse(&current, "the Location header is not a URL"))?;
                if policy::is_downgrade(&current, &next_uri) {
                    return Err(refuse(&current, "it leads from https to plain http"));
                }
                hops += 1;
                if hops > max_redirects {
                    return Err(refuse(&current, "too many redirects"));
                }
                let Some(mut next) = (match hop {
                    policy::Hop::Repeat => copy,
                    policy::Hop::Get => copy.map(|mut r| {
                        *r.method_mut() = Method::GET;
                        *r.body_mut() = Body::empty();
                        r.headers_mut().remove(http::header::CONTENT_LENGTH);
                        r.headers_mut().remove(http::header::CONTENT_TYPE);
                        r
                    }),
                }) else {
                    // A streamed body cannot be sent again: hand the redirect to the caller.
                    return finish(response, left_origin);
                };
                drop(read_limited(response.into_body(), 64 * 1024).await);
                *next.uri_mut() = next_uri.clone();
                if !policy::same_origin(&current, &next_uri) {
                    left_origin = true;
                    for header in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                        next.headers_mut().remove(header);
                    }
                    next.extensions_mut().insert(AuthScope::Anonymous);
                    if current.scheme_str() == Some("http") {
                        next.extensions_mut().insert(PlainHttpRedirect);
                    }
                }
                tracing::debug!(
                    from = %redact_url(&current),
                    to = %redact_url(&next_uri),
                    status = status.as_u16(),
                    "following redirect"
                );
                request = next;
            }
        })
    }
}
