//! The real peers, from ghcr-sim's `peers`: Debian's docker-registry (with
//! or without token auth) on a free 127.0.0.1 port, killed on drop, and
//! skopeo. A missing binary fails the test with its install command.

use std::path::PathBuf;

pub(crate) use ghcr_sim::peers::{Auth, DockerRegistry};

/// Starts a registry and waits until it answers.
pub(crate) async fn start(auth: Auth) -> DockerRegistry {
    DockerRegistry::start(auth)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// The path of an external binary, or a failure naming its install command.
pub(crate) fn require(binary: &str, package: &str) -> PathBuf {
    ghcr_sim::peers::require(binary, package).unwrap_or_else(|error| panic!("{error}"))
}

/// The stdout of `skopeo inspect ARGS`, asserting it succeeded.
pub(crate) async fn skopeo_inspect(args: &[&str]) -> Vec<u8> {
    let mut all = vec!["inspect"];
    all.extend(args);
    ghcr_sim::peers::skopeo(&all)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}
