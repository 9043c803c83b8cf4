//! Where an upload's bytes come from, and the feed that reads them once,
//! hashes them once, and can go back to resend what the registry lost.

mod file;

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use ghcr_transport::BoxError;
use ghcr_types::{Algorithm, Digest, DigestHasher};
use tokio::io::{AsyncRead, AsyncReadExt};

use file::FileInput;

use crate::error::{Error, Result};

/// Size of each read from a file or reader. 256 KiB sends as fast as
/// 1 MiB on loopback and holds a quarter of the memory per upload in
/// flight (`cargo xtask bench registry`: 16 x 64 MiB pushed 16 at once
/// peaked at 35.9 MiB, against 46.5 MiB with 1 MiB reads).
pub(crate) const READ_SIZE: usize = 256 * 1024;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The bytes of a blob to upload.
///
/// With a known digest ([`BlobSource::with_digest`]) a push can skip a blob
/// the registry already has, or mount it; the bytes are still hashed on the
/// way and a mismatch stops the upload before it is committed. Without one,
/// the digest is computed while the bytes go out.
///
/// ```
/// use ghcr_registry::BlobSource;
/// use ghcr_types::Digest;
///
/// let config = BlobSource::bytes(&b"{}"[..]);
/// assert_eq!(config.size(), Some(2));
/// let layer = BlobSource::file("layer.tar.gz").with_digest(Digest::sha256_of(b"..."));
/// assert!(layer.digest().is_some());
/// let generated = BlobSource::reader(tokio::io::repeat(0).take(1 << 20), Some(1 << 20));
/// # use tokio::io::AsyncReadExt as _;
/// # let _ = generated;
/// ```
pub struct BlobSource {
    pub(crate) kind: SourceKind,
    pub(crate) size: Option<u64>,
    pub(crate) digest: Option<Digest>,
}

pub(crate) enum SourceKind {
    Bytes(Bytes),
    File(PathBuf),
    /// `len` bytes of a file from `start` (a member of an uncompressed tar).
    FileRange {
        path: PathBuf,
        start: u64,
        len: u64,
    },
    Reader(Box<dyn AsyncRead + Send + Unpin>),
    Stream(ByteStream),
}

