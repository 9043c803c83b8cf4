//! The latency rows: many small calls one after another on one client,
//! each timed; the line is `<p50 ms> <p99 ms> <calls>` (and the tags one
//! listing found, for `tags`).

use std::time::Instant;

use oci_client::Reference;

use crate::Peer;
use crate::transfer::ACCEPTED;

/// `calls` manifest HEADs (`fetch_manifest_digest`).
pub(crate) async fn head(peer: &Peer, image: &Reference, calls: usize) -> Result<String, String> {
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        peer.client
            .fetch_manifest_digest(image, &peer.auth)
            .await
            .map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(line(times))
}

/// `calls` manifest GETs (`pull_manifest_raw`).
pub(crate) async fn get(peer: &Peer, image: &Reference, calls: usize) -> Result<String, String> {
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        peer.client
            .pull_manifest_raw(image, &peer.auth, &ACCEPTED)
            .await
            .map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(line(times))
}

/// `calls` full listings, `page` tags a page: `n=`, then `last=` the
/// last tag seen, until a page comes back short (or long: see below).
pub(crate) async fn tags(
    peer: &Peer,
    repository: &Reference,
    calls: usize,
    page: usize,
) -> Result<String, String> {
    let mut times = Vec::with_capacity(calls);
    let mut found = 0;
    for _ in 0..calls {
        let started = Instant::now();
        let (mut last, mut count) = (None::<String>, 0);
        loop {
            let answer = peer
                .client
                .list_tags(repository, &peer.auth, Some(page), last.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            count += answer.tags.len();
            // A short page is the last; a longer one, or one ending where
            // the one before did, comes from a registry that ignores `n`
            // and `last` (docker-registry 2.8 answers every tag at once).
            let ended = answer.tags.last().cloned();
            if answer.tags.len() != page || ended == last {
                break;
            }
            last = ended;
        }
        times.push(started.elapsed().as_secs_f64());
        found = count;
    }
    Ok(format!("{} {found}", line(times)))
}

/// `<p50 ms> <p99 ms> <calls>`, nearest rank.
fn line(mut seconds: Vec<f64>) -> String {
    seconds.sort_by(f64::total_cmp);
    let rank = |p: usize| {
        let index = (seconds.len() * p).div_ceil(100).saturating_sub(1);
        seconds.get(index).map_or(f64::NAN, |s| s * 1e3)
    };
    format!("{:.3} {:.3} {}", rank(50), rank(99), seconds.len())
}
