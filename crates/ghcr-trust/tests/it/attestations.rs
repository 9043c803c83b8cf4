//! Keyed attestations (DSSE envelopes of in-toto statements) made by PyCA
//! cryptography, following `cosign attest --key`, verify with ours; each
//! single change refuses with the check that caught it; discovery
//! through the `.att` tag and attestation referrers on docker-registry
//! and the fake ghcr.io.

use ghcr_registry::{ReferrersSource, RegistryClient};
use ghcr_sim::peers::{Auth, DockerRegistry};
use ghcr_trust::{
    DSSE_MEDIA_TYPE, Error, SIMPLE_SIGNING_MEDIA_TYPE, Signer, Source, verify_attestation_layer,
    verify_attestations, verify_envelope, verify_image,
};
use ghcr_types::oci::{Descriptor, MediaType};
use ghcr_types::{Digest, Reference};

use crate::support::{self, KeyPair, attach_att_referrer, attach_att_tag, push_image};

const SLSA: &str = "https://slsa.dev/provenance/v0.2";
const SPDX: &str = "https://spdx.dev/Document";

#[test]
fn attestations_made_by_another_implementation_verify() {
    let keys = KeyPair::generate();
    let policy = keys.policy();
    for n in 0..4 {
        let image = Digest::sha256_of(format!("image {n}").as_bytes());
        let made = keys.attest(&image, SLSA, None);
        let attested = verify_envelope(&made.bytes(), &image, &policy, None)
            .unwrap_or_else(|error| panic!("image {n}: {error}"));
        assert_eq!(
            attested.signer,
            Signer::Key {
                fingerprint: made.fingerprint.clone()
            }
        );
        assert_eq!(attested.statement.predicate_type, SLSA);
        assert_eq!(
            attested.statement.predicate["builder"]["id"],
            "cosign_sign.py"
        );
        assert!(attested.statement.names(image.as_str()));
        // The predicate type asked for.
        assert!(verify_envelope(&made.bytes(), &image, &policy, Some(SLSA)).is_ok());
    }
}

#[test]
fn each_single_change_refuses_an_attestation() {
    let keys = KeyPair::generate();
    let other_keys = KeyPair::generate();
    let policy = keys.policy();
    let image = Digest::sha256_of(b"the image");
    let other_image = Digest::sha256_of(b"another image");
    let made = keys.attest(&image, SLSA, None);
    assert!(verify_envelope(&made.bytes(), &image, &policy, None).is_ok());

    // A flipped byte of the (decoded) statement, wherever it is.
    let statement = made.statement();
    for at in [0, 10, statement.len() / 2, statement.len() - 1] {
        let mut flipped = statement.clone();
        flipped[at] ^= 0x20;
        let error =
            verify_envelope(&made.with_statement(&flipped), &image, &policy, None).unwrap_err();
        assert!(
            matches!(error, Error::SignatureMismatch { .. }),
            "byte {at}: {error}"
        );
    }

    // A statement (validly signed) about another image.
    let for_other = keys.attest(&other_image, SLSA, None);
    let error = verify_envelope(&for_other.bytes(), &image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");
    assert!(error.to_string().contains(other_image.as_str()), "{error}");

    // Another key: its envelope, and ours checked with its key.
    let by_other = other_keys.attest(&image, SLSA, None);
    let error = verify_envelope(&by_other.bytes(), &image, &policy, None).unwrap_err();
    assert!(
        matches!(error, Error::SignatureMismatch { keys: 1, .. }),
        "{error}"
    );
    let error = verify_envelope(&made.bytes(), &image, &other_keys.policy(), None).unwrap_err();
    assert!(matches!(error, Error::SignatureMismatch { .. }), "{error}");

    // The envelope moved to another image.
    let error = verify_envelope(&made.bytes(), &other_image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");

    // Validly signed, of another payload type; and the payload type
    // changed after signing (the PAE covers it).
    let wrong_type = keys.attest(&image, SLSA, Some("application/json"));
    let error = verify_envelope(&wrong_type.bytes(), &image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::WrongEnvelopeType { .. }), "{error}");
    let mut retyped = made.envelope.clone();
    retyped["payloadType"] = "application/vnd.in-toto+jsoN".into();
    let retyped = serde_json::to_vec(&retyped).unwrap();
    let error = verify_envelope(&retyped, &image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::SignatureMismatch { .. }), "{error}");

    // Another predicate type than asked for.
    let error = verify_envelope(&made.bytes(), &image, &policy, Some(SPDX)).unwrap_err();
    assert!(matches!(error, Error::OtherPredicateType { .. }), "{error}");
    assert!(error.to_string().contains(SLSA), "{error}");

    // The signature of one envelope over another's statement.
    let mut spliced = made.envelope.clone();
    spliced["payload"] = for_other.envelope["payload"].clone();
    let spliced = serde_json::to_vec(&spliced).unwrap();
    let error = verify_envelope(&spliced, &image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::SignatureMismatch { .. }), "{error}");
}

