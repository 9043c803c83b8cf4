//! Keyless Sigstore bundles: a Fulcio certificate, a signature by its key
//! (over a DSSE envelope, or a message digest), and a Rekor entry that
//! vouches for when it was signed. [`verify_bundle`] checks all of it
//! against a [`crate::TrustedRoot`] and the policy's
//! [`crate::IdentityPolicy`]s, with no I/O.

mod cert;
mod merkle;
mod parse;
mod rekor;
mod sct;
mod timestamp;
mod verify;

pub use parse::{BUNDLE_MEDIA_TYPE_PREFIX, BUNDLE_MEDIA_TYPES, MAX_BUNDLE_SIZE};
pub use verify::{verify_bundle, verify_bundle_layer, verify_message_bundle};
