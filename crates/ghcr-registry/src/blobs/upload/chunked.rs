//! Content-Range PATCHes of bounded size, each to the Location the last
//! answer gave. A 416 saying the body is too large (ghcr.io's 4 MiB cap)
//! halves the chunk size and sends the same bytes again.

use bytes::Bytes;
use ghcr_transport::{Body, Retry};
use http::header::{CONTENT_RANGE, CONTENT_TYPE};
use http::{Method, StatusCode};

use super::session::{UploadSession, parse_range};
use super::{Step, Tracker};
use crate::blobs::source::Feed;
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::request::{drain, failure, header};

/// The smallest chunk halving goes down to.
const MIN_CHUNK: usize = 64 * 1024;

/// Sends the rest of the feed in chunks; `chunk_size` keeps what halving
/// learnt for the next attempt.
pub(super) async fn send(
    client: &RegistryClient,
    session: &mut UploadSession,
    feed: &mut Feed,
    chunk_size: &mut usize,
    tracker: &Tracker,
) -> Result<Step> {
    if let Some(min) = session.min_chunk.and_then(|m| usize::try_from(m).ok()) {
        *chunk_size = (*chunk_size).max(min);
    }
    // Bytes read but not yet accepted: a refused chunk is sent again from
    // here, in smaller pieces, without going back in the source. A chunk
    // read into a buffer holds its size of the client's budget meanwhile.
    let mut pending = Bytes::new();
    let mut held = None;
    loop {
        if pending.is_empty() {
            // The last chunk was accepted: its share goes back first.
            drop(held.take());
            if !feed.is_in_memory() {
                held = client.budget.take(*chunk_size).await;
            }
            match feed.next_exact(*chunk_size).await? {
                Some(chunk) => pending = chunk,
                None => return Ok(Step::Sent),
            }
        }
        let chunk = pending.slice(..pending.len().min(*chunk_size));
        let start = feed.position() - pending.len() as u64;
        let end = start + chunk.len() as u64 - 1;
        let url = session.location.clone();
        let response = client
            .call(Method::PATCH, &url, session.scope(), "uploads")
            .origin(session.origin())
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_RANGE, format!("{start}-{end}"))
            .retry(Retry::Never)
            .upload_timeout()
            .send(Body::from(chunk.clone()))
            .await?;
        let status = response.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            let error = failure(response, &Method::PATCH, &url).await;
            let smaller = (*chunk_size / 2).max(MIN_CHUNK);
            let floor = session
                .min_chunk
                .and_then(|m| usize::try_from(m).ok())
                .unwrap_or(0);
            if says_too_large(&error) && smaller < *chunk_size && smaller >= floor {
                tracing::warn!(
                    from = *chunk_size,
                    to = smaller,
                    "the registry refused the chunk as too large; halving the chunk size"
                );
                *chunk_size = smaller;
                continue;
            }
            return Err(error);
        }
        if !status.is_success() {
            return Err(failure(response, &Method::PATCH, &url).await);
        }
        session.advance(client, &response)?;
        if let Some(held) = header(&response, "range").and_then(parse_range)
            && held != end + 1
        {
            drain(response).await;
            return Err(Error::protocol(
                &url,
                format!("sent bytes up to {}, the registry holds {held}", end + 1),
            ));
        }
        drain(response).await;
        pending = pending.slice(chunk.len()..);
        tracker.advanced(end + 1);
    }
}

/// Whether a 416 is ghcr.io's "the request body is too large" rather than
/// an out-of-order range.
fn says_too_large(error: &Error) -> bool {
    let Error::Transport(transport) = error else {
        return false;
    };
    transport
        .body()
        .and_then(|b| b.message())
        .is_some_and(|message| {
            let message = message.to_ascii_lowercase();
            message.contains("too large") || message.contains("exceeds")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_416(body: &str) -> Error {
        ghcr_transport::Error::from_parts(
            &Method::PATCH,
            &"https://ghcr.io/v2/o/a/blobs/uploads/x".parse().unwrap(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            body.as_bytes(),
            1,
        )
        .into()
    }

    #[test]
    fn only_size_complaints_halve() {
        for (body, expected) in [
            (
                r#"{"errors":[{"code":"REQUESTED_RANGE_NOT_SATISFIABLE","message":"the request body is too large and exceeds the maximum permissible limit of 4.00MiB"}]}"#,
                true,
            ),
            (
                r#"{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"invalid content range"}]}"#,
                false,
            ),
            ("", false),
        ] {
            assert_eq!(says_too_large(&status_416(body)), expected, "{body}");
        }
    }
}
