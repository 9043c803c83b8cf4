//! Blob downloads: a reader that hashes as bytes arrive and picks up a cut
//! connection with a Range request, and the public verified stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use ghcr_transport::ghcr_auth::Scope;
use ghcr_transport::{Body, HttpBody};
use ghcr_types::{Digest, DigestVerifier, Reference};
use http::header::RANGE;
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;

use super::blob_not_found;
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::progress::{Direction, Progress, ProgressEvent};
use crate::request::{failure, header};

/// Reads one blob, hashing each byte once; a connection cut mid-body is
/// continued with `Range: bytes=<received>-` (through the registry again,
/// so an expired storage URL is replaced by a fresh one).
pub(crate) struct BlobReader {
    client: RegistryClient,
    repository: Reference,
    digest: Digest,
    url: Uri,
    body: HttpBody,
    /// Bytes of the current response to drop (a server that ignored Range).
    skip: u64,
    /// The offset of the next byte.
    received: u64,
    end: Option<u64>,
    verifier: Option<DigestVerifier>,
    reconnects_left: u32,
    progress: Progress,
}

impl BlobReader {
    /// Opens a read from `start`, verifying the digest when `start` is 0.
    pub(crate) async fn open(
        client: &RegistryClient,
        repository: &Reference,
        digest: &Digest,
        start: u64,
        size: Option<u64>,
        progress: Progress,
    ) -> Result<Self> {
        let url = client.blob_url(repository, digest)?;
        let verifier = if start == 0 {
            Some(DigestVerifier::new(digest)?)
        } else {
            None
        };
        let mut reader = Self {
            client: client.clone(),
            repository: repository.clone(),
            digest: digest.clone(),
            url,
            body: Body::empty().into_http_body(),
            skip: 0,
            received: start,
            end: size,
            verifier,
            reconnects_left: client.settings.resume_attempts,
            progress,
        };
        reader.request().await?;
        reader.progress.emit(ProgressEvent::Started {
            digest: Some(reader.digest.clone()),
            total: reader.end,
            direction: Direction::Download,
        });
        Ok(reader)
    }

    /// Stops hashing: for a caller that hashes the bytes itself.
    pub(crate) fn unverified(mut self) -> Self {
        self.verifier = None;
        self
    }

    /// The blob's size, when the descriptor or the registry said it.
    pub(crate) fn size(&self) -> Option<u64> {
        self.end
    }

    async fn request(&mut self) -> Result<()> {
        let offset = self.received;
        let mut call = self.client.call(
            Method::GET,
            &self.url,
            Scope::pull(self.repository.repository()),
            "blobs",
        );
        if offset > 0 {
            call = call.header(RANGE, format!("bytes={offset}-"));
        }
        let response = call.send(Body::empty()).await?;
        let status = response.status();
        match status {
            StatusCode::OK => {
                self.skip = offset;
                if let Some(length) = content_length(&response) {
                    self.learn_size(length)?;
                }
            }
            StatusCode::PARTIAL_CONTENT => {
                let (start, total) = header(&response, "content-range")
                    .and_then(parse_content_range)
                    .ok_or_else(|| {
                        Error::protocol(&self.url, "a 206 answer without a usable Content-Range")
                    })?;
                if start != offset {
                    return Err(Error::protocol(
                        &self.url,
                        format!("asked for bytes from {offset}, got them from {start}"),
                    ));
                }
                if let Some(total) = total {
                    self.learn_size(total)?;
                }
                self.skip = 0;
            }
            StatusCode::NOT_FOUND => return Err(blob_not_found(&self.repository, &self.digest)),
            _ => return Err(failure(response, &Method::GET, &self.url).await),
        }
        self.body = response.into_body();
        Ok(())
    }

    fn learn_size(&mut self, size: u64) -> Result<()> {
        match self.end {
            Some(expected) if expected != size => Err(Error::SizeMismatch {
                digest: self.digest.clone(),
                expected,
                actual: size,
            }),
            _ => {
                self.end = Some(size);
                Ok(())
            }
        }
    }

    async fn reconnect(&mut self, cause: Error) -> Result<()> {
        if self.reconnects_left == 0 {
            return Err(cause);
        }
        self.reconnects_left -= 1;
        tracing::warn!(
            digest = %self.digest,
            bytes = self.received,
            error = %cause,
            "blob download was cut; continuing with a Range request"
        );
        self.request().await
    }

    /// The next bytes, hashed; `None` at the end of the blob.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>> {
        loop {
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    if self.skip > 0 {
                        let dropped = usize::try_from(self.skip)
                            .unwrap_or(usize::MAX)
                            .min(data.len());
                        let _ = data.split_to(dropped);
                        self.skip -= dropped as u64;
                    }
                    if data.is_empty() {
                        continue;
                    }
                    let received = self.received + data.len() as u64;
                    if let Some(end) = self.end
                        && received > end
                    {
                        return Err(Error::SizeMismatch {
                            digest: self.digest.clone(),
                            expected: end,
                            actual: received,
                        });
                    }
                    if let Some(verifier) = &mut self.verifier {
                        verifier.update(&data);
                    }
                    self.received = received;
                    self.progress.emit(ProgressEvent::Advanced {
                        digest: Some(self.digest.clone()),
                        done: received,
                        total: self.end,
                    });
                    return Ok(Some(data));
                }
                Some(Err(source)) => {
                    let cause = Error::Interrupted {
                        what: format!("blob {}", self.digest),
                        source,
                    };
                    self.reconnect(cause).await?;
                }
                None => match self.end {
                    Some(end) if self.received < end => {
                        let cause = Error::SizeMismatch {
                            digest: self.digest.clone(),
                            expected: end,
                            actual: self.received,
                        };
                        self.reconnect(cause).await?;
                    }
                    _ => return Ok(None),
                },
            }
        }
    }

    /// Checks size and digest once the end was reached; the size on success.
    pub(crate) fn finish(self) -> Result<u64> {
        if let Some(end) = self.end
            && end != self.received
        {
            return Err(Error::SizeMismatch {
                digest: self.digest,
                expected: end,
                actual: self.received,
            });
        }
        if let Some(verifier) = self.verifier {
            verifier.finish().map_err(|error| match error {
                ghcr_types::Error::DigestMismatch { actual, .. } => Error::mismatch(
                    format!("blob from {}", self.repository.without_tag_or_digest()),
                    &self.digest,
                    actual,
                ),
                other => other.into(),
            })?;
            self.progress.emit(ProgressEvent::Finished {
                digest: self.digest,
                size: self.received,
            });
        }
        Ok(self.received)
    }
}

