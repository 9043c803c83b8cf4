//! Progress of blob transfers, per blob, for progress bars.

use std::fmt;
use std::sync::Arc;

use ghcr_types::Digest;

/// Which way bytes move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// To the registry.
    Upload,
    /// From the registry.
    Download,
}

/// Why a blob moved no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The target already had it (seen with a HEAD).
    Exists,
    /// The registry mounted it from another repository.
    Mounted,
}

/// One step of one blob's transfer.
///
/// A blob sees `Started`, then `Advanced` with the running total (which
/// goes back when an upload restarts), then `Finished` once verified; or
/// only `Skipped`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// A transfer starts. The digest is `None` for an upload from a reader
    /// whose digest is computed on the way.
    Started {
        /// The blob, when known.
        digest: Option<Digest>,
        /// Its size, when known.
        total: Option<u64>,
        /// Which way.
        direction: Direction,
    },
    /// Bytes moved so far.
    Advanced {
        /// The blob, when known.
        digest: Option<Digest>,
        /// Bytes done.
        done: u64,
        /// Its size, when known.
        total: Option<u64>,
    },
    /// Nothing needed moving.
    Skipped {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// Why.
        reason: SkipReason,
    },
    /// The blob is complete and its digest verified.
    Finished {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// A sync finished one tag (copied with its image, or failed and left
    /// the target's tag as it was).
    TagSynced {
        /// The tag.
        tag: String,
        /// Whether it was copied.
        copied: bool,
        /// Tags finished so far in this sync, this one included.
        done: usize,
        /// Tags the sync copies.
        total: usize,
    },
}

type Callback = dyn Fn(ProgressEvent) + Send + Sync;

/// Where progress events go: a callback, a channel, or nowhere (the
/// default). Cheap to clone; called from the tasks doing the transfers,
/// so the callback should be quick.
///
/// ```
/// use ghcr_registry::{Progress, ProgressEvent};
///
/// let (progress, mut events) = Progress::channel();
/// # let _ = &progress;
/// // Hand `progress` to a push, pull or copy, then draw what arrives:
/// while let Ok(event) = events.try_recv() {
///     if let ProgressEvent::Advanced { done, total, .. } = event {
///         println!("{done} of {total:?}");
///     }
/// }
/// ```
#[derive(Clone, Default)]
pub struct Progress {
    callback: Option<Arc<Callback>>,
}

impl Progress {
    /// Calls `callback` with every event.
    pub fn new(callback: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Self {
            callback: Some(Arc::new(callback)),
        }
    }

    /// Sends every event into an unbounded channel.
    pub fn channel() -> (Self, tokio::sync::mpsc::UnboundedReceiver<ProgressEvent>) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        (
            Self::new(move |event| {
                // A receiver that went away only stops the drawing.
                let _ = sender.send(event);
            }),
            receiver,
        )
    }

    /// Reports nothing.
    pub fn none() -> Self {
        Self::default()
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        if let Some(callback) = &self.callback {
            callback(event);
        }
    }

    pub(crate) fn is_active(&self) -> bool {
        self.callback.is_some()
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("active", &self.is_active())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_delivers_in_order_and_none_is_silent() {
        let (progress, mut events) = Progress::channel();
        let digest = Digest::sha256_of(b"x");
        progress.emit(ProgressEvent::Advanced {
            digest: Some(digest.clone()),
            done: 1,
            total: Some(1),
        });
        progress.emit(ProgressEvent::Finished {
            digest: digest.clone(),
            size: 1,
        });
        assert!(matches!(
            events.try_recv(),
            Ok(ProgressEvent::Advanced { done: 1, .. })
        ));
        assert_eq!(
            events.try_recv().ok(),
            Some(ProgressEvent::Finished { digest, size: 1 })
        );
        assert!(!Progress::none().is_active());
    }
}