impl BlobSource {
    /// Bytes in memory (re-read freely when an upload resumes).
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self {
            size: Some(bytes.len() as u64),
            kind: SourceKind::Bytes(bytes),
            digest: None,
        }
    }

    /// A file, read in 1 MiB pieces (re-read from the right offset when an
    /// upload resumes); its size is taken when the upload starts.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            kind: SourceKind::File(path.into()),
            size: None,
            digest: None,
        }
    }

    /// `len` bytes of the file at `path` from byte `start`: a member of an
    /// uncompressed tar, sent without unpacking it (and re-read from the
    /// right offset when an upload resumes).
    pub fn file_range(path: impl Into<PathBuf>, start: u64, len: u64) -> Self {
        Self {
            kind: SourceKind::FileRange {
                path: path.into(),
                start,
                len,
            },
            size: Some(len),
            digest: None,
        }
    }

    /// Any reader, of `size` bytes when known. Memory stays bounded: the
    /// last bytes sent (the client's resume buffer, 8 MiB by default) are
    /// kept to resend after an interruption.
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, size: Option<u64>) -> Self {
        Self {
            kind: SourceKind::Reader(Box::new(reader)),
            size,
            digest: None,
        }
    }

    /// A stream of byte chunks (another registry's blob, a generator).
    pub fn stream<S, E>(stream: S, size: Option<u64>) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Self {
            kind: SourceKind::Stream(Box::pin(stream.map(|item| item.map_err(Into::into)))),
            size,
            digest: None,
        }
    }

    /// The digest the bytes must have.
    #[must_use]
    pub fn with_digest(mut self, digest: Digest) -> Self {
        self.digest = Some(digest);
        self
    }

    /// The size the bytes must have.
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// The digest, when known.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The size, when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Fills in what can be learnt cheaply: the size of a file, the
    /// digest of in-memory bytes; and a source of at most `small` bytes
    /// without a digest is read into memory and hashed, so that it can be
    /// checked for (HEAD) and sent in one request (see
    /// [`BlobSource::read_by_prepare`]).
    pub(crate) async fn prepare(self, small: usize) -> Result<Self> {
        let mut this = self.learn_size().await?;
        if let SourceKind::Bytes(bytes) = &this.kind
            && this.digest.is_none()
        {
            this.digest = Some(Digest::sha256_of(bytes));
        }
        this.read_small(small).await
    }

    /// The size of a file, from its metadata, unless it was given.
    pub(crate) async fn learn_size(mut self) -> Result<Self> {
        if let SourceKind::File(path) = &self.kind
            && self.size.is_none()
        {
            let metadata = tokio::fs::metadata(path)
                .await
                .map_err(|err| Error::io(path, err))?;
            self.size = Some(metadata.len());
        }
        Ok(self)
    }

    /// The bytes [`BlobSource::prepare`] will read into memory, if any: a
    /// source of at most `small` bytes, without a digest, not in memory yet.
    pub(crate) fn read_by_prepare(&self, small: usize) -> Option<usize> {
        if self.digest.is_some() || matches!(self.kind, SourceKind::Bytes(_)) {
            return None;
        }
        self.size
            .filter(|size| *size <= small as u64)
            .and_then(|size| usize::try_from(size).ok())
    }

    /// Reads the source into memory and hashes it when
    /// [`BlobSource::read_by_prepare`] says so.
    async fn read_small(self, small: usize) -> Result<Self> {
        let Some(capacity) = self.read_by_prepare(small) else {
            return Ok(self);
        };
        let size = self.size;
        let mut feed = Feed::open(self, 0, "a small blob".into()).await?;
        let mut bytes = BytesMut::with_capacity(capacity);
        while let Some(piece) = feed.next(READ_SIZE).await? {
            bytes.extend_from_slice(&piece);
        }
        let (digest, _) = feed.finish();
        Ok(Self {
            kind: SourceKind::Bytes(bytes.freeze()),
            size,
            digest: Some(digest),
        })
    }

    /// Whether the bytes can be read again from any offset.
    pub(crate) fn is_seekable(&self) -> bool {
        matches!(
            self.kind,
            SourceKind::Bytes(_) | SourceKind::File(_) | SourceKind::FileRange { .. }
        )
    }
}

impl fmt::Debug for BlobSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            SourceKind::Bytes(_) => "bytes".to_owned(),
            SourceKind::File(path) => format!("file {}", path.display()),
            SourceKind::FileRange { path, start, len } => {
                format!("{len} bytes of file {} from {start}", path.display())
            }
            SourceKind::Reader(_) => "reader".to_owned(),
            SourceKind::Stream(_) => "stream".to_owned(),
        };
        f.debug_struct("BlobSource")
            .field("kind", &kind)
            .field("size", &self.size)
            .field("digest", &self.digest)
            .finish()
    }
}

enum Input {
    Bytes(Bytes),
    File(FileInput),
    Reader(Box<dyn AsyncRead + Send + Unpin>),
    Stream {
        stream: ByteStream,
        pending: Option<Bytes>,
    },
}

/// Whether a feed hashes what it reads.
#[expect(
    clippy::large_enum_variant,
    reason = "one per upload, inside a feed that is never copied around"
)]
enum Hashing {
    On(DigestHasher),
    /// Off: the registry checks the given digest when the upload commits.
    Trusted(Digest),
}

/// Reads a source once, hashing each byte once, and serves the bytes at a
/// send position that can go back: re-read for files and memory, from a
/// window of recent bytes for readers and streams.
pub(crate) struct Feed {
    input: Input,
    hashing: Hashing,
    /// The digest the source came with.
    given: Option<Digest>,
    /// Bytes read (and hashed) from the source.
    read_end: u64,
    /// The next byte to hand out.
    position: u64,
    /// Recent bytes of a non-seekable source, ending at `read_end`.
    window: VecDeque<Bytes>,
    window_bytes: usize,
    window_limit: usize,
    eof: bool,
    expected_size: Option<u64>,
    what: String,
}

