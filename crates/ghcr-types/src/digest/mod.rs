//! Content digests: `algorithm:encoded`, validated once and hashed while streaming.

mod hasher;

pub use hasher::{DigestHasher, DigestVerifier};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A digest algorithm this crate can compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256, the algorithm every registry supports.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in digests, such as `sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the hex-encoded value.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated content digest such as `sha256:6c3c62…`.
///
/// Values of the registered algorithms (`sha256`, `sha384`, `sha512`) must
/// be lowercase hex of the right length. Other algorithms that follow the
/// OCI grammar are accepted, so that a manifest naming them can still be
/// read. Only sha256 and sha512 can be verified: [`Digest::algorithm`]
/// returns `None` for the rest.
///
/// ```
/// use ghcr_types::Digest;
///
/// let digest = Digest::sha256_of(b"{}");
/// assert_eq!(
///     digest.to_string(),
///     "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
/// );
/// assert_eq!(digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".parse()?);
/// assert!("sha256:ABC".parse::<Digest>().is_err());
/// # Ok::<(), ghcr_types::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    value: Box<str>,
    split: usize,
}

impl Digest {
    /// Parses and validates a digest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDigest`] when the text does not follow
    /// `algorithm ":" encoded`, or a known algorithm has a value of the wrong
    /// length or case.
    pub fn parse(input: &str) -> Result<Self> {
        let Some((algorithm, encoded)) = input.split_once(':') else {
            return Err(Error::digest(
                input,
                "expected `algorithm:encoded`, such as sha256:<64 hex>",
            ));
        };
        validate_algorithm(input, algorithm)?;
        if encoded.is_empty() {
            return Err(Error::digest(input, "the encoded value is empty"));
        }
        match registered_hex_len(algorithm) {
            Some(hex_len) => {
                if encoded.len() != hex_len {
                    return Err(Error::digest(
                        input,
                        format!(
                            "{algorithm} values are {hex_len} hex characters, this one has {}",
                            encoded.len()
                        ),
                    ));
                }
                if !encoded
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(Error::digest(
                        input,
                        format!("{algorithm} values are lowercase hex"),
                    ));
                }
            }
            None => {
                if !encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
                {
                    return Err(Error::digest(
                        input,
                        "the encoded value may only hold [a-zA-Z0-9=_-]",
                    ));
                }
            }
        }
        Ok(Self {
            value: input.into(),
            split: algorithm.len(),
        })
    }

    /// Builds a digest from an algorithm and its raw hash output.
    pub(crate) fn from_raw(algorithm: Algorithm, raw: &[u8]) -> Self {
        let mut value = String::with_capacity(algorithm.as_str().len() + 1 + raw.len() * 2);
        value.push_str(algorithm.as_str());
        value.push(':');
        for byte in raw {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            value.push(char::from(HEX[usize::from(byte >> 4)]));
            value.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        Self {
            value: value.into_boxed_str(),
            split: algorithm.as_str().len(),
        }
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        let mut hasher = DigestHasher::new(Algorithm::Sha256);
        hasher.update(bytes);
        hasher.finish()
    }

    /// The whole digest as text.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The algorithm name, as written (`sha256`, or an unsupported one).
    pub fn algorithm_name(&self) -> &str {
        &self.value[..self.split]
    }

    /// The algorithm when this crate can compute it, `None` otherwise.
    pub fn algorithm(&self) -> Option<Algorithm> {
        Algorithm::from_name(self.algorithm_name())
    }

    /// The encoded value after the colon (hex for sha256 and sha512).
    pub fn encoded(&self) -> &str {
        &self.value[self.split + 1..]
    }

    /// The tag the OCI referrers tag schema uses for this digest: `sha256-<hex>`.
    ///
    /// Registries without the referrers API (ghcr.io among them) keep the
    /// index of artifacts that refer to this digest under that tag.
    pub fn referrers_tag(&self) -> String {
        format!("{}-{}", self.algorithm_name(), self.encoded())
    }

    /// Checks `bytes` against this digest.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedAlgorithm`] when the algorithm cannot be computed,
    /// [`Error::DigestMismatch`] when the bytes hash to another digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<()> {
        let mut verifier = DigestVerifier::new(self)?;
        verifier.update(bytes);
        verifier.finish().map(drop)
    }
}

/// The hex length of the algorithms the OCI image spec registers: the ones
/// this crate computes, and sha384, which it parses (oci-spec validates it
/// too) but cannot verify.
fn registered_hex_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha384" => Some(96),
        other => Algorithm::from_name(other).map(Algorithm::hex_len),
    }
}

