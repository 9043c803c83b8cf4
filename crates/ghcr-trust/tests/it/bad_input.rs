//! Bad input is an error, never a panic: PEM garbage, payloads and
//! signatures of any bytes, a real signature with bytes cut off.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_trust::{Policy, PublicKey, verify_payload};
use ghcr_types::Digest;
use proptest::prelude::*;

const PUB: &str = include_str!("../data/cosign/cosign.pub");
const PAYLOAD: &[u8] = include_bytes!("../data/cosign/payload.json");
const SIGNATURE: &str = include_str!("../data/cosign/payload.sig");
const IMAGE: &str = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

fn policy() -> Policy {
    Policy::keys([PublicKey::from_pem(PUB, "cosign.pub").unwrap()])
}

proptest! {
    #[test]
    fn pem_garbage_is_an_error(text in ".{0,400}", cut in 0usize..PUB.trim_end().len()) {
        prop_assert!(PublicKey::from_pem(&text, "k.pub").is_err());
        // A real key cut short, or with text inside its base64.
        prop_assert!(PublicKey::from_pem(&PUB[..cut], "k.pub").is_err());
        let spliced = format!("{}{text}{}", &PUB[..40], &PUB[40..]);
        let _ = PublicKey::from_pem(&spliced, "k.pub");
    }

    #[test]
    fn any_payload_and_signature_is_refused(
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
        signature in ".{0,200}",
        der in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let image = Digest::parse(IMAGE).unwrap();
        let policy = policy();
        prop_assert!(verify_payload(&payload, &signature, &image, &policy).is_err());
        let encoded = STANDARD.encode(&der);
        prop_assert!(verify_payload(&payload, &encoded, &image, &policy).is_err());
        prop_assert!(verify_payload(PAYLOAD, &encoded, &image, &policy).is_err());
        prop_assert!(verify_payload(&payload, SIGNATURE, &image, &policy).is_err());
    }

    #[test]
    fn a_cut_signature_or_payload_is_refused(
        sig_cut in 0usize..96,
        payload_cut in 0usize..PAYLOAD.len(),
    ) {
        let image = Digest::parse(IMAGE).unwrap();
        let policy = policy();
        prop_assert!(verify_payload(PAYLOAD, &SIGNATURE[..sig_cut], &image, &policy).is_err());
        prop_assert!(verify_payload(&PAYLOAD[..payload_cut], SIGNATURE, &image, &policy).is_err());
    }
}
