//! Signatures made by PyCA cryptography (OpenSSL), following cosign's
//! format, verify with ours; each single change refuses with the check
//! that caught it.

use ghcr_trust::{Error, Policy, Signer, verify_payload};
use ghcr_types::Digest;

use crate::support::KeyPair;

const REFERENCE: &str = "ghcr.io/octo/app";

#[test]
fn signatures_made_by_another_implementation_verify() {
    let keys = KeyPair::generate();
    let policy = keys.policy();
    // Several images: ECDSA signatures are random, with high and low s.
    for n in 0..6 {
        let image = Digest::sha256_of(format!("image {n}").as_bytes());
        let signed = keys.sign(&image, REFERENCE);
        let verified = verify_payload(&signed.payload, &signed.signature, &image, &policy)
            .unwrap_or_else(|error| panic!("image {n}: {error}"));
        assert_eq!(
            verified.signer,
            Signer::Key {
                fingerprint: signed.fingerprint.clone()
            },
            "our fingerprint is Python's sha256 of the DER SPKI"
        );
        assert_eq!(verified.payload.manifest_digest, image.as_str());
        assert_eq!(verified.payload.docker_reference, REFERENCE);
    }
}

#[test]
fn each_single_change_refuses() {
    let keys = KeyPair::generate();
    let other_keys = KeyPair::generate();
    let policy = keys.policy();
    let image = Digest::sha256_of(b"the image");
    let other_image = Digest::sha256_of(b"another image");
    let signed = keys.sign(&image, REFERENCE);
    assert!(verify_payload(&signed.payload, &signed.signature, &image, &policy).is_ok());

    // A flipped payload byte, wherever it is.
    for at in [0, 10, signed.payload.len() / 2, signed.payload.len() - 1] {
        let mut flipped = signed.payload.clone();
        flipped[at] ^= 0x20;
        let error = verify_payload(&flipped, &signed.signature, &image, &policy).unwrap_err();
        assert!(
            matches!(error, Error::SignatureMismatch { .. }),
            "byte {at}: {error}"
        );
    }

    // A payload (validly signed) for another digest.
    let for_other = keys.sign(&other_image, REFERENCE);
    let error =
        verify_payload(&for_other.payload, &for_other.signature, &image, &policy).unwrap_err();
    assert!(matches!(error, Error::OtherImage { .. }), "{error}");
    assert!(error.to_string().contains(other_image.as_str()), "{error}");

    // Another key: the same payload signed by it, and our signature
    // checked with it.
    let by_other = other_keys.sign(&image, REFERENCE);
    let error =
        verify_payload(&by_other.payload, &by_other.signature, &image, &policy).unwrap_err();
    assert!(
        matches!(error, Error::SignatureMismatch { keys: 1, .. }),
        "{error}"
    );
    let error = verify_payload(
        &signed.payload,
        &signed.signature,
        &image,
        &other_keys.policy(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::SignatureMismatch { .. }), "{error}");
    // With both keys in the policy, both signatures count.
    let both = Policy::keys([keys.public_key(), other_keys.public_key()]);
    assert!(verify_payload(&by_other.payload, &by_other.signature, &image, &both).is_ok());

    // The signature moved to another image.
    let error =
        verify_payload(&signed.payload, &signed.signature, &other_image, &policy).unwrap_err();
    assert!(matches!(error, Error::OtherImage { .. }), "{error}");

    // One signature's bytes over the other's payload.
    let error =
        verify_payload(&for_other.payload, &signed.signature, &other_image, &policy).unwrap_err();
    assert!(matches!(error, Error::SignatureMismatch { .. }), "{error}");
}
