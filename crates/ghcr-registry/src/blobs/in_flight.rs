//! One upload at a time per blob and repository, across every task of a
//! client: a second push of a digest that is on its way waits for the
//! first, then finds the blob there (a HEAD) instead of uploading it again.
//! Concurrent uploads of one blob into one repository make docker-registry
//! 2.8 answer a later manifest PUT with MANIFEST_BLOB_UNKNOWN, and send the
//! bytes twice anywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use ghcr_types::{Digest, Reference};
use tokio::sync::OwnedMutexGuard;

/// A repository (`registry/path`) and a digest.
type Key = (String, Digest);

/// The blobs being pushed, by repository and digest.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    turns: Mutex<HashMap<Key, Weak<tokio::sync::Mutex<()>>>>,
}

impl InFlight {
    /// Waits for the turn to push `digest` into `repository`; the turn
    /// ends when the guard is dropped.
    pub(crate) async fn turn(
        &self,
        repository: &Reference,
        digest: &Digest,
    ) -> OwnedMutexGuard<()> {
        let key = (
            format!("{}/{}", repository.registry(), repository.repository()),
            digest.clone(),
        );
        let lock = {
            let mut turns = self
                .turns
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Forget the turns nobody holds or waits for any more.
            turns.retain(|_, weak| weak.strong_count() > 0);
            if let Some(lock) = turns.get(&key).and_then(Weak::upgrade) {
                lock
            } else {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                turns.insert(key, Arc::downgrade(&lock));
                lock
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_blob_and_repository() {
        let in_flight = Arc::new(InFlight::default());
        let app: Reference = "ghcr.io/octo/app".parse().unwrap();
        let other: Reference = "ghcr.io/octo/other".parse().unwrap();
        let digest = Digest::sha256_of(b"layer");
        let first = in_flight.turn(&app, &digest).await;
        // Another repository, or another digest, goes at once.
        drop(in_flight.turn(&other, &digest).await);
        drop(in_flight.turn(&app, &Digest::sha256_of(b"other")).await);
        let waiting = tokio::spawn({
            let in_flight = in_flight.clone();
            let (app, digest) = (app.clone(), digest.clone());
            async move { drop(in_flight.turn(&app, &digest).await) }
        });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "the second push waits for the first"
        );
        drop(first);
        waiting.await.unwrap();
        assert!(
            in_flight
                .turns
                .lock()
                .unwrap()
                .values()
                .all(|w| w.strong_count() == 0)
        );
    }
}
