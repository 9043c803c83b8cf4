//! What a signature must satisfy to count: today, a signature by one of
//! the policy's public keys; keyless identities (certificate identity and
//! issuer) join it later as further ways to be trusted.

use crate::key::PublicKey;

/// The signers a verification accepts.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Policy {
    /// Signatures by any of these keys verify.
    pub keys: Vec<PublicKey>,
}

impl Policy {
    /// A policy that accepts signatures by any of `keys`.
    pub fn keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }
}
