//! ECDSA public keys of either curve Sigstore uses (P-256 for leaf
//! certificates and Rekor, P-384 for Fulcio's CA), read from DER
//! SubjectPublicKeyInfo, verifying DER signatures over a message or over
//! its hash.

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::pkcs8::DecodePublicKey as _;
use sha2::{Digest as _, Sha256, Sha384};

/// A hash an ECDSA signature is made over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    /// The hash of `message`.
    pub(crate) fn of(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(message).to_vec(),
            Self::Sha384 => Sha384::digest(message).to_vec(),
        }
    }
}

/// An ECDSA P-256 or P-384 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EcKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl EcKey {
    /// A DER SubjectPublicKeyInfo of either curve; `None` for anything
    /// else (RSA, Ed25519, another curve, garbage).
    pub(crate) fn from_spki_der(der: &[u8]) -> Option<Self> {
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(Self::P256(key));
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(der)
            .ok()
            .map(Self::P384)
    }

    /// The hash Sigstore signs with for this curve: SHA-256 for P-256,
    /// SHA-384 for P-384.
    pub(crate) fn default_hash(&self) -> Hash {
        match self {
            Self::P256(_) => Hash::Sha256,
            Self::P384(_) => Hash::Sha384,
        }
    }

    /// Whether `signature` (ASN.1 DER) verifies over `message` hashed
    /// with `hash`.
    pub(crate) fn verifies(&self, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        self.verifies_prehash(&hash.of(message), signature)
    }

    /// Whether `signature` (ASN.1 DER) verifies over the already computed
    /// hash `prehash`.
    pub(crate) fn verifies_prehash(&self, prehash: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok()),
            Self::P384(key) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok()),
        }
    }
}
