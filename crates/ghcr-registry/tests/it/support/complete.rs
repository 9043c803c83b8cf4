//! An invariant checked at every step of a run on the fake: each tag of a
//! repository names a manifest whose blobs and child manifests are all in
//! the store, read straight from the store after every request the fake
//! handles (before the client sees its answer).

use std::sync::{Arc, Mutex};

use ghcr_sim::fake::{FakeGhcr, Store};
use ghcr_types::Digest;

/// What the watcher saw: how many requests it checked after, and every
/// broken tag it found (with the request it followed).
#[derive(Clone, Default)]
pub(crate) struct Watched {
    inner: Arc<Mutex<(usize, Vec<String>)>>,
}

impl Watched {
    /// Requests checked after.
    pub(crate) fn checks(&self) -> usize {
        self.inner.lock().unwrap().0
    }

    /// Every breach seen, in order.
    pub(crate) fn breaches(&self) -> Vec<String> {
        self.inner.lock().unwrap().1.clone()
    }
}

/// Checks `repository` on `fake` after every request from now on.
pub(crate) fn watch_tags(fake: &FakeGhcr, repository: &str) -> Watched {
    let (store, repository) = (fake.store(), repository.to_owned());
    let watched = Watched::default();
    let seen = watched.clone();
    fake.log().watch(move |request| {
        let broken = incomplete_tags(&store, &repository);
        let mut inner = seen.inner.lock().unwrap();
        inner.0 += 1;
        inner.1.extend(
            broken
                .into_iter()
                .map(|why| format!("after {} {}: {why}", request.method, request.path)),
        );
    });
    watched
}

/// The tags of `repository` whose manifest tree is not whole, and why.
pub(crate) fn incomplete_tags(store: &Store, repository: &str) -> Vec<String> {
    store
        .tags(repository)
        .into_iter()
        .filter_map(|tag| {
            missing(store, repository, &tag)
                .err()
                .map(|why| format!("{tag}: {why}"))
        })
        .collect()
}

fn missing(store: &Store, repository: &str, reference: &str) -> Result<(), String> {
    let (bytes, _) = store
        .manifest(repository, reference)
        .ok_or_else(|| format!("manifest {reference} is not there"))?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{reference}: {e}"))?;
    let digests = |field: &str| -> Vec<String> {
        manifest[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["digest"].as_str().map(str::to_owned))
            .collect()
    };
    for child in digests("manifests") {
        missing(store, repository, &child)?;
    }
    let config = manifest["config"]["digest"].as_str().map(str::to_owned);
    for blob in digests("layers").into_iter().chain(config) {
        let digest = Digest::parse(&blob).map_err(|e| format!("{blob}: {e}"))?;
        if store.blob(&digest).is_none() {
            return Err(format!("blob {blob} of {reference} is not there"));
        }
    }
    Ok(())
}
