//! Shared glue: a fake ghcr.io with accounts, and clients pointed at it.

#[path = "../../../../xtask/test-support/trace.rs"]
pub(crate) mod trace;

use std::sync::Arc;
use std::time::Duration;

use ghcr_packages::PackagesClient;
use ghcr_registry::RegistryClient;
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
    pub(crate) registry: RegistryClient,
}

/// The fake's usual accounts: `octo` with a PAT, and `octo-org` it administers.
pub(crate) fn accounts() -> FakeGhcrBuilder {
    trace::init();
    FakeGhcr::builder().user(USER, TOKEN).org(ORG, &[USER])
}

/// A transport for the fake, signed in as `login` with `token`; retries
/// back off briefly so failure tests stay fast.
pub(crate) fn transport(
    fake: &FakeGhcr,
    login: &str,
    token: &str,
) -> ghcr_transport::TransportBuilder {
    trace::init();
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
    let registry = RegistryClient::new(transport.clone());
    let client = client_with(&fake, transport, 6_000_000);
    Env {
        fake,
        client,
        registry,
    }
}

impl Env {
    /// `{registry}/{repository}`, as the registry client names it.
    pub(crate) fn reference(&self, repository: &str) -> ghcr_types::Reference {
        ghcr_types::Reference::new(self.fake.registry_host(), repository)
            .unwrap_or_else(|error| panic!("{repository}: {error}"))
    }

    /// Pulls `reference` through the registry client: the manifest, every
    /// manifest an index lists (recursively) and every blob, verified.
    pub(crate) async fn pull(
        &self,
        reference: &ghcr_types::Reference,
    ) -> Result<(), ghcr_registry::Error> {
        let mut queue = vec![reference.clone()];
        while let Some(next) = queue.pop() {
            let manifest = self.registry.get_manifest(&next).await?;
            for child in manifest.children() {
                let digest = ghcr_types::Digest::try_from(child.digest())
                    .map_err(ghcr_registry::Error::Data)?;
                queue.push(next.with_digest(digest));
            }
            let blobs = manifest.config().into_iter().chain(manifest.layers());
            for blob in blobs {
                let digest = ghcr_types::Digest::try_from(blob.digest())
                    .map_err(ghcr_registry::Error::Data)?;
                self.registry
                    .get_blob_bytes(&next.without_tag_or_digest(), &digest, 1 << 20)
                    .await?;
            }
        }
        Ok(())
    }

    /// Pushes `octo/app:v1` and `count` untagged leftovers, and plans with
    /// `client` the cleanup of user octo's package `app` that deletes the
    /// leftovers ([`only_untagged`]).
    pub(crate) async fn release_and_leftovers(
        &self,
        client: &PackagesClient,
        count: usize,
    ) -> ghcr_packages::CleanupPlan {
        self.fake
            .store()
            .push_image("octo/app", Some("v1"), &[bytes::Bytes::from_static(b"v1")])
            .unwrap_or_else(|error| panic!("seed: {error}"));
        self.push_untagged("octo/app", count);
        let owner = ghcr_types::Owner::user(USER);
        let plan = client
            .plan_cleanup(&owner, "app", &only_untagged())
            .await
            .unwrap_or_else(|error| panic!("plan: {error}"));
        assert_eq!(plan.to_delete().count(), count);
        plan
    }

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

/// Deletes untagged versions, keeps the rest.
pub(crate) fn only_untagged() -> ghcr_packages::RetentionPolicy {
    ghcr_packages::RetentionPolicy::builder()
        .only_untagged()
        .build()
        .unwrap_or_else(|error| panic!("policy: {error}"))
}

/// Starts fixture `name` (replayed, or recorded with `cargo xtask record`)
/// and a packages client on its wire, pointed at the recorded hosts.
pub(crate) async fn fixture(name: &str) -> (ghcr_sim::Fixture, PackagesClient) {
    let fixture = ghcr_sim::Fixture::builder(name)
        .start()
        .await
        .unwrap_or_else(|error| panic!("fixture {name}: {error}"));
    let credentials = Credentials::basic(fixture.username(), fixture.token());
    let mut builder = Transport::builder()
        .credentials(Arc::new(StaticProvider::new(credentials)))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(4));
    if fixture.plain_http() {
        builder = builder.allow_plain_http(fixture.registry_host());
    }
    let transport = match fixture.wire() {
        ghcr_sim::FixtureWire::Replay(replayer) => builder.wire(replayer),
        ghcr_sim::FixtureWire::Record(recorder) => builder.wire_layer(recorder),
    }
    .build()
    .unwrap_or_else(|error| panic!("fixture transport: {error}"));
    let client = PackagesClient::builder(transport)
        .api_base(fixture.api_base())
        .registry_host(fixture.registry_host())
        .write_points_per_minute(6_000_000)
        .build()
        .unwrap_or_else(|error| panic!("fixture client: {error}"));
    (fixture, client)
}

/// The owner's package names, sorted.
pub(crate) async fn package_names(
    client: &PackagesClient,
    owner: &ghcr_types::Owner,
) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_packages(owner, None)
        .await
        .unwrap_or_else(|error| panic!("list packages of {owner}: {error}"))
        .into_iter()
        .map(|package| package.name)
        .collect();
    names.sort();
    names
}
