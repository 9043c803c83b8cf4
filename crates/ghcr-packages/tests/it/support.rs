//! Shared glue: a fake ghcr.io with accounts, and clients pointed at it.

use std::sync::Arc;
use std::time::Duration;

use ghcr_packages::PackagesClient;
use ghcr_sim::fake::{FakeGhcr, FakeGhcrBuilder};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};

/// The user most tests act as, and their PAT (classic, every package scope).
pub(crate) const USER: &str = "octo";
pub(crate) const TOKEN: &str = "token-octo";
/// An organization `octo` administers.
pub(crate) const ORG: &str = "octo-org";

/// A running fake and clients signed in as one account.
pub(crate) struct Env {
    pub(crate) fake: FakeGhcr,
    pub(crate) client: PackagesClient,
}

/// The fake's usual accounts: `octo` with a PAT, and `octo-org` it administers.
pub(crate) fn accounts() -> FakeGhcrBuilder {
    FakeGhcr::builder().user(USER, TOKEN).org(ORG, &[USER])
}

/// A transport for the fake, signed in as `login` with `token`; retries
/// back off briefly so failure tests stay fast.
pub(crate) fn transport(
    fake: &FakeGhcr,
    login: &str,
    token: &str,
) -> ghcr_transport::TransportBuilder {
    let credentials =
        StaticProvider::new(Credentials::basic(login, token)).for_host(fake.registry_host());
    Transport::builder()
        .allow_plain_http(fake.registry_host())
        .credentials(Arc::new(credentials))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(4))
}

/// A packages client for the fake; writes are paced as fast as the test
/// wants (`points` per minute).
pub(crate) fn client_with(fake: &FakeGhcr, transport: Transport, points: u32) -> PackagesClient {
    PackagesClient::builder(transport)
        .api_base(&fake.api_base())
        .registry_host(fake.registry_host())
        .write_points_per_minute(points)
        .build()
        .unwrap_or_else(|error| panic!("client for the fake: {error}"))
}

/// Starts `builder` and signs in as `octo`.
pub(crate) async fn start(builder: FakeGhcrBuilder) -> Env {
    let fake = builder
        .start()
        .await
        .unwrap_or_else(|error| panic!("the fake did not start: {error}"));
    let transport = transport(&fake, USER, TOKEN)
        .build()
        .unwrap_or_else(|error| panic!("transport: {error}"));
    let client = client_with(&fake, transport, 6_000_000);
    Env { fake, client }
}

impl Env {
    /// Pushes `count` small untagged images to `repository`.
    pub(crate) fn push_untagged(&self, repository: &str, count: usize) -> Vec<ghcr_types::Digest> {
        (0..count)
            .map(|n| {
                let layer = bytes::Bytes::from(format!("{repository} leftover {n}"));
                self.fake
                    .store()
                    .push_image(repository, None, &[layer])
                    .unwrap_or_else(|error| panic!("seed: {error}"))
                    .manifest
            })
            .collect()
    }
}
