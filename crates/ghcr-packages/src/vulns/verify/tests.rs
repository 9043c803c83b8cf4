//! The decision as a table: each way an attestation can fail to verify
//! is refused with its reason; a signed one names its signer.

use ghcr_sim::attest::SigningKey;
use ghcr_trust::{Policy, PublicKey};
use serde_json::{Value, json};

use super::*;

fn policy(key: &SigningKey) -> Policy {
    Policy::keys([PublicKey::from_pem(key.public_key_pem(), "test.pub").unwrap()])
}

fn statement(subject: &Digest) -> Vec<u8> {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "ghcr.io/o/app", "digest": {"sha256": subject.encoded()}}],
        "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
        "predicate": {"scanner": {"result": {"SchemaVersion": 2, "Results": []}}},
    })
    .to_string()
    .into_bytes()
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn bundle(envelope: &Value, material: &Value) -> Value {
    json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material, "dsseEnvelope": envelope})
}

#[test]
fn only_a_trusted_signature_over_this_subject_verifies() {
    let key = SigningKey::generate().unwrap();
    let stranger = SigningKey::generate().unwrap();
    let policy = policy(&key);
    let image = Digest::sha256_of(b"image");
    let other = Digest::sha256_of(b"other image");
    let signed = key.sign_envelope(&statement(&image)).unwrap();

    let ok = verify_found(Wrapping::Envelope, &bytes(&signed), &image, &policy).unwrap();
    assert_eq!(
        ok.signer,
        ReportSigner::Key {
            fingerprint: key.fingerprint().to_owned()
        }
    );
    assert_eq!(ok.statement.subjects, [image.to_string()]);
    assert!(ok.statement.predicate["scanner"].is_object());

    let keyed = bundle(&signed, &json!({"publicKey": {"hint": key.fingerprint()}}));
    let ok = verify_found(Wrapping::Bundle, &bytes(&keyed), &image, &policy).unwrap();
    assert_eq!(ok.signer.to_string(), format!("key {}", key.fingerprint()));

    let mut tampered = signed.clone();
    let mut changed = statement(&image);
    let at = changed.len() - 5;
    changed[at] ^= 0x01;
    tampered["payload"] = json!(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        &changed
    ));
    let mut unsigned = signed.clone();
    unsigned["signatures"] = json!([]);
    let mut placeholder = signed.clone();
    placeholder["signatures"] = json!([{"keyid": "", "sig": "cGxhY2Vob2xkZXI="}]);
    let cases: [(Wrapping, Value, &str); 9] = [
        (
            Wrapping::Envelope,
            stranger.sign_envelope(&statement(&image)).unwrap(),
            "does not verify with the policy's key",
        ),
        (Wrapping::Envelope, tampered, "does not verify"),
        (Wrapping::Envelope, unsigned, "no signatures"),
        (
            Wrapping::Envelope,
            placeholder,
            "not base64 of an ASN.1 DER ECDSA signature (DER: signature error): it is unsigned or forged",
        ),
        (
            Wrapping::Envelope,
            key.sign_envelope(&statement(&other)).unwrap(),
            "about another image",
        ),
        (
            Wrapping::Statement,
            serde_json::from_slice(&statement(&image)).unwrap(),
            "bare in-toto statement",
        ),
        (
            Wrapping::Bundle,
            bundle(&signed, &json!({"certificate": {"rawBytes": "AAAA"}})),
            "names no keyless identity",
        ),
        (
            Wrapping::Bundle,
            bundle(&signed, &json!({"tlogEntries": []})),
            "no verification material",
        ),
        (
            Wrapping::Bundle,
            bundle(
                &stranger.sign_envelope(&statement(&image)).unwrap(),
                &json!({"publicKey": {"hint": key.fingerprint()}}),
            ),
            "does not verify",
        ),
    ];
    for (wrapping, value, reason) in cases {
        let refusal = verify_found(wrapping, &bytes(&value), &image, &policy).unwrap_err();
        assert!(
            refusal.to_string().contains(reason),
            "{wrapping:?} {value}: {refusal}"
        );
    }
    let refusal = verify_found(Wrapping::Bundle, b"{", &image, &policy).unwrap_err();
    assert!(matches!(refusal, Refusal::Unreadable(_)), "{refusal}");
}
