//! The small-image rows: `COUNT` images of a layout (tags `i000`, …)
//! pushed one after another into one repository with one `Client`, then
//! pulled back the same way, each into its own folder, so connections and
//! tokens are reused as a long-running user's would be.

use std::path::Path;

use oci_client::Reference;

use crate::Peer;
use crate::transfer::{pull_counted, push_named};

/// `i007`, as the benchmark's small-image layout names them.
fn tag(n: usize) -> String {
    format!("i{n:03}")
}

fn tagged(repository: &str, n: usize) -> Result<Reference, String> {
    crate::reference(&format!("{repository}:{}", tag(n)))
}

/// `push-small LAYOUT REPO COUNT`.
pub(crate) async fn push(
    peer: &Peer,
    dir: &Path,
    repository: &str,
    count: usize,
) -> Result<String, String> {
    let (mut moved, mut sent) = (0, 0);
    for n in 0..count {
        let (m, s) = push_named(peer, dir, &tag(n), &tagged(repository, n)?).await?;
        moved += m;
        sent += s;
    }
    Ok(format!("{moved} {sent}"))
}

/// `pull-small REPO COUNT DIR`: image `n` into `DIR/i00n`.
pub(crate) async fn pull(
    peer: &Peer,
    repository: &str,
    count: usize,
    dir: &Path,
) -> Result<String, String> {
    let mut moved = 0;
    for n in 0..count {
        moved += pull_counted(peer, &tagged(repository, n)?, &dir.join(tag(n))).await?;
    }
    Ok(format!("{moved} 0"))
}
