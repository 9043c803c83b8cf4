//! The decision, on the signature cosign itself made (sigstore-rs's test
//! data, see tests/data/cosign/SOURCE.md) and single changes to it.

use std::collections::HashMap;

use ghcr_types::oci::{Descriptor, MediaType};

use super::*;
use crate::PublicKey;

const PUB: &str = include_str!("../../tests/data/cosign/cosign.pub");
const PAYLOAD: &[u8] = include_bytes!("../../tests/data/cosign/payload.json");
const SIGNATURE: &str = include_str!("../../tests/data/cosign/payload.sig");
const IMAGE: &str = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";
/// Another P-256 key (sigstore-rs's "not the signer" key).
const OTHER_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETJP9cqpUQsn2ggmJniWGjHdlsHzD
JsB89BPhZYch0U0hKANx5TY+ncrm0s8bfJxxHoenAEFhwhuXeb4PqIrtoQ==
-----END PUBLIC KEY-----";

fn policy(pems: &[&str]) -> Policy {
    Policy::keys(
        pems.iter()
            .map(|pem| PublicKey::from_pem(pem, "test").unwrap()),
    )
}

fn image() -> Digest {
    Digest::parse(IMAGE).unwrap()
}

fn layer(payload: &[u8], media_type: &str, signature: Option<&str>) -> Descriptor {
    let mut descriptor = Descriptor::new(
        MediaType::Other(media_type.to_owned()),
        payload.len() as u64,
        Digest::sha256_of(payload)
            .as_str()
            .parse::<ghcr_types::oci::Digest>()
            .unwrap(),
    );
    if let Some(signature) = signature {
        descriptor.set_annotations(Some(HashMap::from([(
            SIGNATURE_ANNOTATION.to_owned(),
            signature.to_owned(),
        )])));
    }
    descriptor
}

#[test]
fn cosigns_own_signature_verifies() {
    let verified = verify_payload(PAYLOAD, SIGNATURE, &image(), &policy(&[PUB])).unwrap();
    let key = PublicKey::from_pem(PUB, "cosign.pub").unwrap();
    assert_eq!(
        verified.signer,
        Signer::Key {
            fingerprint: key.fingerprint().to_owned()
        }
    );
    assert_eq!(
        verified.payload.docker_reference,
        "registry-testing.svc.lan/busybox"
    );
    assert_eq!(verified.payload.manifest_digest, IMAGE);
    // Any key of the policy may be the signer.
    assert!(verify_payload(PAYLOAD, SIGNATURE, &image(), &policy(&[OTHER_PUB, PUB])).is_ok());
    let as_layer = layer(PAYLOAD, SIMPLE_SIGNING_MEDIA_TYPE, Some(SIGNATURE));
    assert!(verify_layer(&as_layer, PAYLOAD, &image(), &policy(&[PUB])).is_ok());
}

/// What was changed, the payload, the signature, the image, the policy,
/// and the check that must refuse it.
type Case<'a> = (
    &'a str,
    &'a [u8],
    &'a str,
    &'a Digest,
    Policy,
    fn(&Error) -> bool,
);

/// Each single change refuses, with the check that caught it.
#[test]
fn each_change_refuses() {
    let mut flipped = PAYLOAD.to_vec();
    flipped[40] ^= 0x01;
    let mut bad_der = STANDARD.decode(SIGNATURE).unwrap();
    bad_der[0] = 0x31;
    let bad_der = STANDARD.encode(bad_der);
    let mut other_s = STANDARD.decode(SIGNATURE).unwrap();
    let last = other_s.len() - 1;
    other_s[last] ^= 0x01;
    let other_s = STANDARD.encode(other_s);
    let other_image = Digest::sha256_of(b"another image");
    let huge = vec![b' '; MAX_PAYLOAD_SIZE + 1];
    let image = image();
    let cases: Vec<Case> = vec![
        (
            "a flipped payload byte",
            &flipped,
            SIGNATURE,
            &image,
            policy(&[PUB]),
            |e| matches!(e, Error::SignatureMismatch { keys: 1 }),
        ),
        (
            "another key",
            PAYLOAD,
            SIGNATURE,
            &image,
            policy(&[OTHER_PUB]),
            |e| matches!(e, Error::SignatureMismatch { .. }),
        ),
        (
            "a flipped signature byte",
            PAYLOAD,
            &other_s,
            &image,
            policy(&[PUB]),
            |e| matches!(e, Error::SignatureMismatch { .. }),
        ),
        (
            "moved to another image",
            PAYLOAD,
            SIGNATURE,
            &other_image,
            policy(&[PUB]),
            |e| matches!(e, Error::OtherImage { .. }),
        ),
        (
            "no key at all",
            PAYLOAD,
            SIGNATURE,
            &image,
            Policy::default(),
            |e| matches!(e, Error::NoKeys),
        ),
        (
            "not base64",
            PAYLOAD,
            "MEUC!!",
            &image,
            policy(&[PUB]),
            |e| matches!(e, Error::MalformedSignature { .. }),
        ),
        ("not DER", PAYLOAD, &bad_der, &image, policy(&[PUB]), |e| {
            matches!(e, Error::MalformedSignature { .. })
        }),
        ("empty", PAYLOAD, "", &image, policy(&[PUB]), |e| {
            matches!(e, Error::MalformedSignature { .. })
        }),
        (
            "a huge payload",
            &huge,
            SIGNATURE,
            &image,
            policy(&[PUB]),
            |e| matches!(e, Error::PayloadTooLarge { .. }),
        ),
    ];
    for (what, payload, signature, subject, policy, expected) in cases {
        let error = verify_payload(payload, signature, subject, &policy).unwrap_err();
        assert!(expected(&error), "{what}: {error}");
    }
}

#[test]
fn layers_are_checked_before_their_signature() {
    let policy = policy(&[PUB]);
    let right = layer(PAYLOAD, SIMPLE_SIGNING_MEDIA_TYPE, Some(SIGNATURE));
    let mut changed = PAYLOAD.to_vec();
    changed[40] ^= 0x01;
    let error = verify_layer(&right, &changed, &image(), &policy).unwrap_err();
    assert!(
        matches!(error, Error::LayerDigestMismatch { .. }),
        "{error}"
    );

    let unsigned = layer(PAYLOAD, SIMPLE_SIGNING_MEDIA_TYPE, None);
    let error = verify_layer(&unsigned, PAYLOAD, &image(), &policy).unwrap_err();
    assert!(matches!(error, Error::MissingSignature { .. }), "{error}");
    assert!(error.to_string().contains(SIGNATURE_ANNOTATION), "{error}");

    let tar = layer(
        PAYLOAD,
        "application/vnd.oci.image.layer.v1.tar",
        Some(SIGNATURE),
    );
    let error = verify_layer(&tar, PAYLOAD, &image(), &policy).unwrap_err();
    assert!(matches!(error, Error::NotSimpleSigning { .. }), "{error}");
}
