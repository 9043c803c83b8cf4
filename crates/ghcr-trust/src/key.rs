//! Public keys as `cosign generate-key-pair` writes them: ECDSA P-256 in a
//! PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block.

use std::fmt;

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// An ECDSA P-256 public key that signatures are verified with.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    fingerprint: String,
}

impl PublicKey {
    /// Reads a PEM `-----BEGIN PUBLIC KEY-----` block (cosign.pub);
    /// `what` names its source in errors (a file name).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] for anything but one P-256 SPKI public key:
    /// PEM garbage, another curve or algorithm, a private key.
    pub fn from_pem(pem: &str, what: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidKey {
            what: what.to_owned(),
            reason,
        };
        let key = VerifyingKey::from_public_key_pem(pem.trim())
            .map_err(|error| invalid(error.to_string()))?;
        let der = key
            .to_public_key_der()
            .map_err(|error| invalid(error.to_string()))?;
        let fingerprint = format!("sha256:{}", hex(&Sha256::digest(der.as_bytes())));
        Ok(Self { key, fingerprint })
    }

    /// `sha256:<hex>` of the key's DER SubjectPublicKeyInfo: what
    /// `openssl pkey -pubin -outform DER | sha256sum` prints for cosign.pub.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether `signature` is this key's ECDSA P-256 SHA-256 signature over
    /// exactly `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &Signature) -> bool {
        self.key.verify(message, signature).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.fingerprint).finish()
    }
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key `cosign generate-key-pair` made (sigstore-rs's test data).
    const COSIGN_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----
";

    #[test]
    fn a_cosign_public_key_reads_and_has_a_stable_fingerprint() {
        let key = PublicKey::from_pem(COSIGN_PUB, "cosign.pub").unwrap();
        assert!(key.fingerprint().starts_with("sha256:"));
        assert_eq!(key.fingerprint().len(), 7 + 64);
        let again = PublicKey::from_pem(&format!("\n\n{COSIGN_PUB}\n"), "again").unwrap();
        assert_eq!(key, again);
        assert!(format!("{key:?}").contains(key.fingerprint()));
    }

    #[test]
    fn anything_else_is_refused_with_its_source_named() {
        let truncated = &COSIGN_PUB[..80];
        let private = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
        let body_garbage = "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n";
        // An Ed25519 SPKI: another algorithm.
        let ed25519 = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        for input in ["", "garbage", truncated, private, body_garbage, ed25519] {
            let error = PublicKey::from_pem(input, "k.pub").unwrap_err();
            assert!(
                matches!(error, Error::InvalidKey { .. }),
                "{input}: {error}"
            );
            assert!(error.to_string().starts_with("k.pub is not"), "{error}");
        }
    }
}
