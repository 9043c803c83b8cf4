//! The service's HTTP side: `/health` (the client's health check, cached,
//! 200 or 503), `/ready` (200 while the scheduler runs), `/metrics`
//! (Prometheus text: the transport's metrics and the scheduler's). None
//! needs authentication, so the listener bounds what a client may take
//! ([`Limits`]) and the answers carry no error text.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::health::{HealthCache, health_json};
use super::stop::Stop;

/// What the handlers need.
#[derive(Clone)]
pub(crate) struct State {
    pub(crate) health: Arc<HealthCache>,
    pub(crate) metrics: Arc<Registry>,
    pub(crate) stop: Stop,
}

/// What one client may take of the service: these endpoints need no
/// authentication, so a slow or greedy client must not hold it up.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// A request's headers must arrive within this time (also the most a
    /// kept-alive connection may idle). Default: 10 s.
    pub(crate) header_read_timeout: Duration,
    /// Request line and headers together, in bytes (431 above). Default: 8 KiB.
    pub(crate) max_header_size: usize,
    /// Headers in one request (431 above). Default: 32.
    pub(crate) max_headers: usize,
    /// Connections served at once; more wait to be accepted. Default: 64.
    pub(crate) max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_size: 8 * 1024,
            max_headers: 32,
            max_connections: 64,
        }
    }
}

fn respond(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}

async fn handle(
    state: State,
    request: http::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != http::Method::GET {
        return Ok(respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n",
        ));
    }
    Ok(match request.uri().path() {
        "/health" => {
            let status = state.health.status().await;
            let code = if status.healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            respond(code, "application/json", health_json(&status).to_string())
        }
        "/ready" if state.stop.is_set() => {
            respond(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "stopping\n")
        }
        "/ready" => respond(StatusCode::OK, "text/plain", "ready\n"),
        "/metrics" => {
            let mut text = String::new();
            match prometheus_client::encoding::text::encode(&mut text, &state.metrics) {
                Ok(()) => respond(
                    StatusCode::OK,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    text,
                ),
                Err(error) => {
                    tracing::warn!("metrics could not be written: {error}");
                    respond(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "failed\n")
                }
            }
        }
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /health, /ready or /metrics\n",
        ),
    })
}

/// Serves until the stop flag is set, within `limits`.
pub(crate) async fn serve(listener: TcpListener, state: State, limits: Limits) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_size)
        .max_headers(limits.max_headers);
    loop {
        // A free slot first: beyond the limit, connections wait in the
        // kernel's backlog instead of taking memory here.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = state.stop.wait() => return,
        };
        let Ok(slot) = slot else { return };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = state.stop.wait() => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let state = state.clone();
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |request| handle(state.clone(), request)),
        );
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a health or metrics connection ended badly");
            }
            drop(slot);
        });
    }
}
