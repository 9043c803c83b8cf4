//! `/v2/<name>/manifests/<reference>`: GET, HEAD, PUT and DELETE.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::auth::authorize;
use super::{empty, registry_error};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Profile, RegistryError};

pub(super) fn handle(
    shared: &Shared,
    request: &Request,
    name: &str,
    reference: &str,
) -> http::Response<Bytes> {
    match request.method {
        Method::GET | Method::HEAD => get(shared, request, name, reference),
        Method::PUT => put(shared, request, name, reference),
        Method::DELETE => delete(shared, request, name, reference),
        _ => registry_error(&RegistryError::unsupported()),
    }
}

fn get(shared: &Shared, request: &Request, name: &str, reference: &str) -> http::Response<Bytes> {
    if let Err(denied) = authorize(shared, request, Some(name), &[Action::Pull]) {
        return *denied;
    }
    let is_get = request.method == Method::GET;
    let found = shared.state().manifest(name, reference, is_get);
    match found {
        Ok((digest, manifest)) => {
            let length = manifest.bytes.len().to_string();
            let body = if is_get { manifest.bytes } else { Bytes::new() };
            http::Response::builder()
                .status(StatusCode::OK)
                .header(http::header::CONTENT_TYPE, manifest.media_type)
                .header(http::header::CONTENT_LENGTH, length)
                .header("docker-content-digest", digest.as_str())
                .header(http::header::ETAG, format!("\"{digest}\""))
                .body(body)
                .unwrap_or_default()
        }
        Err(error) => registry_error(&error),
    }
}

fn put(shared: &Shared, request: &Request, name: &str, reference: &str) -> http::Response<Bytes> {
    if let Err(denied) = authorize(shared, request, Some(name), &[Action::Pull, Action::Push]) {
        return *denied;
    }
    let now = shared.clock.now();
    let content_type = request.header("content-type");
    let stored =
        shared
            .state()
            .put_manifest(name, reference, request.body.clone(), content_type, now);
    match stored {
        Ok((digest, subject)) => {
            let mut headers = vec![
                ("location", format!("/v2/{name}/manifests/{digest}")),
                ("docker-content-digest", digest.to_string()),
            ];
            // ghcr.io does not set OCI-Subject: it has no referrers API.
            if let (Profile::Generic, Some(subject)) = (shared.config.profile, subject) {
                headers.push(("oci-subject", subject.to_string()));
            }
            empty(StatusCode::CREATED, &headers)
        }
        Err(error) => registry_error(&error),
    }
}

fn delete(
    shared: &Shared,
    request: &Request,
    name: &str,
    reference: &str,
) -> http::Response<Bytes> {
    if shared.config.profile == Profile::Ghcr {
        // Deleting goes through the Packages API on ghcr.io.
        return registry_error(&RegistryError::unsupported());
    }
    if let Err(denied) = authorize(shared, request, Some(name), &[Action::Delete]) {
        return *denied;
    }
    let now = shared.clock.now();
    match shared.state().delete_manifest(name, reference, now) {
        Ok(()) => empty(StatusCode::ACCEPTED, &[]),
        Err(error) => registry_error(&error),
    }
}
