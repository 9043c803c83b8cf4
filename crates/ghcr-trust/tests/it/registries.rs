//! Discovery and verification through real registries: Debian's
//! docker-registry (no referrers API: the `sha256-<hex>` tag fallback)
//! and the fake ghcr.io in its ghcr profile.

use ghcr_registry::{ReferrersSource, RegistryClient};
use ghcr_sim::peers::{Auth, DockerRegistry};
use ghcr_trust::{Error, Source, Verification, verify_image};
use ghcr_types::Reference;

use crate::support::{self, KeyPair, attach_referrer, attach_sig_tag, push_image};

/// For each candidate, where it came from and whether it verified (or
/// the reason it did not).
fn summary(found: &Verification) -> Vec<(String, Result<String, String>)> {
    found
        .checked
        .iter()
        .map(|checked| {
            let outcome = match &checked.outcome {
                Ok(verified) => Ok(format!("{:?}", verified.signer)),
                Err(error) => Err(format!("{error:?}")),
            };
            (checked.source.as_str().to_owned(), outcome)
        })
        .collect()
}

/// Two images in `repository`: `v1` signed by the trusted key in the
/// `.sig` tag (beside a signature by another key) and as a referrer; `v2`
/// whose `.sig` manifest is `v1`'s, copied over; `v3` unsigned.
async fn scenario(client: &RegistryClient, repository: &Reference, via: ReferrersSource) {
    let trusted = KeyPair::generate();
    let stranger = KeyPair::generate();
    let policy = trusted.policy();
    let name = repository.to_string();

    let v1 = push_image(client, repository, "v1", "v1").await;
    let by_trusted = trusted.sign(v1.digest(), &name);
    let by_stranger = stranger.sign(v1.digest(), &name);
    attach_sig_tag(
        client,
        repository,
        v1.digest(),
        &[&by_stranger, &by_trusted],
    )
    .await;
    attach_referrer(client, repository, &v1, &[&by_trusted]).await;

    let found = verify_image(client, &repository.with_tag("v1").unwrap(), &policy)
        .await
        .unwrap();
    assert_eq!(found.image, *v1.digest());
    assert!(found.is_verified());
    let summary = summary(&found);
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert_eq!(summary[0].0, "sig_tag");
    assert!(
        summary[0]
            .1
            .as_ref()
            .is_err_and(|e| e.contains("SignatureMismatch")),
        "{summary:?}"
    );
    assert_eq!(summary[1].0, "sig_tag");
    assert!(summary[1].1.is_ok(), "{summary:?}");
    let referrer = &found.checked[2];
    assert_eq!(referrer.source, Source::Referrer { via });
    assert!(referrer.outcome.is_ok(), "{summary:?}");
    let fingerprint = trusted.public_key().fingerprint().to_owned();
    assert!(
        found
            .verified()
            .all(|(_, v)| format!("{:?}", v.signer).contains(&fingerprint))
    );

    // The stranger's key alone verifies only its own layer.
    let stranger_only = verify_image(
        client,
        &repository.with_tag("v1").unwrap(),
        &stranger.policy(),
    )
    .await
    .unwrap();
    assert_eq!(stranger_only.verified().count(), 1);

    // v1's signatures copied to v2's .sig tag: valid signatures, of v1.
    let v2 = push_image(client, repository, "v2", "v2").await;
    attach_sig_tag(client, repository, v2.digest(), &[&by_trusted]).await;
    let moved = verify_image(client, &repository.with_tag("v2").unwrap(), &policy)
        .await
        .unwrap();
    assert!(!moved.is_verified());
    let (_, error) = moved.refused().next().unwrap();
    assert!(matches!(error, Error::OtherImage { .. }), "{error}");

    // No signature at all: nothing to verify, not an error.
    push_image(client, repository, "v3", "v3").await;
    let unsigned = verify_image(client, &repository.with_tag("v3").unwrap(), &policy)
        .await
        .unwrap();
    assert!(unsigned.checked.is_empty());
    assert!(!unsigned.is_verified());

    // An image that does not exist is an error.
    let missing = verify_image(client, &repository.with_tag("v9").unwrap(), &policy).await;
    assert!(
        matches!(missing, Err(Error::Registry(ref e)) if e.is_not_found()),
        "{missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_registry_sig_tag_and_fallback_referrers() {
    support::trace::init();
    let registry = DockerRegistry::start(Auth::Token)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let client = support::client(registry.host(), registry.credentials());
    let repository = registry.reference("octo/app").unwrap();
    scenario(&client, &repository, ReferrersSource::FallbackTag).await;

    // A payload altered in the registry's storage after it was pushed:
    // the download does not verify, and that candidate alone is refused.
    let keys = KeyPair::generate();
    let image = push_image(&client, &repository, "tampered", "tampered").await;
    let good = keys.sign(image.digest(), "octo/app");
    let bad = keys.sign(image.digest(), "octo/app/");
    let sig = attach_sig_tag(&client, &repository, image.digest(), &[&bad, &good]).await;
    let layer = sig.layers()[0].digest().to_string();
    let hex = layer.trim_start_matches("sha256:");
    let data = registry.storage_dir().join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[5] ^= 0x01;
    std::fs::write(&data, bytes).unwrap();
    let found = verify_image(
        &client,
        &repository.with_tag("tampered").unwrap(),
        &keys.policy(),
    )
    .await
    .unwrap();
    assert_eq!(found.verified().count(), 1);
    let (_, error) = found.refused().next().unwrap();
    assert!(
        matches!(error, Error::Registry(e) if e.is_digest_mismatch()),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_generic_registry_sig_tag_and_referrers_api() {
    let (_fake, client, repository) = support::on_fake(ghcr_sim::fake::Profile::Generic).await;
    scenario(&client, &repository, ReferrersSource::Api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_ghcr_sig_tag_and_fallback_referrers() {
    let (_fake, client, repository) = support::on_fake(ghcr_sim::fake::Profile::Ghcr).await;
    scenario(&client, &repository, ReferrersSource::FallbackTag).await;
}

/// Layers that cannot be signatures are refused from their descriptor,
/// before a byte is downloaded: another media type, a payload over the
/// limit.
#[tokio::test(flavor = "multi_thread")]
async fn layers_that_cannot_be_signatures_are_not_downloaded() {
    let fake = ghcr_sim::fake::FakeGhcr::builder()
        .user("octo", "token-o")
        .start()
        .await
        .unwrap();
    let store = fake.store();
    let image = store
        .push_image(
            "octo/app",
            Some("v1"),
            &[bytes::Bytes::from_static(b"layer")],
        )
        .unwrap()
        .manifest;
    let tar = bytes::Bytes::from_static(b"not a payload");
    let huge = bytes::Bytes::from(vec![b' '; ghcr_trust::MAX_PAYLOAD_SIZE + 1]);
    let config = bytes::Bytes::from_static(b"{}");
    let layer = |media_type: &str, bytes: &bytes::Bytes| {
        serde_json::json!({
            "mediaType": media_type,
            "digest": store.push_blob("octo/app", bytes.clone()).unwrap().as_str(),
            "size": bytes.len(),
            "annotations": {ghcr_trust::SIGNATURE_ANNOTATION: "MEUCIQ=="},
        })
    };
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": store.push_blob("octo/app", config).unwrap().as_str(), "size": 2},
        "layers": [
            layer("application/vnd.oci.image.layer.v1.tar", &tar),
            layer(ghcr_trust::SIMPLE_SIGNING_MEDIA_TYPE, &huge),
        ],
    });
    store
        .push_manifest(
            "octo/app",
            &format!("{}.sig", image.referrers_tag()),
            manifest.to_string(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();

    let client = support::client(fake.registry_host(), Some(("octo", "token-o")));
    let repository = Reference::parse(&format!("{}/octo/app:v1", fake.registry_host())).unwrap();
    let found = verify_image(&client, &repository, &KeyPair::generate().policy())
        .await
        .unwrap();
    let reasons: Vec<&Error> = found.refused().map(|(_, e)| e).collect();
    assert!(
        matches!(
            reasons[..],
            [
                Error::NotSimpleSigning { .. },
                Error::PayloadTooLarge { .. }
            ]
        ),
        "{reasons:?}"
    );
    let blob_reads = fake
        .log()
        .count_where(|request| request.path.contains("/blobs/"));
    assert_eq!(blob_reads, 0, "{:?}", fake.log().entries());
}
