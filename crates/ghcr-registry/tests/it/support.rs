//! Shared glue: a real docker-registry per test (ghcr-sim's peers, with or
//! without token auth), clients pointed at it, test data, and small
//! in-test servers that misbehave on purpose.

pub(crate) mod complete;
pub(crate) mod faulty;
pub(crate) mod listing;
pub(crate) mod origins;
pub(crate) mod proxy;
#[path = "../../../../xtask/test-support/trace.rs"]
pub(crate) mod trace;
pub(crate) mod upload_server;

pub(crate) use ghcr_sim::peers::{Auth, DockerRegistry as Registry};

use bytes::Bytes;
use ghcr_registry::{RegistryClient, RegistryClientBuilder};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};

/// Runs each `async fn(Auth)` scenario named as two tests, against a
/// docker-registry without auth and one with token auth:
/// `<module>::<scenario>::without_auth` and `…::with_token_auth`.
macro_rules! in_both_modes {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn without_auth() {
                super::$scenario(crate::support::Auth::None).await;
            }

            #[tokio::test]
            async fn with_token_auth() {
                super::$scenario(crate::support::Auth::Token).await;
            }
        }
    )+};
}
pub(crate) use in_both_modes;

/// The mode a scenario's second registry runs in: the other one.
pub(crate) fn other_mode(auth: Auth) -> Auth {
    match auth {
        Auth::None => Auth::Token,
        _ => Auth::None,
    }
}

/// A docker-registry for one test; a missing binary fails the test with
/// the install command.
pub(crate) async fn registry(auth: Auth) -> Registry {
    trace::init();
    Registry::start(auth)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// `skopeo ARGS`' stdout; a failure (or a missing skopeo, with the install
/// command) fails the test.
pub(crate) async fn skopeo(args: &[&str]) -> Vec<u8> {
    ghcr_sim::peers::skopeo(args)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Deterministic, incompressible-looking bytes.
pub(crate) fn data(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

/// Pushes `blob` from memory and returns its digest.
pub(crate) async fn push_bytes(
    client: &RegistryClient,
    repository: &ghcr_types::Reference,
    blob: &Bytes,
) -> ghcr_types::Digest {
    let source = ghcr_registry::BlobSource::bytes(blob.clone());
    let options = ghcr_registry::UploadOptions::new();
    let pushed = client
        .push_blob(repository, source, &options)
        .await
        .unwrap();
    assert_eq!(pushed.size, blob.len() as u64);
    pushed.digest
}

/// Gets the client its push token for `repository` (in token mode the
/// first request is answered 401), so that the requests counted after it
/// are the operation's own.
pub(crate) async fn warm_up(client: &RegistryClient, repository: &ghcr_types::Reference) {
    push_bytes(client, repository, &Bytes::from_static(b"warm-up")).await;
}

/// A transport allowed plain HTTP to `hosts`, with Basic credentials for
/// the token issuer when given.
pub(crate) fn transport(hosts: &[&str], credentials: Option<(&str, &str)>) -> Transport {
    trace::init();
    let mut builder = Transport::builder().max_retries(1).retry_backoff(
        std::time::Duration::from_millis(10),
        std::time::Duration::from_millis(50),
    );
    for host in hosts {
        builder = builder.allow_plain_http(*host);
    }
    if let Some((user, password)) = credentials {
        builder = builder.credentials(std::sync::Arc::new(StaticProvider::new(
            Credentials::basic(user, password),
        )));
    }
    builder.build().unwrap()
}

/// A client builder for one or more registries.
pub(crate) fn client_for(registries: &[&Registry]) -> RegistryClientBuilder {
    let hosts: Vec<&str> = registries.iter().map(|r| r.host()).collect();
    let credentials = registries.iter().find_map(|r| r.credentials());
    RegistryClient::builder(transport(&hosts, credentials))
}

/// A client for a fake ghcr.io, signed in as `user` with `token`.
pub(crate) fn fake_client(
    fake: &ghcr_sim::fake::FakeGhcr,
    user: &str,
    token: &str,
) -> RegistryClientBuilder {
    RegistryClient::builder(transport(&[fake.registry_host()], Some((user, token))))
}

/// A transport on a fixture's wire (replaying, or recording against the fake).
pub(crate) fn fixture_transport(fixture: &ghcr_sim::Fixture) -> Transport {
    trace::init();
    let credentials = Credentials::basic(fixture.username(), fixture.token());
    let mut builder =
        Transport::builder().credentials(std::sync::Arc::new(StaticProvider::new(credentials)));
    if fixture.plain_http() {
        builder = builder.allow_plain_http(fixture.registry_host());
    }
    match fixture.wire() {
        ghcr_sim::FixtureWire::Replay(replayer) => builder.wire(replayer),
        ghcr_sim::FixtureWire::Record(recorder) => builder.wire_layer(recorder),
    }
    .build()
    .unwrap()
}
