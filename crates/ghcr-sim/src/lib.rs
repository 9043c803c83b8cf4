//! Record and replay of HTTP interactions, and an in-process fake ghcr.io.
//!
//! `ghcr-sim` depends on `ghcr-types` only, so every crate of the workspace
//! can dev-depend on it. It has four parts:
//!
//! - **Record / replay** (FR-SIM-001..003). [`RecordLayer`] is a
//!   `tower::Layer` for the transport's wire (after auth, before the
//!   network) that keeps every interaction, redacted, and writes a
//!   [`Cassette`]; [`Replayer`] is a wire that answers from one, with no
//!   network, server or credentials. [`SimulationMode`] switches between
//!   them from configuration or `GHCR_SIMULATION_MODE` / `GHCR_SIMULATION_PATH`.
//! - **[`fake::FakeGhcr`]**: ghcr.io (or a generic OCI registry) with
//!   GitHub's Packages and attestations APIs, permissions, fault injection and a request log,
//!   on 127.0.0.1. The `ghcr-fake` binary serves it standalone.
//! - **[`Fixture`]**: replay tests in a few lines, recorded by
//!   `cargo xtask record` against the fake (or a real registry).
//! - **[`peers`]**: the real peers of integration tests and the bench:
//!   Debian's docker-registry (without auth, or with token auth from an
//!   in-process issuer) and skopeo.
//!
//! Wire compatibility: [`HttpBody`] and [`BoxError`] are the transport's
//! types, defined here from `http-body-util`, so
//! `Transport::builder().wire(replayer)` and
//! `Transport::builder().wire_layer(recorder)` take these directly.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use http_body_util::BodyExt;
//! use tower::{Layer, ServiceExt};
//! use ghcr_sim::{RecordLayer, Replayer, fake::FakeGhcr};
//!
//! // A fake registry, and a wire to it (here a tiny script; in the
//! // workspace, the transport's hyper client).
//! let fake = FakeGhcr::builder().user("octo", "token-o").start().await?;
//! let realm = fake.token_realm();
//! # let network = tower::service_fn(|request: http::Request<ghcr_sim::HttpBody>| async move {
//! #     let stream = tokio::net::TcpStream::connect(request.uri().authority().unwrap().as_str()).await?;
//! #     let (mut sender, connection) =
//! #         hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
//! #     tokio::spawn(connection);
//! #     let response = sender.send_request(request).await?;
//! #     Ok::<_, ghcr_sim::BoxError>(response.map(|b| b.map_err(ghcr_sim::BoxError::from).boxed_unsync()))
//! # });
//!
//! // Record a token request: the token never reaches the disk.
//! let dir = tempfile::tempdir()?;
//! let recorder = RecordLayer::new(dir.path().join("token"));
//! let request = || {
//!     http::Request::get(format!("{realm}?scope=repository:octo/app:pull"))
//!         .header("authorization", "Basic b2N0bzp0b2tlbi1v") // octo:token-o, an example credential of the fake
//!         .body(ghcr_sim::empty())
//!         .unwrap()
//! };
//! let live = recorder.layer(network).oneshot(request()).await?;
//! assert_eq!(live.status(), 200);
//! drop(live);
//! recorder.finish()?;
//! let cassette = std::fs::read_to_string(dir.path().join("token/cassette.json"))?;
//! assert!(cassette.contains(ghcr_sim::TOKEN_MARKER) && !cassette.contains("token-o"));
//!
//! // Replay it with the fake gone.
//! fake.shutdown().await;
//! let replayer = Replayer::load(&dir.path().join("token"))?;
//! let replayed = replayer.clone().oneshot(request()).await?;
//! let body = replayed.into_body().collect().await?.to_bytes();
//! assert_eq!(body, format!(r#"{{"token":"{}"}}"#, ghcr_sim::TOKEN_MARKER));
//! replayer.finish()?;
//! # Ok::<(), ghcr_sim::BoxError>(())
//! # });
//! ```
//!
//! # Cassette format
//!
//! A cassette is a folder: `cassette.json` and, for large bodies, a
//! `bodies/` folder. Keys are written in a fixed order (struct fields in
//! declaration order, header names sorted), two-space indented, so a
//! re-recording diffs cleanly.
//!
//! ```json
//! {
//!   "version": 1,
//!   "meta": {
//!     "name": "push_manifest", "recorded_by": "ghcr-registry",
//!     "target": "fake ghcr profile", "registry": "127.0.0.1:41234",
//!     "api": "http://127.0.0.1:41234", "namespace": "octo", "username": "octo",
//!     "plain_http": true
//!   },
//!   "interactions": [
//!     {
//!       "request": {
//!         "method": "PUT",
//!         "url": "http://127.0.0.1:41234/v2/octo/app/manifests/v1",
//!         "headers": { "authorization": "<redacted:Bearer>", "content-type": "application/vnd.oci.image.manifest.v1+json" },
//!         "body": { "json": { "schemaVersion": 2, "…": "…" } }
//!       },
//!       "response": { "status": 201, "headers": { "docker-content-digest": "sha256:…" } }
//!     }
//!   ]
//! }
//! ```
//!
//! - `version`: the format version (1). Another version is refused with
//!   [`Error::UnsupportedVersion`]; re-record.
//! - `meta`: [`CassetteMeta`]; the fixture helper replays with these hosts and names.
//! - `request`: `method`, `url` (redacted), `headers` (a string, or an array
//!   for repeated headers; `user-agent`, `host` and connection headers are
//!   not kept), `body`. `response`: `status`, `headers` (`date` and
//!   connection headers not kept), `body`, and `body_error` when the body
//!   broke mid-way. Instead of `response`, `error` records a failed request
//!   (`kind`: an io error kind such as `connection_reset`, `message`).
//! - A body is exactly one of `json` (compact JSON whose exact bytes are
//!   reproduced by re-serialising it, shown pretty-printed with its key
//!   order kept: manifests keep their digests), `text` (exact UTF-8),
//!   `base64`, or `file` + `size`: bodies over 16 KiB (configurable) live in
//!   `bodies/sha256-<hex>`, named by their sha256 and verified against it on
//!   load ([`Error::BodyHashMismatch`]). The same content is stored once.
//!   `partial: true` marks a body the client stopped reading (a request body
//!   the server answered before reading is not matched on; a response body
//!   is replayed up to where it stopped, then fails).
//! - Challenges (`WWW-Authenticate: Bearer realm="…"`) are kept as sent:
//!   they are not secrets, and the repository's secret scan of `fixtures/`
//!   tells them from credentials.
//!
//! Redaction happens before anything is kept: `Authorization` and
//! `Proxy-Authorization` become `<redacted:Scheme>`, cookies `<redacted>`;
//! `token`, `access_token`, `refresh_token`, `id_token`, `identitytoken`,
//! `password` and `client_secret` in JSON bodies become [`TOKEN_MARKER`] (so
//! a replayed client sends `Bearer ghcr-sim-redacted-token`, which the
//! replayer accepts like any other); the same credentials in form bodies
//! (identity-token POSTs, with or without a Content-Type) and signed query
//! values (`sig`, `signature`, `X-Amz-*`, `se`, `sp`, `token`, …) in URLs,
//! `Location` and `Link` become `REDACTED`; userinfo is dropped from URLs. The replayer redacts incoming requests the same way
//! before matching, so a client following a redacted redirect still matches.
//!
//! # Fixtures
//!
//! Replay tests live in a module named `replay` in each crate's `tests/it`,
//! so `cargo test --workspace --test it replay::` selects them all. Each
//! test names a fixture, a folder under `fixtures/` at the workspace root.
//! By default it replays the cassette (strictly: every recorded
//! interaction must be requested). `cargo xtask record` runs the same tests
//! with `GHCR_FIXTURES=record`: each then starts a [`fake::FakeGhcr`]
//! (user `octo`, organization `octo-org`), records through the network
//! wire, and writes the cassette on [`Fixture::finish`]. With
//! `GHCR_FIXTURES_REGISTRY=ghcr.io`, `GHCR_FIXTURES_USER` and
//! `GHCR_FIXTURES_TOKEN` (optional `GHCR_FIXTURES_API`,
//! `GHCR_FIXTURES_NAMESPACE`) the same command records against a real
//! registry. `cargo xtask fixtures-check` loads every cassette, verifies
//! the side files, replays each cassette against itself
//! ([`verify_replay`]) and runs the replay tests.
//!
//! In a crate's `tests/it/support.rs`, once:
//!
//! ```text
//! pub(crate) async fn transport(fixture: &ghcr_sim::Fixture) -> ghcr_transport::Transport {
//!     let credentials = ghcr_auth::Credentials::basic(fixture.username(), fixture.token());
//!     let mut builder = ghcr_transport::Transport::builder()
//!         .credentials(std::sync::Arc::new(ghcr_auth::StaticProvider::new(credentials)));
//!     if fixture.plain_http() {
//!         builder = builder.allow_plain_http(fixture.registry_host());
//!     }
//!     match fixture.wire() {
//!         ghcr_sim::FixtureWire::Replay(replayer) => builder.wire(replayer),
//!         ghcr_sim::FixtureWire::Record(recorder) => builder.wire_layer(recorder),
//!     }
//!     .build()
//!     .unwrap()
//! }
//! ```
//!
//! and in `tests/it/replay.rs`, per fixture:
//!
//! ```text
//! #[tokio::test]
//! async fn push_manifest() {
//!     let fixture = ghcr_sim::Fixture::start("push_manifest").await.unwrap();
//!     let transport = crate::support::transport(&fixture).await;
//!     let repository = format!("{}/app", fixture.namespace());
//!     // ... the operation under test, against fixture.registry_host() /
//!     // fixture.api_base(), with the asserts a replay must satisfy ...
//!     fixture.finish().unwrap();
//! }
//! ```
//!
//! A test that needs content to exist first seeds it through
//! [`Fixture::fake`] while recording (`if let Some(fake) = fixture.fake()`);
//! seeding is not recorded, and the replay needs none. A recording must not
//! depend on what differs between runs (ports, dates, upload ids come from
//! the cassette on replay).

pub mod attest;
mod body;
mod cassette;
mod error;
pub mod fake;
mod fixture;
mod mode;
pub mod peers;
mod record;
mod redact;
mod replay;

pub use body::{BoxError, HttpBody, empty, full};
pub use cassette::{BODIES_DIR, Cassette, CassetteMeta, DEFAULT_BODY_THRESHOLD, Interaction};
pub use error::{Error, Result};
pub use fixture::{
    FIXTURES_DIR_VAR, FIXTURES_VAR, Fixture, FixtureBuilder, FixtureMode, FixtureWire,
    TARGET_API_VAR, TARGET_NAMESPACE_VAR, TARGET_REGISTRY_VAR, TARGET_TOKEN_VAR, TARGET_USER_VAR,
    fixtures_root,
};
pub use mode::{MODE_VAR, PATH_VAR, Simulation, SimulationMode};
pub use record::{Record, RecordFuture, RecordLayer};
pub use redact::{REDACTED, TOKEN_MARKER};
pub use replay::{Matcher, ReplayFuture, Replayer, Strictness, verify_replay};
