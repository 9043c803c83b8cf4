//! A keyed attestation signer, as `cosign attest --key` signs: an ECDSA
//! P-256 key made in-process (ring, already the token issuer's signer), its
//! public key as `cosign generate-key-pair` writes cosign.pub (PEM SPKI),
//! and DSSE envelopes signed over DSSE's pre-authentication encoding.
//!
//! [`attestation_key`] is the key the fake signs seeded attestations with
//! ([`super::Envelope::SignedDsse`], [`super::Envelope::KeyedBundle`]),
//! one per process: tests and the demo pass its [`SigningKey::public_key_pem`]
//! to a verifier. [`SigningKey::generate`] makes others (a stranger's key).

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

use super::envelope::IN_TOTO_PAYLOAD;
use crate::error::{Error, Result};

/// The DER SubjectPublicKeyInfo header of an uncompressed P-256 point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING … }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// An ECDSA P-256 signing key for attestations.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    public_key_pem: String,
    fingerprint: String,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key stays out.
        f.debug_tuple("SigningKey")
            .field(&self.fingerprint)
            .finish()
    }
}

fn key_error(reason: impl fmt::Display) -> Error {
    Error::InvalidSeed {
        what: "the attestation signing key".to_owned(),
        reason: reason.to_string(),
        source: None,
    }
}

impl SigningKey {
    /// Makes a new random key.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSeed`] when the system's random source fails.
    pub fn generate() -> Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(key_error)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(key_error)?;
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let encoded = STANDARD.encode(&spki);
        let mut public_key_pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in encoded.as_bytes().chunks(64) {
            public_key_pem.push_str(&String::from_utf8_lossy(line));
            public_key_pem.push('\n');
        }
        public_key_pem.push_str("-----END PUBLIC KEY-----\n");
        let fingerprint = ghcr_types::Digest::sha256_of(&spki).to_string();
        Ok(Self {
            pair,
            public_key_pem,
            fingerprint,
            rng,
        })
    }

    /// The public key as cosign.pub holds it (PEM `PUBLIC KEY`, SPKI).
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// `sha256:<hex>` of the DER SubjectPublicKeyInfo: what a verifier
    /// names the signer by.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The ASN.1 DER ECDSA P-256 SHA-256 signature over `message`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSeed`] when signing fails (the random source).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.pair
            .sign(&self.rng, message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(key_error)
    }

    /// A DSSE envelope around `statement` (its exact bytes), signed as
    /// `cosign attest --key` signs: over `"DSSEv1" SP len(type) SP type SP
    /// len(body) SP body`, the payload type in-toto's.
    ///
    /// # Errors
    ///
    /// As [`SigningKey::sign`].
    pub fn sign_envelope(&self, statement: &[u8]) -> Result<Value> {
        let signature = self.sign(&pae(statement))?;
        Ok(json!({
            "payloadType": IN_TOTO_PAYLOAD,
            "payload": STANDARD.encode(statement),
            "signatures": [{"keyid": "", "sig": STANDARD.encode(signature)}],
        }))
    }
}

/// DSSE's pre-authentication encoding of an in-toto `statement`: what a
/// DSSE signature is over.
pub(super) fn pae(statement: &[u8]) -> Vec<u8> {
    let mut pae = format!(
        "DSSEv1 {} {IN_TOTO_PAYLOAD} {} ",
        IN_TOTO_PAYLOAD.len(),
        statement.len()
    )
    .into_bytes();
    pae.extend_from_slice(statement);
    pae
}

/// The key the fake signs seeded attestations with, made once per process.
///
/// # Errors
///
/// [`Error::InvalidSeed`] when the key could not be made.
pub fn attestation_key() -> Result<&'static SigningKey> {
    static KEY: OnceLock<std::result::Result<SigningKey, String>> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(key_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_cosign_pub_shaped_and_sign_dsse() {
        let key = attestation_key().unwrap();
        assert!(std::ptr::eq(key, attestation_key().unwrap()));
        let pem = key.public_key_pem();
        assert!(
            pem.starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
        );
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(key.fingerprint().len(), "sha256:".len() + 64);
        let other = SigningKey::generate().unwrap();
        assert_ne!(other.fingerprint(), key.fingerprint());
        assert!(!format!("{key:?}").contains("pair"));

        let envelope = key.sign_envelope(b"{\"_type\":\"x\"}").unwrap();
        assert_eq!(envelope["payloadType"], IN_TOTO_PAYLOAD);
        assert_eq!(envelope["payload"], STANDARD.encode(b"{\"_type\":\"x\"}"));
        let signature = STANDARD
            .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
            .unwrap();
        // A DER SEQUENCE.
        assert_eq!(signature[0], 0x30);
        let message = b"DSSEv1 28 application/vnd.in-toto+json 13 {\"_type\":\"x\"}";
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            key.pair.public_key().as_ref(),
        );
        assert!(public.verify(message, &signature).is_ok());
    }
}