fn content_length(response: &http::Response<HttpBody>) -> Option<u64> {
    header(response, "content-length").and_then(|l| l.trim().parse().ok())
}

/// `bytes <start>-<end>/<total|*>` → (start, total).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        number => Some(number.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// A blob's bytes as they arrive.
///
/// From [`RegistryClient::get_blob`] the stream is verified: each byte is
/// hashed as it arrives, and the last chunk is held back until the digest
/// (and size) check out. On a mismatch the stream ends with
/// [`Error::DigestMismatch`] instead of its last chunk, so a consumer never
/// sees a complete-looking, wrong blob. From
/// [`RegistryClient::get_blob_range`] it is a part and cannot be verified.
pub struct BlobStream {
    inner: ChunkStream,
    size: Option<u64>,
    verified: bool,
}

impl BlobStream {
    /// The size of the whole blob, when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Whether the stream checks the digest before it ends.
    pub fn is_verified(&self) -> bool {
        self.verified
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("size", &self.size)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

struct Held {
    reader: Option<BlobReader>,
    held: Option<Bytes>,
}

impl RegistryClient {
    /// A blob as a verified stream (see [`BlobStream`]).
    ///
    /// # Errors
    ///
    /// [`Error::BlobNotFound`] and the transport's errors on the first
    /// request; later errors (a mismatch, a cut that could not be resumed)
    /// come out of the stream.
    pub async fn get_blob(&self, repository: &Reference, digest: &Digest) -> Result<BlobStream> {
        let reader = BlobReader::open(self, repository, digest, 0, None, Progress::none()).await?;
        let size = reader.size();
        let state = Held {
            reader: Some(reader),
            held: None,
        };
        let inner = futures_util::stream::try_unfold(state, |mut state| async move {
            let Some(reader) = state.reader.as_mut() else {
                return Ok(None);
            };
            while let Some(chunk) = reader.next().await? {
                if let Some(previous) = state.held.replace(chunk) {
                    return Ok(Some((previous, state)));
                }
            }
            if let Some(reader) = state.reader.take() {
                reader.finish()?;
            }
            Ok(state.held.take().map(|last| (last, state)))
        });
        Ok(BlobStream {
            inner: Box::pin(inner),
            size,
            verified: true,
        })
    }

    /// Part of a blob, from byte `start` to its end (to resume a download
    /// kept elsewhere); not verifiable on its own.
    ///
    /// # Errors
    ///
    /// As [`RegistryClient::get_blob`].
    pub async fn get_blob_range(
        &self,
        repository: &Reference,
        digest: &Digest,
        start: u64,
    ) -> Result<BlobStream> {
        let reader =
            BlobReader::open(self, repository, digest, start, None, Progress::none()).await?;
        let size = reader.size();
        let inner = futures_util::stream::try_unfold(reader, |mut reader| async move {
            Ok(reader.next().await?.map(|chunk| (chunk, reader)))
        });
        Ok(BlobStream {
            inner: Box::pin(inner),
            size,
            verified: false,
        })
    }

    /// A whole blob in memory, verified; for configs and attestations.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] when the blob is larger than `limit`, and the
    /// errors of [`RegistryClient::get_blob`].
    pub async fn get_blob_bytes(
        &self,
        repository: &Reference,
        digest: &Digest,
        limit: usize,
    ) -> Result<Bytes> {
        let mut reader =
            BlobReader::open(self, repository, digest, 0, None, Progress::none()).await?;
        let too_large = |url: &Uri| {
            Error::protocol(
                url,
                format!("the blob is larger than the {limit}-byte limit"),
            )
        };
        if reader.size().is_some_and(|size| size > limit as u64) {
            return Err(too_large(&reader.url));
        }
        let mut collected = bytes::BytesMut::new();
        while let Some(chunk) = reader.next().await? {
            if collected.len() + chunk.len() > limit {
                return Err(too_large(&reader.url));
            }
            collected.extend_from_slice(&chunk);
        }
        reader.finish()?;
        Ok(collected.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        for (text, expected) in [
            ("bytes 10-99/100", Some((10, Some(100)))),
            ("bytes 0-0/*", Some((0, None))),
            ("bytes  5-9/10", Some((5, Some(10)))),
            ("10-99/100", None),
            ("bytes x-9/10", None),
            ("bytes 1-9/ten", None),
        ] {
            assert_eq!(parse_content_range(text), expected, "{text}");
        }
    }
}
