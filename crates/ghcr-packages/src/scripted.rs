//! A scripted wire for unit tests: answers each request from a closure and
//! keeps every request seen, so tests can check headers and URLs.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use ghcr_transport::{BoxError, HttpBody, Transport};
use http_body_util::{BodyExt, Full};

use crate::{PackagesClient, PackagesClientBuilder};

/// What the script answers: status, headers, body.
pub(crate) type Answer = (u16, Vec<(&'static str, String)>, String);

/// Requests the wire saw: method, URL, headers.
pub(crate) type Seen = Arc<Mutex<Vec<(http::Method, String, http::HeaderMap)>>>;

/// A client builder on a wire that answers with `script`.
pub(crate) fn client(
    script: impl Fn(&http::Method, &str) -> Answer + Send + Sync + 'static,
) -> (PackagesClientBuilder, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let script = Arc::new(script);
    let wire = tower::service_fn(move |request: http::Request<HttpBody>| {
        let script = script.clone();
        let log = log.clone();
        async move {
            let url = request.uri().to_string();
            log.lock().unwrap_or_else(PoisonError::into_inner).push((
                request.method().clone(),
                url.clone(),
                request.headers().clone(),
            ));
            let (status, headers, body) = script(request.method(), &url);
            let mut response = http::Response::new(
                Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            *response.status_mut() = http::StatusCode::from_u16(status)?;
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse()?);
            }
            Ok::<_, BoxError>(response)
        }
    });
    let transport = Transport::builder()
        .wire(wire)
        .max_retries(0)
        .build()
        .unwrap_or_else(|error| panic!("scripted transport: {error}"));
    (PackagesClient::builder(transport), seen)
}
