//! Signature verification for OCI images: does a signer the policy
//! trusts vouch for this exact image?
//!
//! `ghcr-trust` sits beside `ghcr-packages`, on `ghcr-registry`: it finds
//! an image's cosign signatures (the legacy `sha256-<hex>.sig` tag, and
//! signature manifests attached as referrers, through the referrers API
//! or its `sha256-<hex>` tag fallback, which ghcr.io needs) and verifies
//! each one. A keyed signature counts when its ECDSA P-256 signature (the
//! `dev.cosignproject.cosign/signature` annotation) verifies over the
//! exact simple-signing payload bytes with a key of the [`Policy`], and
//! the payload names the image's own digest. Keyless Sigstore bundles
//! (GitHub's artifact attestations, cosign's bundle format) count when
//! their Fulcio certificate chains to the policy's [`TrustedRoot`] (the
//! public-good one ships in the crate), Rekor vouches for the signing
//! time, and the certificate names an [`IdentityPolicy`] of the policy
//! ([`verify_bundle`], below). Every candidate is kept in the
//! [`Verification`]: verified, with its signer, or refused, with why.
//!
//! The decision itself ([`verify_payload`], [`verify_layer`]) does no I/O:
//!
//! ```
//! use ghcr_trust::{Policy, PublicKey, Signer, verify_payload};
//! use ghcr_types::Digest;
//!
//! // cosign.pub as `cosign generate-key-pair` wrote it, and a signature
//! // `cosign sign --key cosign.key` made (sigstore-rs's test data).
//! let key = PublicKey::from_pem(
//!     "-----BEGIN PUBLIC KEY-----
//! MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
//! OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
//! -----END PUBLIC KEY-----",
//!     "cosign.pub",
//! )?;
//! let image: Digest =
//!     "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b".parse()?;
//! let payload = br#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;
//! let signature = "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";
//!
//! let policy = Policy::keys([key.clone()]);
//! let verified = verify_payload(payload, signature, &image, &policy)?;
//! assert_eq!(verified.signer, Signer::Key { fingerprint: key.fingerprint().to_owned() });
//!
//! // The same signature does not vouch for another image.
//! let other = Digest::sha256_of(b"another image");
//! assert!(verify_payload(payload, signature, &other, &policy).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`verify_image`] looks the signatures up in a registry first, with a
//! `ghcr_registry::RegistryClient`.
//!
//! Keyed attestations (`cosign attest --key`) are checked the same way:
//! [`verify_envelope`] verifies a DSSE envelope's signature over its
//! pre-authentication encoding ([`pae`]) and that its in-toto
//! [`Statement`] has the image as a subject (and, when asked, a given
//! predicate type); [`verify_attestations`] finds them in the
//! `sha256-<hex>.att` tag and among the referrers.
//!
//! Keyless Sigstore bundles (`actions/attest`, `gh attestation`, cosign's
//! bundle format; v0.1 to v0.3) are checked by [`verify_bundle`]: the
//! signature by the Fulcio certificate's key, the Rekor entry's signed
//! entry timestamp and inclusion proof, the certificate's chain to a CA
//! of the policy's [`TrustedRoot`] (the public-good one ships in the
//! crate) at the logged time, and an [`IdentityPolicy`] of the policy:
//!
//! ```
//! use ghcr_trust::{IdentityPolicy, Policy, Signer, verify_bundle};
//! use ghcr_types::Digest;
//!
//! // cosign's bundle for a kubewarden image, signed in its release workflow.
//! let bundle = include_bytes!("../tests/data/sigstore/cosign-sign-v03.sigstore.json");
//! let image: Digest =
//!     "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172".parse()?;
//! let policy = Policy::identities([IdentityPolicy::new().owner("kubewarden")]);
//! let attested = verify_bundle(bundle, &image, &policy, None)?;
//! let Signer::Keyless(signer) = &attested.signer else { unreachable!() };
//! assert_eq!(signer.repository(), Some("kubewarden/kubewarden-controller"));
//! // Another owner is refused.
//! let other = Policy::identities([IdentityPolicy::new().owner("octo")]);
//! assert!(verify_bundle(bundle, &image, &other, None).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundle;
mod discover;
mod dsse;
mod ec;
mod error;
mod identity;
mod key;
mod payload;
mod policy;
mod report;
mod statement;
mod trusted_root;
mod verify;

pub use bundle::{
    BUNDLE_MEDIA_TYPE_PREFIX, BUNDLE_MEDIA_TYPES, MAX_BUNDLE_SIZE, verify_bundle,
    verify_bundle_layer, verify_message_bundle,
};
pub use discover::{
    COSIGN_ATTESTATION_ARTIFACT_TYPE, COSIGN_SIGNATURE_ARTIFACT_TYPE, verify_attestations,
    verify_image,
};
pub use dsse::{
    Attested, DSSE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, MAX_ENVELOPE_SIZE, pae,
    verify_attestation_layer, verify_envelope,
};
pub use error::{Error, Result};
pub use identity::{CertificateIdentity, Claims, GITHUB_ACTIONS_ISSUER, IdentityPolicy};
pub use key::PublicKey;
pub use payload::{SIMPLE_SIGNING_TYPE, SimpleSigning};
pub use policy::Policy;
pub use report::{Checked, Source, Verification};
pub use statement::{STATEMENT_TYPES, Statement, Subject};
pub use trusted_root::{PUBLIC_GOOD_TRUSTED_ROOT, TrustedRoot};
pub use verify::{
    MAX_PAYLOAD_SIZE, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, Signer, Verified,
    verify_layer, verify_payload,
};
