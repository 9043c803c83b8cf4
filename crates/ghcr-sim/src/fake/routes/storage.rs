//! The storage host blob GETs are redirected to on ghcr.io: signed,
//! expiring URLs, Range support, and a refusal of any request carrying
//! Authorization (object stores allow one auth mechanism).

use bytes::Bytes;
use ghcr_types::Digest;
use http::{Method, StatusCode};

use super::text;
use crate::fake::server::{Request, Shared};

fn signature(shared: &Shared, digest: &Digest, expires: i64) -> String {
    Digest::sha256_of(format!("{}:{digest}:{expires}", shared.signing_key).as_bytes())
        .encoded()
        .to_owned()
}

/// `http://<storage>/blobs/<digest>?expires=<unix>&sig=<hex>`.
pub(super) fn signed_url(shared: &Shared, digest: &Digest) -> String {
    let lifetime = i64::try_from(shared.config.storage_url_lifetime.as_secs()).unwrap_or(i64::MAX);
    let expires = shared.clock.now().unix_timestamp().saturating_add(lifetime);
    format!(
        "http://{}/blobs/{digest}?expires={expires}&sig={}",
        shared.storage_host,
        signature(shared, digest, expires)
    )
}

fn xml_error(status: StatusCode, code: &str, message: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(Bytes::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )))
        .unwrap_or_default()
}

pub(super) fn handle(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    if request.headers.contains_key(http::header::AUTHORIZATION) {
        return xml_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
    }
    if request.method != Method::GET {
        // A pre-signed GET URL does not sign HEAD.
        return xml_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature does not match",
        );
    }
    let Some(digest) = request
        .path
        .strip_prefix("/blobs/")
        .and_then(|d| Digest::parse(d).ok())
    else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let expires = request.param("expires").and_then(|e| e.parse::<i64>().ok());
    let valid = expires
        .is_some_and(|expires| request.param("sig") == Some(signature(shared, &digest, expires)));
    if !valid {
        return xml_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        );
    }
    if expires.is_some_and(|expires| expires < shared.clock.now().unix_timestamp()) {
        return xml_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    let bytes = shared.state().blobs.get(&digest).cloned();
    match bytes {
        Some(bytes) => serve(request, &digest, &bytes),
        None => xml_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

/// Serves a blob, honouring a `Range: bytes=a-b` header with 206.
pub(super) fn serve(request: &Request, digest: &Digest, bytes: &Bytes) -> http::Response<Bytes> {
    let total = bytes.len();
    let builder = http::Response::builder()
        .header(http::header::CONTENT_TYPE, "application/octet-stream")
        .header("docker-content-digest", digest.as_str())
        .header(http::header::ACCEPT_RANGES, "bytes");
    let Some(range) = request.header("range") else {
        return builder
            .status(StatusCode::OK)
            .header(http::header::CONTENT_LENGTH, total.to_string())
            .body(bytes.clone())
            .unwrap_or_default();
    };
    match parse_range(range, total) {
        Some((start, end)) => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                http::header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            )
            .header(http::header::CONTENT_LENGTH, (end + 1 - start).to_string())
            .body(bytes.slice(start..=end))
            .unwrap_or_default(),
        None => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(http::header::CONTENT_RANGE, format!("bytes */{total}"))
            .body(Bytes::new())
            .unwrap_or_default(),
    }
}

/// `bytes=a-b` or `bytes=a-` within `total`, as inclusive bounds.
fn parse_range(header: &str, total: usize) -> Option<(usize, usize)> {
    let (start, end) = header.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start: usize = start.trim().parse().ok()?;
    let end: usize = match end.trim() {
        "" => total.checked_sub(1)?,
        end => end.parse::<usize>().ok()?.min(total.checked_sub(1)?),
    };
    (start <= end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        for (header, total, expected) in [
            ("bytes=0-9", 100, Some((0, 9))),
            ("bytes=10-", 100, Some((10, 99))),
            ("bytes=90-200", 100, Some((90, 99))),
            ("bytes=100-", 100, None),
            ("bytes=5-4", 100, None),
            ("items=0-1", 100, None),
            ("bytes=0-", 0, None),
        ] {
            assert_eq!(parse_range(header, total), expected, "{header}");
        }
    }
}
