//! Blob uploads, chosen per blob and registry (see [`crate::UploadMode`]):
//! a HEAD first when the digest is known, a cross-repository mount when a
//! source repository is named, then one streamed request, one monolithic
//! PUT, or Content-Range chunks. A failed request is resumed from the
//! registry's `Range`; when the registry dropped the session (docker-registry
//! does after a cut PATCH) the upload restarts, as long as the bytes can be
//! read again. The digest is computed on the way and checked before the
//! upload is committed.

mod chunked;
mod session;
mod streamed;

use ghcr_types::{Digest, Reference};

use super::source::{BlobSource, Feed};
use crate::client::{RegistryClient, UploadMode};
use crate::error::{Error, Result};
use crate::progress::{Direction, Progress, ProgressEvent, SkipReason};
use session::{Mount, UploadSession};
use streamed::Carrier;

/// What an upload request achieved.
#[derive(Debug)]
pub(crate) enum Step {
    /// The bytes are up; a commit (`PUT ?digest=`) remains.
    Sent,
    /// The blob is committed.
    Committed,
}

/// Whether to ask the registry before sending a blob whose digest is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExistsCheck {
    /// HEAD the blob first and send nothing when it is there.
    #[default]
    Head,
    /// Upload without asking (the caller just checked).
    Skip,
}

/// How one blob upload goes.
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    pub(crate) mount_from: Option<Reference>,
    pub(crate) exists_check: ExistsCheck,
    pub(crate) progress: Progress,
}

impl UploadOptions {
    /// The defaults: check existence, no mount, no progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Try a cross-repository mount from this repository of the same
    /// registry first (needs the blob's digest). Default: none.
    #[must_use]
    pub fn mount_from(mut self, repository: Reference) -> Self {
        self.mount_from = Some(repository);
        self
    }

    /// Whether to HEAD first. Default: [`ExistsCheck::Head`].
    #[must_use]
    pub fn exists_check(mut self, check: ExistsCheck) -> Self {
        self.exists_check = check;
        self
    }

    /// Where progress goes. Default: nowhere.
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }
}

/// How a blob got to the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobOutcome {
    /// Its bytes were sent.
    Uploaded,
    /// The registry had it already; nothing was sent.
    Existed,
    /// The registry linked it from another repository; nothing was sent.
    Mounted,
}

/// A blob that is now in the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedBlob {
    /// Its digest.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// How it got there.
    pub outcome: BlobOutcome,
}

/// The strategy for one blob.
struct Plan<'a> {
    mode: UploadMode,
    /// Known to be no larger than a chunk: sent from memory.
    small: bool,
    size: Option<u64>,
    expected: Option<&'a Digest>,
}

/// Progress reporting for one blob.
#[derive(Clone, Debug)]
pub(crate) struct Tracker {
    progress: Progress,
    digest: Option<Digest>,
    total: Option<u64>,
}

impl Tracker {
    pub(crate) fn advanced(&self, done: u64) {
        self.progress.emit(ProgressEvent::Advanced {
            digest: self.digest.clone(),
            done,
            total: self.total,
        });
    }
}

impl RegistryClient {
    /// Uploads one blob into a repository and returns its digest and size.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when the bytes do not hash to the digest
    /// the source was given (the upload is cancelled, nothing committed),
    /// [`Error::UploadInterrupted`] when resuming and restarting failed,
    /// [`Error::Io`] for a source file, and the transport's errors.
    pub async fn push_blob(
        &self,
        repository: &Reference,
        source: BlobSource,
        options: &UploadOptions,
    ) -> Result<PushedBlob> {
        let small = self.chunk_size_for(repository.registry());
        let source = source.learn_size().await?;
        // A source read whole to be hashed holds its size of the client's
        // budget until it is up, like every other transfer buffer.
        let _read_whole = match source.read_by_prepare(small) {
            Some(size) => self.budget.take(size).await,
            None => None,
        };
        // One push of a digest into a repository at a time: a second one
        // waits, then finds the blob (see `in_flight`). Only digests known
        // up front (copies, syncs, layouts, tarballs): a source hashed here
        // holds budget, which a waiter must not sit on.
        let _turn = match &source.digest {
            Some(digest) => Some(self.in_flight.turn(repository, digest).await),
            None => None,
        };
        let source = source.prepare(small).await?;
        let mut opened = None;
        if let Some(digest) = source.digest.clone() {
            if options.exists_check == ExistsCheck::Head
                && let Some(size) = self
                    .blob_size(repository, &digest, push_scope(repository))
                    .await?
                && source.size.is_none_or(|expected| expected == size)
            {
                return Ok(skipped(options, digest, size, SkipReason::Exists));
            }
            if let Some(from) = options.mount_from.as_ref().filter(|from| {
                from.registry() == repository.registry()
                    && from.repository() != repository.repository()
            }) {
                match UploadSession::mount(self, repository, from, &digest).await {
                    Ok(Mount::Mounted) => {
                        let size = match source.size {
                            Some(size) => size,
                            None => self
                                .blob_size(repository, &digest, push_scope(repository))
                                .await?
                                .unwrap_or(0),
                        };
                        return Ok(skipped(options, digest, size, SkipReason::Mounted));
                    }
                    Ok(Mount::Session(session)) => opened = Some(session),
                    Err(error) => {
                        tracing::debug!(%error, "mount refused; uploading instead");
                    }
                }
            }
        }
        let session = match opened {
            Some(session) => session,
            None => UploadSession::open(self, repository).await?,
        };
        self.upload(session, source, &options.progress).await
    }

