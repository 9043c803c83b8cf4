//! Which handler answers a path, and the answers they share.

mod api;
mod attestations;
mod auth;
mod blobs;
mod manifests;
mod package_json;
mod packages;
#[cfg(test)]
mod proptests;
mod registry;
mod storage;
mod token;
mod uploads;

use bytes::Bytes;
use http::StatusCode;

use super::log::Listener;
use super::server::{Request, Shared};
use super::state::{Profile, RegistryError};

/// Answers one request.
pub(crate) fn route(shared: &Shared, which: Listener, request: &Request) -> http::Response<Bytes> {
    if which == Listener::Storage {
        return storage::handle(shared, request);
    }
    let path = request.path.as_str();
    match path {
        "/token" => token::handle(shared, request),
        "/v2" => match shared.config.profile {
            Profile::Ghcr => text(StatusCode::NOT_FOUND, "404 page not found\n"),
            Profile::Generic => http::Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(http::header::LOCATION, "/v2/")
                .body(Bytes::new())
                .unwrap_or_default(),
        },
        _ if path.starts_with("/v2/") => registry::handle(shared, request),
        "/rate_limit" | "/user" => packages::handle(shared, request),
        _ if attestations::addresses(path) => attestations::handle(shared, request),
        _ if ["/user/", "/users/", "/orgs/"]
            .iter()
            .any(|p| path.starts_with(p)) =>
        {
            packages::handle(shared, request)
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

/// A refusal handlers return early: boxed, it keeps `Result`s small.
pub(crate) type Refusal = Box<http::Response<Bytes>>;

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, body: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Bytes::from(body.to_owned()))
        .unwrap_or_default()
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(value.to_string()))
        .unwrap_or_default()
}

/// A registry error answer.
pub(crate) fn registry_error(error: &RegistryError) -> http::Response<Bytes> {
    http::Response::builder()
        .status(error.status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(error.body()))
        .unwrap_or_default()
}

/// An empty answer with headers.
pub(crate) fn empty(status: StatusCode, headers: &[(&str, String)]) -> http::Response<Bytes> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .header(http::header::CONTENT_LENGTH, "0")
        .body(Bytes::new())
        .unwrap_or_default()
}
