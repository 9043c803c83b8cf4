//! `/v2/<name>/blobs/uploads/…`: the upload state machine. POST opens a
//! session (or mounts, or takes the whole blob with `?digest=`), PATCH
//! appends (with or without `Content-Range`), PUT closes with `?digest=`,
//! GET reports progress, DELETE cancels.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::auth::{authorize, created, token_allows};
use super::{empty, registry_error};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Profile, RegistryError, parse_digest};

const MIB: f64 = 1024.0 * 1024.0;

pub(super) fn handle(
    shared: &Shared,
    request: &Request,
    name: &str,
    id: &str,
) -> http::Response<Bytes> {
    if let Err(denied) = authorize(shared, request, Some(name), &[Action::Pull, Action::Push]) {
        return *denied;
    }
    let answer = match (&request.method, id.is_empty()) {
        (&Method::POST, true) => start(shared, request, name),
        (&Method::PATCH, false) => patch(shared, request, name, id),
        (&Method::PUT, false) => put(shared, request, name, id),
        (&Method::GET, false) => status(shared, name, id),
        (&Method::DELETE, false) => cancel(shared, name, id),
        _ => Err(RegistryError::unsupported()),
    };
    answer.unwrap_or_else(|error| registry_error(&error))
}

/// Where the session continues: relative on ghcr.io; absolute with a state
/// token elsewhere, so clients must follow each `Location`.
fn location(shared: &Shared, name: &str, id: &str, state: u64) -> String {
    match shared.config.profile {
        Profile::Ghcr => format!("/v2/{name}/blobs/uploads/{id}"),
        Profile::Generic => format!(
            "http://{}/v2/{name}/blobs/uploads/{id}?_state={state}",
            shared.registry_host
        ),
    }
}

/// `Range: 0-<last byte>` as docker-distribution sends it (`0-0` when empty).
fn range(len: u64) -> String {
    format!("0-{}", len.saturating_sub(1))
}

fn accepted(shared: &Shared, name: &str, id: &str, len: u64, state: u64) -> http::Response<Bytes> {
    let mut headers = vec![
        ("location", location(shared, name, id, state)),
        ("range", range(len)),
        ("docker-upload-uuid", id.to_owned()),
    ];
    if let Some(min) = shared.config.chunk_min_length {
        headers.push(("oci-chunk-min-length", min.to_string()));
    }
    empty(StatusCode::ACCEPTED, &headers)
}

fn start(
    shared: &Shared,
    request: &Request,
    name: &str,
) -> Result<http::Response<Bytes>, RegistryError> {
    let now = shared.clock.now();
    if let (Some(mount), Some(from)) = (request.param("mount"), request.param("from")) {
        let digest = parse_digest(&mount)?;
        let may_read = token_allows(shared, request, &from, Action::Pull);
        if may_read && shared.state().mount(name, &digest, &from, now) {
            return Ok(created(
                format!("/v2/{name}/blobs/{digest}"),
                digest.as_str(),
            ));
        }
        // Not mounted: the spec says open a session instead.
    }
    if let Some(digest) = request.param("digest") {
        let digest = parse_digest(&digest)?;
        let mut state = shared.state();
        let id = state.start_upload(name);
        state.append(&id, request.body.clone())?;
        state.finish_upload(&id, &digest, now)?;
        return Ok(created(
            format!("/v2/{name}/blobs/{digest}"),
            digest.as_str(),
        ));
    }
    let mut state = shared.state();
    let id = state.start_upload(name);
    drop(state);
    Ok(accepted(shared, name, &id, 0, 0))
}

/// Checks the `_state` a generic-profile client must carry along.
fn check_state(request: &Request, expected: u64) -> Result<(), RegistryError> {
    match request.param("_state") {
        Some(state) if state != expected.to_string() => Err(RegistryError::new(
            StatusCode::BAD_REQUEST,
            "BLOB_UPLOAD_INVALID",
            "blob upload invalid: stale upload state; follow the Location of the last response",
        )),
        _ => Ok(()),
    }
}

