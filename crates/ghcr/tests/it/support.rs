//! Shared glue: a fake ghcr.io with a user and an organization, and
//! clients signed in to it.

#[path = "../../../../xtask/test-support/trace.rs"]
pub(crate) mod trace;

use ghcr::{GhcrClient, GhcrConfig, GhcrConfigBuilder};
use ghcr_sim::fake::FakeGhcr;

pub(crate) const USER: &str = "octo";
pub(crate) const TOKEN: &str = "token-octo-secret";
pub(crate) const ORG: &str = "octo-org";

/// A fake ghcr.io: user `octo`, organization `octo-org` it administers.
pub(crate) async fn fake() -> FakeGhcr {
    trace::init();
    FakeGhcr::builder()
        .user(USER, TOKEN)
        .org(ORG, &[USER])
        .start()
        .await
        .unwrap()
}

/// A config builder for `fake`, without credentials.
pub(crate) fn config_for(fake: &FakeGhcr) -> GhcrConfigBuilder {
    trace::init();
    GhcrConfig::builder()
        .registry(fake.registry_host())
        .api_base(&fake.api_base())
        .allow_plain_http(fake.registry_host())
}

/// A client signed in to `fake` as `octo`.
pub(crate) fn client(fake: &FakeGhcr) -> GhcrClient {
    GhcrClient::new(config_for(fake).credentials(USER, TOKEN).build().unwrap()).unwrap()
}

/// `{registry}/{path}` parsed.
pub(crate) fn reference(fake: &FakeGhcr, path: &str) -> ghcr::types::Reference {
    format!("{}/{path}", fake.registry_host()).parse().unwrap()
}
