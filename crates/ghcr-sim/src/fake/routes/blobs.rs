//! `/v2/<name>/blobs/<digest>`: HEAD, GET (a 307 to the storage host on
//! ghcr.io) and DELETE.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::auth::authorize;
use super::{empty, registry_error, storage};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Profile, RegistryError, parse_digest};

pub(super) fn handle(
    shared: &Shared,
    request: &Request,
    name: &str,
    digest: &str,
) -> http::Response<Bytes> {
    let needed: &[Action] = if request.method == Method::DELETE {
        &[Action::Delete]
    } else {
        &[Action::Pull]
    };
    if request.method == Method::DELETE && shared.config.profile == Profile::Ghcr {
        return registry_error(&RegistryError::unsupported());
    }
    if let Err(denied) = authorize(shared, request, Some(name), needed) {
        return *denied;
    }
    let digest = match parse_digest(digest) {
        Ok(digest) => digest,
        Err(error) => return registry_error(&error),
    };
    let bytes = match shared.state().blob(name, &digest) {
        Ok(bytes) => bytes,
        Err(error) => return registry_error(&error),
    };
    match (&request.method, shared.config.profile) {
        (&Method::HEAD, _) => empty_with_length(digest.as_str(), bytes.len()),
        (&Method::GET, Profile::Ghcr) => {
            let location = storage::signed_url(shared, &digest);
            empty(
                StatusCode::TEMPORARY_REDIRECT,
                &[
                    ("location", location),
                    ("docker-content-digest", digest.to_string()),
                ],
            )
        }
        (&Method::GET, Profile::Generic) => storage::serve(request, &digest, &bytes),
        (&Method::DELETE, _) => {
            if let Some(repo) = shared.state().live_repo_mut(name) {
                repo.blobs.remove(&digest);
            }
            empty(StatusCode::ACCEPTED, &[])
        }
        _ => registry_error(&RegistryError::unsupported()),
    }
}

/// A HEAD answer: the blob's length and digest, no body.
fn empty_with_length(digest: &str, length: usize) -> http::Response<Bytes> {
    http::Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/octet-stream")
        .header(http::header::CONTENT_LENGTH, length.to_string())
        .header("docker-content-digest", digest)
        .body(Bytes::new())
        .unwrap_or_default()
}