fn patch(
    shared: &Shared,
    request: &Request,
    name: &str,
    id: &str,
) -> Result<http::Response<Bytes>, RegistryError> {
    let mut state = shared.state();
    let upload = state.upload(id, name)?;
    let (offset, upload_state) = (upload.len, upload.state);
    // A chunk out of order is 416 with where the upload is, even when it
    // went to an older Location (a chunk sent again after a lost answer):
    // the spec's answer, which a client resumes from.
    if let Some((start, _)) = request
        .header("content-range")
        .and_then(parse_content_range)
        && start != offset
    {
        let mut refusal = registry_error(&RegistryError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            format!("chunk starts at {start}, the upload is at {offset}"),
        ));
        if let Ok(value) = range(offset).parse() {
            refusal.headers_mut().insert("range", value);
        }
        if let Ok(value) = location(shared, name, id, upload_state).parse() {
            refusal.headers_mut().insert("location", value);
        }
        return Ok(refusal);
    }
    check_state(request, upload_state)?;
    if let Some(content_range) = request.header("content-range") {
        let length = request.body.len() as u64;
        if let Some(limit) = shared.config.patch_limit
            && length > limit
        {
            return Err(RegistryError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "REQUESTED_RANGE_NOT_SATISFIABLE",
                format!(
                    "the request body is too large and exceeds the maximum permissible limit of {:.2}MiB",
                    limit as f64 / MIB
                ),
            ));
        }
        let (start, end) = parse_content_range(content_range).ok_or_else(|| {
            RegistryError::new(
                StatusCode::BAD_REQUEST,
                "BLOB_UPLOAD_INVALID",
                format!("invalid Content-Range `{content_range}`: expected <start>-<end>"),
            )
        })?;
        // `start <= end`, but `end` may be u64::MAX: no `end + 1`.
        if (end - start).checked_add(1) != Some(length) {
            return Err(RegistryError::new(
                StatusCode::BAD_REQUEST,
                "BLOB_UPLOAD_INVALID",
                format!("Content-Range {start}-{end} does not match the body's {length} bytes"),
            ));
        }
    }
    let len = state.append(id, request.body.clone())?;
    let upload_state = state.upload(id, name)?.state;
    drop(state);
    Ok(accepted(shared, name, id, len, upload_state))
}

/// `<start>-<end>`, also as `bytes <start>-<end>/<total>`.
fn parse_content_range(text: &str) -> Option<(u64, u64)> {
    let text = text.trim();
    let text = text.strip_prefix("bytes ").unwrap_or(text);
    let text = text.split('/').next()?;
    let (start, end) = text.split_once('-')?;
    let (start, end) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end).then_some((start, end))
}

fn put(
    shared: &Shared,
    request: &Request,
    name: &str,
    id: &str,
) -> Result<http::Response<Bytes>, RegistryError> {
    let now = shared.clock.now();
    let mut state = shared.state();
    let upload = state.upload(id, name)?;
    check_state(request, upload.state)?;
    let digest = request.param("digest").ok_or_else(|| {
        RegistryError::digest_invalid("the digest query parameter is required to close an upload")
    })?;
    let digest = parse_digest(&digest)?;
    state.append(id, request.body.clone())?;
    state.finish_upload(id, &digest, now)?;
    Ok(created(
        format!("/v2/{name}/blobs/{digest}"),
        digest.as_str(),
    ))
}

fn status(shared: &Shared, name: &str, id: &str) -> Result<http::Response<Bytes>, RegistryError> {
    let state = shared.state();
    let upload = state.upload(id, name)?;
    let headers = [
        ("location", location(shared, name, id, upload.state)),
        ("range", range(upload.len)),
        ("docker-upload-uuid", id.to_owned()),
    ];
    Ok(empty(StatusCode::NO_CONTENT, &headers))
}

fn cancel(shared: &Shared, name: &str, id: &str) -> Result<http::Response<Bytes>, RegistryError> {
    let mut state = shared.state();
    state.upload(id, name)?;
    state.uploads.remove(id);
    Ok(empty(StatusCode::NO_CONTENT, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        for (text, expected) in [
            ("0-99", Some((0, 99))),
            ("bytes 100-199/*", Some((100, 199))),
            ("bytes 0-9/10", Some((0, 9))),
            ("9-0", None),
            ("x-1", None),
            ("", None),
        ] {
            assert_eq!(parse_content_range(text), expected, "{text}");
        }
    }
}
