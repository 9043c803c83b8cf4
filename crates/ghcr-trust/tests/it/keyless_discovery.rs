//! Keyless bundles attached as referrers, the way `actions/attest`
//! attaches them, are found and verified by `verify_attestations` on
//! Debian's docker-registry (the `sha256-<hex>` tag fallback) and the fake
//! ghcr.io (its ghcr profile: the fallback too), beside keyed
//! attestations and bundles of other images or signers.

use ghcr_registry::{ReferrersSource, RegistryClient};
use ghcr_sim::peers::{Auth, DockerRegistry};
use ghcr_trust::{Error, IdentityPolicy, Signer, Source, verify_attestations};
use ghcr_types::Reference;
use serde_json::json;

use crate::support::{
    self, KeyPair, SigstoreWorld, attach_att_tag, attach_bundle_referrer, push_image,
};

/// `v1` with a good bundle, one by another identity, and a keyed `.att`
/// attestation; `v2` with `v1`'s bundle attached.
async fn scenario(client: &RegistryClient, repository: &Reference, via: ReferrersSource) {
    let world = SigstoreWorld::generate();
    let policy = world.policy(IdentityPolicy::new().owner("octo"));
    let v1 = push_image(client, repository, "v1", "v1").await;
    let good = world.bundle(v1.digest(), &json!({}));
    let stranger = world.bundle(
        v1.digest(),
        &json!({"owner": "evil", "repo": "evil/app", "identity": "https://github.com/evil/app/.github/workflows/r.yml@refs/heads/main"}),
    );
    attach_bundle_referrer(client, repository, &v1, &good).await;
    attach_bundle_referrer(client, repository, &v1, &stranger).await;
    let keys = KeyPair::generate();
    attach_att_tag(
        client,
        repository,
        v1.digest(),
        &[&keys.attest(v1.digest(), "https://slsa.dev/provenance/v1", None)],
    )
    .await;

    let found = verify_attestations(client, &repository.with_tag("v1").unwrap(), &policy, None)
        .await
        .unwrap();
    assert_eq!(found.checked.len(), 3, "{:?}", found.checked);
    // The keyed one is refused for want of a key; of the bundles only the
    // good one verifies.
    assert!(
        matches!(found.checked[0].outcome, Err(Error::NoKeys)),
        "{:?}",
        found.checked[0]
    );
    let verified: Vec<_> = found.verified().collect();
    assert_eq!(verified.len(), 1, "{:?}", found.checked);
    let (checked, attested) = verified[0];
    assert_eq!(checked.source, Source::Referrer { via });
    let Signer::Keyless(id) = &attested.signer else {
        panic!("{:?}", attested.signer);
    };
    assert_eq!(id.repository(), Some("octo/app"));
    assert!(
        found
            .refused()
            .any(|(_, e)| matches!(e, Error::IdentityMismatch { .. }))
    );

    // v1's bundle attached to v2: valid, but about v1.
    let v2 = push_image(client, repository, "v2", "v2").await;
    attach_bundle_referrer(client, repository, &v2, &good).await;
    let moved = verify_attestations(client, &repository.with_tag("v2").unwrap(), &policy, None)
        .await
        .unwrap();
    assert!(!moved.is_verified());
    let (_, error) = moved.refused().next().unwrap();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_registry_bundle_referrers_through_the_fallback_tag() {
    support::trace::init();
    let registry = DockerRegistry::start(Auth::Token)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let client = support::client(registry.host(), registry.credentials());
    let repository = registry.reference("octo/app").unwrap();
    scenario(&client, &repository, ReferrersSource::FallbackTag).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_ghcr_bundle_referrers_through_the_fallback_tag() {
    let (_fake, client, repository) = support::on_fake(ghcr_sim::fake::Profile::Ghcr).await;
    scenario(&client, &repository, ReferrersSource::FallbackTag).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_generic_registry_bundle_referrers_through_the_api() {
    let (_fake, client, repository) = support::on_fake(ghcr_sim::fake::Profile::Generic).await;
    scenario(&client, &repository, ReferrersSource::Api).await;
}
