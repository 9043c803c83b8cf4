//! Bad input is an error, never a panic: PEM garbage, payloads and
//! signatures of any bytes, a real signature with bytes cut off, DSSE
//! envelopes of any bytes or with any payload and signature strings;
//! Sigstore bundles of any bytes, cut short, or with any string replaced.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_trust::{Policy, PublicKey, verify_envelope, verify_payload};
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

    #[test]
    fn any_envelope_is_refused(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        payload in ".{0,200}",
        sig in ".{0,120}",
        payload_type in ".{0,40}",
    ) {
        let image = Digest::parse(IMAGE).unwrap();
        prop_assert!(verify_envelope(&bytes, &image, &policy(), None).is_err());
        let encoded = serde_json::json!({
            "payloadType": payload_type,
            "payload": STANDARD.encode(payload.as_bytes()),
            "signatures": [{"keyid": "", "sig": sig}, {"sig": STANDARD.encode(sig.as_bytes())}],
        });
        let encoded = serde_json::to_vec(&encoded).unwrap();
        prop_assert!(verify_envelope(&encoded, &image, &policy(), Some("x")).is_err());
    }
}

const BUNDLE: &[u8] = include_bytes!("../data/sigstore/cosign-sign-v03.sigstore.json");
const BUNDLE_SUBJECT: &str =
    "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";

fn keyless() -> Policy {
    Policy::identities([ghcr_trust::IdentityPolicy::new().owner("kubewarden")])
}

/// Every string in `value`, depth first, replaced in turn by `with`.
fn strings(value: &serde_json::Value, out: &mut Vec<Vec<String>>, path: &mut Vec<String>) {
    match value {
        serde_json::Value::String(_) => out.push(path.clone()),
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                path.push(key.clone());
                strings(child, out, path);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (n, child) in items.iter().enumerate() {
                path.push(n.to_string());
                strings(child, out, path);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    path.iter().fold(value, |value, key| match value {
        serde_json::Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        other => &mut other[key.as_str()],
    })
}

proptest! {
    #[test]
    fn any_bundle_bytes_are_refused(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        // Cut inside the document: a cut that only drops the file's trailing
        // newline leaves the whole bundle, which rightly verifies (see
        // `a_bundle_without_its_trailing_whitespace_still_verifies`).
        cut in 0usize..BUNDLE.trim_ascii_end().len(),
    ) {
        let subject = Digest::parse(BUNDLE_SUBJECT).unwrap();
        prop_assert!(ghcr_trust::verify_bundle(&bytes, &subject, &keyless(), None).is_err());
        prop_assert!(ghcr_trust::verify_message_bundle(&bytes, &subject, &keyless()).is_err());
        // A real bundle cut short.
        prop_assert!(ghcr_trust::verify_bundle(&BUNDLE[..cut], &subject, &keyless(), None).is_err());
    }

    #[test]
    fn any_string_of_a_real_bundle_replaced_is_refused_or_harmless(
        pick in any::<proptest::sample::Index>(),
        text in ".{0,64}",
        base64_of in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let subject = Digest::parse(BUNDLE_SUBJECT).unwrap();
        let original: serde_json::Value = serde_json::from_slice(BUNDLE).unwrap();
        let mut paths = Vec::new();
        strings(&original, &mut paths, &mut Vec::new());
        let path = pick.get(&paths);
        for replacement in [text.clone(), STANDARD.encode(&base64_of)] {
            let mut bundle = original.clone();
            *at(&mut bundle, path) = replacement.clone().into();
            let bytes = serde_json::to_vec(&bundle).unwrap();
            // Never a panic; a changed signed field never verifies.
            let outcome = ghcr_trust::verify_bundle(&bytes, &subject, &keyless(), None);
            // Not signed, or not used while a signed entry timestamp gives the time.
            let unsigned = ["keyid", "timestampVerificationData"].iter().any(|k| path.iter().any(|p| p == k));
            if outcome.is_ok() && !unsigned {
                let before = at(&mut original.clone(), path).clone();
                prop_assert_eq!(before, serde_json::Value::from(replacement), "{:?}", path);
            }
        }
    }
}

#[test]
fn a_bundle_without_its_trailing_whitespace_still_verifies() {
    // Whitespace after the JSON document is not part of anything signed, so
    // dropping it must not change the verdict: the cut-short test above
    // cuts only inside the document.
    let subject = Digest::parse(BUNDLE_SUBJECT).unwrap();
    let trimmed = BUNDLE.trim_ascii_end();
    assert!(
        trimmed.len() < BUNDLE.len(),
        "the fixture ends in a newline"
    );
    assert!(ghcr_trust::verify_bundle(trimmed, &subject, &keyless(), None).is_ok());
    let cut = &trimmed[..trimmed.len() - 1];
    assert!(ghcr_trust::verify_bundle(cut, &subject, &keyless(), None).is_err());
}

#[test]
fn huge_bundles_are_refused_before_parsing() {
    let subject = Digest::parse(BUNDLE_SUBJECT).unwrap();
    let huge = vec![b' '; ghcr_trust::MAX_BUNDLE_SIZE + 1];
    let error = ghcr_trust::verify_bundle(&huge, &subject, &keyless(), None).unwrap_err();
    assert!(
        matches!(error, ghcr_trust::Error::PayloadTooLarge { .. }),
        "{error}"
    );
}

proptest! {
    #[test]
    fn any_rfc3161_timestamp_bytes_are_refused_or_harmless(
        bytes in proptest::collection::vec(any::<u8>(), 0..800),
        cut in 0usize..717,
    ) {
        // A root without transparency logs: the timestamp gives the time.
        let mut root: serde_json::Value =
            serde_json::from_str(ghcr_trust::PUBLIC_GOOD_TRUSTED_ROOT).unwrap();
        root["tlogs"] = serde_json::Value::Array(Vec::new());
        let root = ghcr_trust::TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap();
        let policy = keyless().with_trusted_root(root);
        let subject = Digest::parse(BUNDLE_SUBJECT).unwrap();
        let mut bundle: serde_json::Value = serde_json::from_slice(BUNDLE).unwrap();
        bundle["verificationMaterial"]["tlogEntries"] = serde_json::Value::Array(Vec::new());
        let path = ["verificationMaterial", "timestampVerificationData", "rfc3161Timestamps", "0", "signedTimestamp"].map(str::to_owned);
        let real = STANDARD.decode(at(&mut bundle, &path).as_str().unwrap()).unwrap();
        for replacement in [bytes.clone(), real[..cut.min(real.len())].to_vec()] {
            *at(&mut bundle, &path) = STANDARD.encode(&replacement).into();
            let outcome = ghcr_trust::verify_bundle(&serde_json::to_vec(&bundle).unwrap(), &subject, &policy, None);
            prop_assert!(outcome.is_err() || replacement == real);
        }
    }
}