impl Feed {
    pub(crate) async fn open(
        source: BlobSource,
        window_limit: usize,
        what: String,
    ) -> Result<Self> {
        let algorithm = source
            .digest
            .as_ref()
            .and_then(Digest::algorithm)
            .unwrap_or(Algorithm::Sha256);
        let given = source.digest.clone();
        let input = match source.kind {
            SourceKind::Bytes(bytes) => Input::Bytes(bytes),
            SourceKind::File(path) => Input::File(FileInput::open(path, 0, None).await?),
            SourceKind::FileRange { path, start, len } => {
                Input::File(FileInput::open(path, start, Some(len)).await?)
            }
            SourceKind::Reader(reader) => Input::Reader(reader),
            SourceKind::Stream(stream) => Input::Stream {
                stream,
                pending: None,
            },
        };
        Ok(Self {
            input,
            hashing: Hashing::On(DigestHasher::new(algorithm)),
            given,
            read_end: 0,
            position: 0,
            window: VecDeque::new(),
            window_bytes: 0,
            window_limit,
            eof: false,
            expected_size: source.size,
            what,
        })
    }

    /// The next byte to hand out.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// Whether the bytes are in memory already (handing them out costs
    /// nothing).
    pub(crate) fn is_in_memory(&self) -> bool {
        matches!(self.input, Input::Bytes(_))
    }

    /// Whether everything was handed out.
    pub(crate) fn is_done(&self) -> bool {
        self.eof && self.position == self.read_end
    }

    /// Up to `max` bytes at the position; `None` at the end.
    pub(crate) async fn next(&mut self, max: usize) -> Result<Option<Bytes>> {
        if self.position < self.read_end {
            return self.replay(max).await.map(Some);
        }
        if self.eof {
            return Ok(None);
        }
        // Bytes in memory are handed out whole (slices, no copy); anything
        // read is read in pieces.
        let cap = if self.is_in_memory() {
            max
        } else {
            max.min(READ_SIZE)
        };
        let fresh = self.read_fresh(cap).await?;
        let Some(fresh) = fresh else {
            self.eof = true;
            if let Some(expected) = self.expected_size
                && expected != self.read_end
            {
                return Err(self.size_error(expected, self.read_end));
            }
            return Ok(None);
        };
        if let Hashing::On(hasher) = &mut self.hashing {
            hasher.update(&fresh);
        }
        self.read_end += fresh.len() as u64;
        self.position = self.read_end;
        if let Some(expected) = self.expected_size
            && self.read_end > expected
        {
            return Err(self.size_error(expected, self.read_end));
        }
        if !matches!(self.input, Input::Bytes(_) | Input::File(_)) && self.window_limit > 0 {
            self.window_bytes += fresh.len();
            self.window.push_back(fresh.clone());
            while self.window_bytes > self.window_limit {
                match self.window.pop_front() {
                    Some(old) => self.window_bytes -= old.len(),
                    None => break,
                }
            }
        }
        Ok(Some(fresh))
    }

    /// Exactly `size` bytes at the position, fewer only at the end.
    pub(crate) async fn next_exact(&mut self, size: usize) -> Result<Option<Bytes>> {
        let Some(first) = self.next(size).await? else {
            return Ok(None);
        };
        if first.len() >= size {
            return Ok(Some(first));
        }
        let mut chunk = BytesMut::with_capacity(size);
        chunk.extend_from_slice(&first);
        while chunk.len() < size {
            match self.next(size - chunk.len()).await? {
                Some(more) => chunk.extend_from_slice(&more),
                None => break,
            }
        }
        Ok(Some(chunk.freeze()))
    }

    /// Moves the send position back (or forward, within what was read) to
    /// `offset`; `false` when those bytes are no longer at hand.
    pub(crate) async fn rewind(&mut self, offset: u64) -> Result<bool> {
        if offset > self.read_end {
            return Ok(false);
        }
        match &mut self.input {
            Input::Bytes(_) => {}
            Input::File(file) => file.seek(offset).await?,
            Input::Reader(_) | Input::Stream { .. } => {
                let window_start = self.read_end - self.window_bytes as u64;
                if offset < window_start {
                    return Ok(false);
                }
            }
        }
        self.position = offset;
        Ok(true)
    }