fn validate_algorithm(input: &str, algorithm: &str) -> Result<()> {
    // algorithm ::= component (separator component)*, component ::= [a-z0-9]+, separator ::= [+._-]
    if algorithm.is_empty() {
        return Err(Error::digest(input, "the algorithm is empty"));
    }
    let mut previous_was_separator = true;
    for byte in algorithm.bytes() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' => previous_was_separator = false,
            b'+' | b'.' | b'_' | b'-' if !previous_was_separator => previous_was_separator = true,
            _ => {
                return Err(Error::digest(
                    input,
                    "the algorithm must be lowercase components joined by one of + . _ -",
                ));
            }
        }
    }
    if previous_was_separator {
        return Err(Error::digest(input, "the algorithm ends with a separator"));
    }
    Ok(())
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.value)
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.value)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = Error;

    fn try_from(value: &oci_spec::image::Digest) -> Result<Self> {
        Self::parse(value.as_ref())
    }
}

impl From<&Digest> for oci_spec::image::Digest {
    fn from(value: &Digest) -> Self {
        // Every digest we validated also satisfies oci-spec's (looser) grammar.
        value
            .as_str()
            .parse()
            .unwrap_or_else(|_| unreachable!("a validated digest is a valid oci-spec digest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn check(input: &str, ok: bool) {
        let parsed = Digest::parse(input);
        assert_eq!(parsed.is_ok(), ok, "{input}: {parsed:?}");
        if let Ok(digest) = parsed {
            assert_eq!(digest.to_string(), input);
        }
    }

    #[test]
    fn grammar() {
        check(EMPTY_SHA256, true);
        check(&format!("sha512:{}", "a".repeat(128)), true);
        check(
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
            true,
        );
        check("blake3:abc=_-", true);
        check("sha256:", false);
        check(":abc", false);
        check("sha256", false);
        check(&EMPTY_SHA256.to_uppercase(), false);
        check(&format!("sha256:{}", "A".repeat(64)), false);
        check(&format!("sha256:{}", "a".repeat(63)), false);
        check(&format!("sha256:{}", "a".repeat(65)), false);
        check(&format!("sha512:{}", "a".repeat(64)), false);
        check("sha+:abc", false);
        check("+sha:abc", false);
        check("sha++256:abc", false);
        check("other:a/b", false);
    }

    #[test]
    fn parts_and_referrers_tag() {
        let digest = Digest::parse(EMPTY_SHA256).unwrap();
        assert_eq!(digest.algorithm(), Some(Algorithm::Sha256));
        assert_eq!(digest.algorithm_name(), "sha256");
        assert_eq!(digest.encoded().len(), 64);
        assert_eq!(
            digest.referrers_tag(),
            format!("sha256-{}", digest.encoded())
        );
        let other = Digest::parse("blake3:abcd").unwrap();
        assert_eq!(other.algorithm(), None);
    }

    #[test]
    fn computes_known_values() {
        assert_eq!(Digest::sha256_of(b"").as_str(), EMPTY_SHA256);
        let mut hasher = DigestHasher::new(Algorithm::Sha512);
        hasher.update(b"abc");
        assert_eq!(
            hasher.finish().encoded(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn verify_reports_mismatch_and_unsupported() {
        let digest = Digest::parse(EMPTY_SHA256).unwrap();
        digest.verify(b"").unwrap();
        match digest.verify(b"x") {
            Err(Error::DigestMismatch { expected, actual }) => {
                assert_eq!(expected, digest);
                assert_eq!(actual, Digest::sha256_of(b"x"));
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
        assert!(matches!(
            Digest::parse("blake3:abcd").unwrap().verify(b""),
            Err(Error::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn serde_validates() {
        let digest: Digest = serde_json::from_str(&format!("\"{EMPTY_SHA256}\"")).unwrap();
        assert_eq!(
            serde_json::to_string(&digest).unwrap(),
            format!("\"{EMPTY_SHA256}\"")
        );
        assert!(serde_json::from_str::<Digest>("\"sha256:nothex\"").is_err());
    }

    #[test]
    fn converts_to_and_from_oci_spec() {
        let digest = Digest::parse(EMPTY_SHA256).unwrap();
        let oci: oci_spec::image::Digest = (&digest).into();
        assert_eq!(Digest::try_from(&oci).unwrap(), digest);
    }

    #[test]
    fn every_accepted_digest_converts_to_oci_spec() {
        // oci-spec checks sha384 (a registered algorithm) strictly; a digest we
        // accept must never make the infallible conversion panic.
        let sha384 = format!("sha384:{}", "b".repeat(96));
        for input in [sha384.as_str(), "blake3:abcd", "multihash+base58:QmRZ"] {
            let digest = Digest::parse(input).unwrap();
            let oci: oci_spec::image::Digest = (&digest).into();
            assert_eq!(oci.to_string(), input);
        }
        for bad in [
            "sha384:abc".to_owned(),
            format!("sha384:{}", "B".repeat(96)),
        ] {
            assert!(Digest::parse(&bad).is_err(), "{bad}");
        }
        assert_eq!(Digest::parse(&sha384).unwrap().algorithm(), None);
    }
}
