//! Hashing while bytes flow: callers feed chunks as they transfer them.

use sha2::Digest as _;

use super::{Algorithm, Digest};
use crate::error::{Error, Result};

/// Computes a digest incrementally.
///
/// ```
/// use ghcr_types::{Algorithm, Digest, DigestHasher};
///
/// let mut hasher = DigestHasher::new(Algorithm::Sha256);
/// hasher.update(b"hello ");
/// hasher.update(b"world");
/// assert_eq!(hasher.bytes(), 11);
/// assert_eq!(hasher.finish(), Digest::sha256_of(b"hello world"));
/// ```
#[derive(Clone)]
pub struct DigestHasher {
    state: State,
    bytes: u64,
}

#[derive(Clone)]
enum State {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl DigestHasher {
    /// Starts a hash with `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        Self { state, bytes: 0 }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Sha256(state) => state.update(data),
            State::Sha512(state) => state.update(data),
        }
        self.bytes += data.len() as u64;
    }

    /// How many bytes were fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The algorithm in use.
    pub fn algorithm(&self) -> Algorithm {
        match self.state {
            State::Sha256(_) => Algorithm::Sha256,
            State::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Ends the hash.
    pub fn finish(self) -> Digest {
        match self.state {
            State::Sha256(state) => Digest::from_raw(Algorithm::Sha256, &state.finalize()),
            State::Sha512(state) => Digest::from_raw(Algorithm::Sha512, &state.finalize()),
        }
    }
}

impl std::fmt::Debug for DigestHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestHasher")
            .field("algorithm", &self.algorithm())
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl std::io::Write for DigestHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks streamed bytes against an expected digest.
///
/// ```
/// use ghcr_types::{Digest, DigestVerifier, Error};
///
/// let expected = Digest::sha256_of(b"layer bytes");
/// let mut verifier = DigestVerifier::new(&expected)?;
/// verifier.update(b"layer ");
/// verifier.update(b"bytes");
/// assert_eq!(verifier.finish()?, expected);
///
/// let mut truncated = DigestVerifier::new(&expected)?;
/// truncated.update(b"layer");
/// assert!(matches!(truncated.finish(), Err(Error::DigestMismatch { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DigestVerifier {
    expected: Digest,
    hasher: DigestHasher,
}

impl DigestVerifier {
    /// Starts verifying against `expected`.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedAlgorithm`] when the digest's algorithm cannot be computed.
    pub fn new(expected: &Digest) -> Result<Self> {
        let algorithm = expected
            .algorithm()
            .ok_or_else(|| Error::UnsupportedAlgorithm {
                algorithm: expected.algorithm_name().to_owned(),
            })?;
        Ok(Self {
            expected: expected.clone(),
            hasher: DigestHasher::new(algorithm),
        })
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// How many bytes were fed so far.
    pub fn bytes(&self) -> u64 {
        self.hasher.bytes()
    }

    /// The digest the bytes must have.
    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    /// Ends the hash and compares.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when the bytes fed hash to another digest.
    pub fn finish(self) -> Result<Digest> {
        let actual = self.hasher.finish();
        if actual == self.expected {
            Ok(actual)
        } else {
            Err(Error::DigestMismatch {
                expected: self.expected,
                actual,
            })
        }
    }
}