    async fn upload(
        &self,
        mut session: UploadSession,
        source: BlobSource,
        progress: &Progress,
    ) -> Result<PushedBlob> {
        let expected = source.digest.clone();
        let tracker = Tracker {
            progress: progress.clone(),
            digest: expected.clone(),
            total: source.size,
        };
        progress.emit(ProgressEvent::Started {
            digest: expected.clone(),
            total: source.size,
            direction: Direction::Upload,
        });
        match self.send_all(&mut session, source, &tracker).await {
            Ok((digest, size)) => {
                progress.emit(ProgressEvent::Finished {
                    digest: digest.clone(),
                    size,
                });
                Ok(PushedBlob {
                    digest,
                    size,
                    outcome: BlobOutcome::Uploaded,
                })
            }
            Err(error) => {
                session.cancel(self).await;
                Err(match expected {
                    Some(expected) if refuses_digest(&error) => Error::DigestRefused {
                        what: format!(
                            "blob {expected} for {}",
                            session.repository.without_tag_or_digest()
                        ),
                        expected,
                    },
                    _ => error,
                })
            }
        }
    }

    /// Sends, resuming or restarting after failures, then commits.
    async fn send_all(
        &self,
        session: &mut UploadSession,
        source: BlobSource,
        tracker: &Tracker,
    ) -> Result<(Digest, u64)> {
        let expected = source.digest.clone();
        let size = source.size;
        let chunk_limit = self.chunk_size_for(session.repository.registry());
        let plan = Plan {
            mode: self.settings.upload_mode,
            small: size.is_some_and(|size| size <= chunk_limit as u64),
            size,
            expected: expected.as_ref(),
        };
        // What a reader or stream keeps to send again: at least a chunk.
        let window = match (source.is_seekable(), plan.mode) {
            (true, _) => 0,
            (false, UploadMode::Chunked) => self.settings.resume_buffer.max(chunk_limit),
            (false, _) => self.settings.resume_buffer,
        };
        let what = expected
            .as_ref()
            .map_or_else(|| "a blob".to_owned(), |d| format!("blob {d}"));
        let mut feed = Feed::open(source, window, what.clone()).await?;
        // The commit carries the digest and the registry checks it; blobs
        // of a chunk or less are checked here first, which costs little.
        if !plan.small && !self.settings.verify_uploads {
            feed.trust_given_digest();
        }
        let mut chunk_size = chunk_limit;
        let mut attempts_left = self.settings.resume_attempts;
        let step = loop {
            let (back, step) = self
                .attempt(&plan, session, feed, &mut chunk_size, tracker)
                .await?;
            feed = back;
            match step {
                Ok(step) => break step,
                Err(error) if attempts_left > 0 && is_resumable(&error) => {
                    attempts_left -= 1;
                    if !self.recover(session, &mut feed).await? {
                        return Err(interrupted(session, &what, feed.position(), error));
                    }
                }
                Err(error) => return Err(interrupted(session, &what, feed.position(), error)),
            }
        };
        self.finish(session, feed, step, expected.as_ref()).await
    }

    /// One try with the strategy the plan picks; gives the feed back.
    async fn attempt(
        &self,
        plan: &Plan<'_>,
        session: &mut UploadSession,
        mut feed: Feed,
        chunk_size: &mut usize,
        tracker: &Tracker,
    ) -> Result<(Feed, Result<Step>)> {
        let carrier = match (plan.mode, plan.small, plan.expected) {
            (UploadMode::Streamed | UploadMode::Monolithic, true, _) => {
                let step = self
                    .put_in_memory(session, &mut feed, (plan.size, plan.expected), tracker)
                    .await;
                return Ok((feed, step));
            }
            (UploadMode::Chunked, ..) => {
                let step = chunked::send(self, session, &mut feed, chunk_size, tracker).await;
                return Ok((feed, step));
            }
            (UploadMode::Monolithic, false, Some(digest)) => Carrier::Put(digest),
            _ => Carrier::Patch,
        };
        streamed::send(self, session, feed, plan.size, carrier, tracker).await
    }