    /// Stops hashing before anything was read, for a send whose commit
    /// carries the source's digest for the registry to check; `false` (and
    /// hashing goes on) when the source has no digest or reading began.
    pub(crate) fn trust_given_digest(&mut self) -> bool {
        match &self.given {
            Some(given) if self.read_end == 0 => {
                self.hashing = Hashing::Trusted(given.clone());
                true
            }
            _ => false,
        }
    }

    /// The digest and size of everything read so far (the given digest
    /// when hashing was turned off).
    pub(crate) fn digest_so_far(&self) -> (Digest, u64) {
        let digest = match &self.hashing {
            Hashing::On(hasher) => hasher.clone().finish(),
            Hashing::Trusted(given) => given.clone(),
        };
        (digest, self.read_end)
    }

    /// The digest and size of everything read; call once [`Feed::is_done`].
    pub(crate) fn finish(self) -> (Digest, u64) {
        let digest = match self.hashing {
            Hashing::On(hasher) => hasher.finish(),
            Hashing::Trusted(given) => given,
        };
        (digest, self.read_end)
    }

    fn size_error(&self, expected: u64, actual: u64) -> Error {
        Error::Protocol {
            url: self.what.clone(),
            reason: format!(
                "the source was announced as {expected} bytes but holds {}{actual}; fix the size given to BlobSource",
                if actual > expected { "more than " } else { "" }
            ),
        }
    }

    async fn replay(&mut self, max: usize) -> Result<Bytes> {
        let wanted = usize::try_from(self.read_end - self.position)
            .unwrap_or(usize::MAX)
            .min(max)
            .min(READ_SIZE);
        let bytes = match &mut self.input {
            Input::Bytes(bytes) => {
                let start = usize::try_from(self.position).unwrap_or(usize::MAX);
                bytes.slice(start..start + wanted)
            }
            Input::File(file) => file.read_exact(wanted).await?,
            Input::Reader(_) | Input::Stream { .. } => {
                let mut offset = self.read_end - self.window_bytes as u64;
                let mut found = Bytes::new();
                for piece in &self.window {
                    let end = offset + piece.len() as u64;
                    if self.position < end {
                        let skip = usize::try_from(self.position - offset).unwrap_or(0);
                        let piece = piece.slice(skip..);
                        found = piece.slice(..piece.len().min(wanted));
                        break;
                    }
                    offset = end;
                }
                found
            }
        };
        self.position += bytes.len() as u64;
        Ok(bytes)
    }

    async fn read_fresh(&mut self, max: usize) -> Result<Option<Bytes>> {
        match &mut self.input {
            Input::Bytes(bytes) => {
                let start = usize::try_from(self.read_end).unwrap_or(usize::MAX);
                if start >= bytes.len() {
                    return Ok(None);
                }
                Ok(Some(bytes.slice(start..(start + max).min(bytes.len()))))
            }
            Input::File(file) => file.read(max).await,
            Input::Reader(reader) => read_some(reader, max).await.map_err(|err| Error::Io {
                path: "the upload's reader".into(),
                source: err,
            }),
            Input::Stream { stream, pending } => {
                let next = match pending.take() {
                    Some(bytes) => Some(bytes),
                    None => loop {
                        match stream.next().await {
                            Some(Ok(bytes)) if bytes.is_empty() => {}
                            Some(Ok(bytes)) => break Some(bytes),
                            Some(Err(source)) => {
                                // Our own errors (from another registry's blob) stay what they are.
                                return Err(match source.downcast::<Error>() {
                                    Ok(ours) => *ours,
                                    Err(source) => Error::Interrupted {
                                        what: self.what.clone(),
                                        source,
                                    },
                                });
                            }
                            None => break None,
                        }
                    },
                };
                Ok(next.map(|mut bytes| {
                    if bytes.len() > max {
                        *pending = Some(bytes.split_off(max));
                    }
                    bytes
                }))
            }
        }
    }
}

/// Fills up to `max` bytes (fewer only at the end), so that pieces are big.
async fn read_some<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Option<Bytes>> {
    let mut buffer = BytesMut::with_capacity(max);
    while buffer.len() < max {
        if reader.read_buf(&mut buffer).await? == 0 {
            break;
        }
    }
    Ok((!buffer.is_empty()).then(|| buffer.freeze()))
}

#[cfg(test)]
mod tests;