/// `v1` attested by the trusted key (SLSA, beside a stranger's) in its
/// `.att` tag and as a referrer (SPDX); `v2` whose `.att` manifest holds
/// `v1`'s envelope; signatures and attestations are not mixed up.
async fn scenario(client: &RegistryClient, repository: &Reference, via: ReferrersSource) {
    let trusted = KeyPair::generate();
    let stranger = KeyPair::generate();
    let policy = trusted.policy();
    let v1 = push_image(client, repository, "v1", "v1").await;
    let slsa = trusted.attest(v1.digest(), SLSA, None);
    let strangers = stranger.attest(v1.digest(), SLSA, None);
    let spdx = trusted.attest(v1.digest(), SPDX, None);
    attach_att_tag(client, repository, v1.digest(), &[&strangers, &slsa]).await;
    attach_att_referrer(client, repository, &v1, &[&spdx]).await;
    let v1_ref = repository.with_tag("v1").unwrap();

    let found = verify_attestations(client, &v1_ref, &policy, None)
        .await
        .unwrap();
    assert_eq!(found.image, *v1.digest());
    let sources: Vec<&str> = found.checked.iter().map(|c| c.source.as_str()).collect();
    assert_eq!(sources[..2], ["att_tag", "att_tag"], "{sources:?}");
    assert_eq!(found.checked[2].source, Source::Referrer { via });
    assert!(matches!(
        found.checked[0].outcome,
        Err(Error::SignatureMismatch { .. })
    ));
    let types: Vec<&str> = found
        .verified()
        .map(|(_, a)| a.statement.predicate_type.as_str())
        .collect();
    assert_eq!(types, [SLSA, SPDX]);

    // Only SPDX asked for: the SLSA one is refused for its type.
    let spdx_only = verify_attestations(client, &v1_ref, &policy, Some(SPDX))
        .await
        .unwrap();
    assert_eq!(spdx_only.verified().count(), 1);
    assert!(
        spdx_only
            .refused()
            .any(|(_, e)| matches!(e, Error::OtherPredicateType { .. }))
    );

    // Attestations are not signatures.
    let signatures = verify_image(client, &v1_ref, &policy).await.unwrap();
    assert!(signatures.checked.is_empty(), "{:?}", signatures.checked);

    // v1's envelope copied to v2's .att tag: valid, but about v1.
    let v2 = push_image(client, repository, "v2", "v2").await;
    attach_att_tag(client, repository, v2.digest(), &[&slsa]).await;
    let moved = verify_attestations(client, &repository.with_tag("v2").unwrap(), &policy, None)
        .await
        .unwrap();
    assert!(!moved.is_verified());
    let (_, error) = moved.refused().next().unwrap();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_registry_att_tag_and_fallback_referrers() {
    support::trace::init();
    let registry = DockerRegistry::start(Auth::Token)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let client = support::client(registry.host(), registry.credentials());
    let repository = registry.reference("octo/app").unwrap();
    scenario(&client, &repository, ReferrersSource::FallbackTag).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_generic_registry_att_tag_and_referrers_api() {
    let (_fake, client, repository) = support::on_fake(ghcr_sim::fake::Profile::Generic).await;
    scenario(&client, &repository, ReferrersSource::Api).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_ghcr_att_tag_and_fallback_referrers() {
    let (_fake, client, repository) = support::on_fake(ghcr_sim::fake::Profile::Ghcr).await;
    scenario(&client, &repository, ReferrersSource::FallbackTag).await;
}

/// A layer descriptor of `media_type` for `bytes`.
fn descriptor(media_type: &str, bytes: &[u8]) -> Descriptor {
    let digest: ghcr_types::oci::Digest = Digest::sha256_of(bytes).as_str().parse().unwrap();
    Descriptor::new(
        MediaType::Other(media_type.to_owned()),
        bytes.len() as u64,
        digest,
    )
}

#[test]
fn an_attestation_layer_is_checked_before_its_envelope() {
    let keys = KeyPair::generate();
    let policy = keys.policy();
    let image = Digest::sha256_of(b"the image");
    let bytes = keys.attest(&image, SLSA, None).bytes();
    let layer = descriptor(DSSE_MEDIA_TYPE, &bytes);
    assert!(verify_attestation_layer(&layer, &bytes, &image, &policy, None).is_ok());

    // A simple-signing layer is no envelope, even with the right bytes.
    let other = descriptor(SIMPLE_SIGNING_MEDIA_TYPE, &bytes);
    let error = verify_attestation_layer(&other, &bytes, &image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::NotDsse { .. }), "{error}");
    // Bytes other than the layer's digest names.
    let mut altered = bytes.clone();
    altered.push(b' ');
    let error = verify_attestation_layer(&layer, &altered, &image, &policy, None).unwrap_err();
    assert!(
        matches!(error, Error::LayerDigestMismatch { .. }),
        "{error}"
    );
}
