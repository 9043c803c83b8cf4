//! What a signature must satisfy to count: a signature by one of the
//! policy's public keys, or a keyless Sigstore bundle whose certificate
//! chains to the policy's trusted root and names one of its identities.

use crate::identity::IdentityPolicy;
use crate::key::PublicKey;
use crate::trusted_root::TrustedRoot;

/// The signers a verification accepts.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Policy {
    /// Signatures by any of these keys verify.
    pub keys: Vec<PublicKey>,
    /// Keyless bundles whose certificate names any of these verify.
    pub identities: Vec<IdentityPolicy>,
    /// The Fulcio CAs and Rekor logs keyless bundles are checked against.
    /// Default: none with [`Policy::keys`]; the shipped public-good root
    /// with [`Policy::identities`].
    pub roots: TrustedRoot,
}

impl Policy {
    /// A policy that accepts signatures by any of `keys`.
    pub fn keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            ..Self::default()
        }
    }

    /// A policy that accepts keyless bundles by any of `identities`,
    /// against the public-good Sigstore root ([`TrustedRoot::public_good`]).
    pub fn identities(identities: impl IntoIterator<Item = IdentityPolicy>) -> Self {
        Self {
            identities: identities.into_iter().collect(),
            roots: TrustedRoot::public_good(),
            ..Self::default()
        }
    }

    /// The same policy checked against `roots` instead (`--trusted-root`).
    #[must_use]
    pub fn with_trusted_root(mut self, roots: TrustedRoot) -> Self {
        self.roots = roots;
        self
    }
}
