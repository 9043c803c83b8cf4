//! Real peers for integration tests, benchmarks and demos: Debian's
//! `docker-registry` (distribution 2.8) with or without token auth, the
//! token issuer it trusts, `skopeo`, and oras-py in its venv.
//!
//! [`DockerRegistry::start`] runs `/usr/bin/docker-registry` on a free
//! 127.0.0.1 port with a temporary storage folder, deletes enabled and
//! upload purging off, waits until it answers `/v2/` as itself, and stops
//! it when dropped. With [`Auth::Token`] it trusts an in-process
//! [`TokenIssuer`] that checks Basic credentials ([`USER`], [`PASSWORD`])
//! and grants every action asked for, as distribution's token auth does.
//! [`DockerRegistry::start_tls`] serves HTTPS only, with a certificate
//! from a CA made for that registry ([`DockerRegistry::ca_pem`]).
//! [`DockerRegistry::start_with_access_log`] logs every request, and
//! [`DockerRegistry::requests_since`] counts them by method (benchmarks).
//!
//! [`FaultProxy`] sits in front of any of them on another port, counts
//! the bytes each way and cuts, holds or resets one connection on demand.
//!
//! A missing binary is an error that names the install command
//! (`apt-get install -y docker-registry`), so a test fails with it rather
//! than skipping; [`require`] does the same for any tool, [`skopeo`] runs
//! skopeo with it, and [`oras_py`] runs a Python script in oras-py's venv
//! (`cargo xtask install` makes it).
//!
//! No leaks, no noise:
//! - The registry runs under a small `/bin/sh` supervisor whose stdin is a
//!   pipe from this process (the lifeline). When the pipe closes, because
//!   the [`DockerRegistry`] was dropped or because this process died in any
//!   way, SIGKILL included (the kernel closes the pipe), the supervisor
//!   stops the registry. No `unsafe` `pre_exec` or `PR_SET_PDEATHSIG` is
//!   needed, and it works on any Unix with a POSIX shell.
//! - The registry's output goes to a log file in its temporary folder,
//!   never to the test's output. [`DockerRegistry::log`] reads it; a
//!   registry dropped while its thread panics (a failing test) writes it
//!   to stderr, which the test harness shows with the failure.
//!
//! ```no_run
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ghcr_sim::peers::{Auth, DockerRegistry};
//!
//! // Needs `/usr/bin/docker-registry`: `apt-get install -y docker-registry`.
//! let registry = DockerRegistry::start(Auth::Token).await?;
//! let (user, password) = registry.credentials().unwrap_or_default();
//! // Point a client at `registry.host()` over plain HTTP, signed in as
//! // `user`/`password`; it fetches its tokens from `registry.issuer()`.
//! assert!(registry.host().starts_with("127.0.0.1:"));
//! # let _ = (user, password);
//! # Ok::<(), std::io::Error>(())
//! # });
//! ```

mod access;
mod http;
mod proxy;
mod registry;
mod token;
mod tools;

#[cfg(test)]
mod tests;

pub use proxy::{FaultProxy, ProxyFault};
pub use registry::{Auth, DOCKER_REGISTRY, DockerRegistry, PASSWORD, USER};
pub use token::TokenIssuer;
pub use tools::{ORAS_PY_VERSION, SKOPEO, oras_py, oras_venv, require, skopeo};