    /// Checks the digest, then commits unless the last request did.
    async fn finish(
        &self,
        session: &UploadSession,
        feed: Feed,
        step: Step,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64)> {
        let (digest, size) = feed.finish();
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(Error::mismatch(
                format!("upload to {}", session.repository.without_tag_or_digest()),
                expected,
                digest,
            ));
        }
        if matches!(step, Step::Sent) {
            session
                .commit(self, &digest, ghcr_transport::Body::empty())
                .await?;
        }
        Ok((digest, size))
    }

    /// A small blob in one PUT whose body can be sent again (so the
    /// transport may retry it and answer a 401 with it).
    async fn put_in_memory(
        &self,
        session: &UploadSession,
        feed: &mut Feed,
        (size, expected): (Option<u64>, Option<&Digest>),
        tracker: &Tracker,
    ) -> Result<Step> {
        let start = feed.position();
        // Bytes in memory go as they are; anything else is read into one
        // buffer that holds its size of the client's budget until it is up.
        let left = plan_left(size, start);
        let _buffer = if feed.is_in_memory() {
            None
        } else {
            self.budget.take(left).await
        };
        let rest = feed.next_exact(left.max(1)).await?.unwrap_or_default();
        if feed.next(1).await?.is_some() {
            return Err(Error::protocol(
                &session.location,
                "the source holds more than its announced size",
            ));
        }
        // Small sources are read and hashed when prepared: the digest is known.
        let Some(digest) = expected else {
            return Err(Error::protocol(
                &session.location,
                "a blob sent in one PUT needs its digest first",
            ));
        };
        let (actual, _) = feed.digest_so_far();
        if actual != *digest {
            return Err(Error::mismatch(
                format!("upload to {}", session.repository.without_tag_or_digest()),
                digest,
                actual,
            ));
        }
        let end = start + rest.len() as u64;
        session
            .commit(self, digest, ghcr_transport::Body::from(rest))
            .await?;
        tracker.advanced(end);
        Ok(Step::Committed)
    }

    /// After a failed request: continue from what the registry holds, or
    /// start a new session from byte 0. `false` when neither is possible.
    async fn recover(&self, session: &mut UploadSession, feed: &mut Feed) -> Result<bool> {
        if let Some(held) = session.status(self).await?
            && feed.rewind(held).await?
        {
            tracing::warn!(
                bytes = held,
                "upload interrupted; resuming from the registry's Range"
            );
            return Ok(true);
        }
        if feed.rewind(0).await? {
            tracing::warn!("upload interrupted and the registry dropped it; starting it again");
            session.cancel(self).await;
            *session = UploadSession::open(self, &session.repository).await?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Bytes left to send of a blob of `size` (known for blobs sent from
/// memory) from `start`.
fn plan_left(size: Option<u64>, start: u64) -> usize {
    size.map_or(0, |size| {
        usize::try_from(size.saturating_sub(start)).unwrap_or(usize::MAX)
    })
}

fn push_scope(repository: &Reference) -> ghcr_transport::ghcr_auth::Scope {
    ghcr_transport::ghcr_auth::Scope::push(repository.repository())
}

fn skipped(options: &UploadOptions, digest: Digest, size: u64, reason: SkipReason) -> PushedBlob {
    options.progress.emit(ProgressEvent::Skipped {
        digest: digest.clone(),
        size,
        reason,
    });
    PushedBlob {
        digest,
        size,
        outcome: match reason {
            SkipReason::Exists => BlobOutcome::Existed,
            SkipReason::Mounted => BlobOutcome::Mounted,
        },
    }
}

fn interrupted(session: &UploadSession, what: &str, offset: u64, source: Error) -> Error {
    if matches!(source, Error::Io { .. } | Error::DigestMismatch { .. }) {
        return source;
    }
    Error::UploadInterrupted {
        repository: session.repository.without_tag_or_digest().to_string(),
        what: what.to_owned(),
        offset,
        source: Box::new(source),
    }
}

/// Whether the registry answered `DIGEST_INVALID` (after a resume too).
fn refuses_digest(error: &Error) -> bool {
    match error {
        Error::Transport(transport) => transport.registry_code() == Some("DIGEST_INVALID"),
        Error::UploadInterrupted { source, .. } => refuses_digest(source),
        _ => false,
    }
}

/// Failures worth a resume: the connection, the server (an answer that
/// stalled included), a lost session.
fn is_resumable(error: &Error) -> bool {
    match error {
        Error::Transport(transport) => match transport {
            ghcr_transport::Error::Network { .. }
            | ghcr_transport::Error::Timeout { .. }
            | ghcr_transport::Error::Stalled { .. }
            | ghcr_transport::Error::Server { .. }
            | ghcr_transport::Error::NotFound { .. } => true,
            ghcr_transport::Error::Status { status, .. } => *status == 416,
            _ => false,
        },
        _ => false,
    }
}
