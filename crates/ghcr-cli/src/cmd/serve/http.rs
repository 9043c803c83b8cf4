//! The service's HTTP side: `/health` (the client's health check, 200 or
//! 503), `/ready` (200 while the scheduler runs), `/metrics` (Prometheus
//! text: the transport's metrics and the scheduler's).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use ghcr::{GhcrClient, HealthStatus, TokenCheck};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::net::TcpListener;

use super::stop::Stop;

/// What the handlers need.
#[derive(Clone)]
pub(crate) struct State {
    pub(crate) client: GhcrClient,
    pub(crate) metrics: Arc<Registry>,
    pub(crate) stop: Stop,
}

/// The health status as JSON.
pub(crate) fn health_json(status: &HealthStatus) -> serde_json::Value {
    let check = |check: &ghcr::Check| {
        json!({
            "target": check.target,
            "ok": check.ok,
            "latency_ms": check.latency.as_millis(),
            "error": check.error,
        })
    };
    let token = match status.token {
        TokenCheck::Acquired => "acquired",
        TokenCheck::Anonymous => "anonymous",
        _ => "failed",
    };
    json!({
        "status": if status.healthy { "ok" } else { "unhealthy" },
        "registry": check(&status.registry),
        "token": token,
        "api": status.api.as_ref().map(check),
        "rate_limits": status.rate_limits,
    })
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
            let status = state.client.health_check().await;
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
                Err(error) => respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("metrics could not be written: {error}\n"),
                ),
            }
        }
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /health, /ready or /metrics\n",
        ),
    })
}

/// Serves until the stop flag is set.
pub(crate) async fn serve(listener: TcpListener, state: State) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = state.stop.wait() => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a health or metrics connection ended badly");
            }
        });
    }
}
