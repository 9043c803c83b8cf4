//! `FakeGhcr`: ghcr.io in a test or demo process.
//!
//! One plain-HTTP listener on 127.0.0.1 serves the registry (`/v2/`), the
//! token endpoint (`/token`) and the GitHub Packages REST API (`/user/…`,
//! `/users/{u}/…`, `/orgs/{o}/…`, `/rate_limit`) with GitHub's attestations
//! API by subject digest (`…/attestations/{digest}`); a second listener is the
//! storage host blob GETs are redirected to on the ghcr profile. Content,
//! packages and tokens live in memory (blobs as `Bytes`, shared, never
//! copied). Clients enable plain HTTP for the loopback host.
//!
//! What the ghcr profile reproduces (reference notes §1, §2):
//! - the `/v2/` challenge with the placeholder scope `repository:user/image:pull`,
//!   `Docker-Distribution-Api-Version` and `x-github-request-id` headers,
//!   `/v2` without a slash answered 404;
//! - tokens without `expires_in`; a Bearer PAT sent to `/token` refused;
//!   Basic credentials sent straight to `/v2/…` refused (`DENIED invalid token`);
//! - `DELETE` of manifests and blobs answered 405 `UNSUPPORTED`;
//! - a `Content-Range` PATCH over 4 MiB answered 416 with ghcr.io's message;
//! - the referrers API answered 404 (clients use the `sha256-<hex>` tag),
//!   `/v2/_catalog` unsupported;
//! - blob GETs answered 307 to the storage listener with a signed, expiring
//!   query; the storage host refuses requests carrying Authorization;
//! - 429 bodies (fault injection) with `retry-after: <go duration>, allowed: …`.
//!
//! The generic profile behaves like a spec-conforming distribution
//! registry: deletes allowed, referrers API with `artifactType` filtering
//! and `OCI-Subject`, blobs served directly, absolute upload locations
//! carrying a `_state` the client must follow, tokens with `expires_in`.
//!
//! Both verify every digest they are given (manifest PUT by digest, blob PUT
//! and POST `?digest=`, mounts), reject bad ones with `DIGEST_INVALID`, and
//! implement the upload state machine with `Range`, `Location` and
//! `Docker-Upload-UUID`. Pushing `NAME/pkg` creates NAME's private package
//! `pkg` (`NAME/team/app` creates `team/app`, `team%2Fapp` in the API) and a
//! version per manifest digest, as on ghcr.io.
//!
//! Hostile input gets an answer: request bodies are read up to
//! [`FakeGhcrBuilder::max_request_body`] (1 GiB; larger ones are answered
//! 413 unread), a body that breaks off is answered 400 and not handled, and
//! malformed paths, headers and queries are errors, never panics.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use ghcr_sim::fake::FakeGhcr;
//!
//! let fake = FakeGhcr::builder().user("octo", "token-o").org("octo-org", &["octo"]).start().await?;
//! fake.store().push_image("octo-org/app", Some("v1"), &[bytes::Bytes::from_static(b"layer")])?;
//!
//! // Any HTTP client works; a bare socket shows the challenge.
//! let mut socket = tokio::net::TcpStream::connect(fake.registry_host()).await.unwrap();
//! socket.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
//! let mut answer = String::new();
//! socket.read_to_string(&mut answer).await.unwrap();
//! assert!(answer.starts_with("HTTP/1.1 401"));
//! assert!(answer.contains(r#"scope="repository:user/image:pull""#));
//! assert_eq!(fake.log().len(), 1);
//! fake.shutdown().await;
//! # Ok::<(), ghcr_sim::Error>(())
//! # });
//! ```

mod accounts;
mod builder;
mod clock;
mod connections;
mod faults;
mod log;
mod routes;
mod server;
mod state;
mod store;

pub use accounts::{ALL_SCOPES, PatScope, Permission};
pub use builder::FakeGhcrBuilder;
pub use clock::Clock;
pub use faults::{Fault, FaultAction, Faults, Route};
pub use log::{AuthSeen, Listener, LoggedRequest, RequestLog};
pub use state::Profile;
pub use store::{PushedImage, PushedIndex, Store, StoredVersion};

use std::sync::Arc;

use server::Shared;

/// A running fake ghcr.io. Stops when dropped or on [`FakeGhcr::shutdown`].
#[derive(Debug)]
pub struct FakeGhcr {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl FakeGhcr {
    /// Starts a [`FakeGhcrBuilder`].
    pub fn builder() -> FakeGhcrBuilder {
        FakeGhcrBuilder::default()
    }

    /// The profile it runs.
    pub fn profile(&self) -> Profile {
        self.shared.config.profile
    }

    /// The registry host, `127.0.0.1:PORT` (enable plain HTTP for it).
    pub fn registry_host(&self) -> &str {
        &self.shared.registry_host
    }

    /// `http://127.0.0.1:PORT`, the registry's base URL.
    pub fn registry_url(&self) -> String {
        format!("http://{}", self.shared.registry_host)
    }

    /// The Packages API base URL (the same listener): `http://127.0.0.1:PORT`.
    pub fn api_base(&self) -> String {
        self.registry_url()
    }

    /// The token endpoint, `http://127.0.0.1:PORT/token`.
    pub fn token_realm(&self) -> String {
        format!("http://{}/token", self.shared.registry_host)
    }

    /// The storage host blob GETs are redirected to, `localhost:PORT2` (a
    /// second loopback listener, named apart from the registry's host).
    pub fn storage_host(&self) -> &str {
        &self.shared.storage_host
    }

    /// Seed and inspect content and packages.
    pub fn store(&self) -> Store {
        Store {
            shared: self.shared.clone(),
        }
    }

    /// Every request answered so far.
    pub fn log(&self) -> &RequestLog {
        &self.shared.log
    }

    /// Waits until every connection a client opened has ended: after a
    /// client was killed, the requests it had written completely are still
    /// handled; check the state after this, not before.
    pub async fn quiet(&self) {
        self.shared.connections.none_open().await;
    }

    /// Faults, to arm more while running.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The clock dates, expiry and restore windows run on.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Expires every registry token issued so far: the next request with one
    /// gets a 401 challenge and the client must fetch a new token.
    pub fn expire_tokens(&self) {
        let now = self.shared.clock.now();
        for bearer in self.shared.state().bearers.values_mut() {
            bearer.expires_at = now;
        }
    }

    /// The accounts it knows, `(login, "User"|"Organization")`, sorted.
    pub fn accounts(&self) -> Vec<(String, &'static str)> {
        self.shared
            .state()
            .accounts
            .logins()
            .map(|(login, account)| {
                let kind = match account.kind {
                    accounts::AccountKind::User => "User",
                    accounts::AccountKind::Organization => "Organization",
                };
                (login.clone(), kind)
            })
            .collect()
    }

    /// Stops serving and closes open connections.
    pub async fn shutdown(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for FakeGhcr {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
