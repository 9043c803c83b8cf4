//! The pure decision: do these payload bytes and this signature verify
//! for this image under this policy? No I/O; discovery feeds it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_types::Digest;
use ghcr_types::oci::Descriptor;
use p256::ecdsa::Signature;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::identity::CertificateIdentity;
use crate::payload::SimpleSigning;
use crate::policy::Policy;

/// The media type of a cosign simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// The layer annotation holding the base64 signature over the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// The largest payload read (cosign's are a few hundred bytes).
pub const MAX_PAYLOAD_SIZE: usize = 64 * 1024;

/// Who a verified signature is from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Signer {
    /// A public key of the policy.
    Key {
        /// Its [`crate::PublicKey::fingerprint`].
        fingerprint: String,
    },
    /// A Fulcio certificate's identity (a keyless Sigstore bundle).
    Keyless(Box<CertificateIdentity>),
}

/// A signature that verified: who signed, and what they signed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Verified {
    /// The signer the policy accepted.
    pub signer: Signer,
    /// The signed payload.
    pub payload: SimpleSigning,
}

/// Verifies one signature: `signature` (the annotation's base64) over
/// exactly `payload`, by a key of `policy`, signing `image`.
///
/// The signature is checked before the payload is read, so a changed byte
/// is a [`Error::SignatureMismatch`], and only signed JSON is parsed.
///
/// # Errors
///
/// [`Error::NoKeys`], [`Error::PayloadTooLarge`],
/// [`Error::MalformedSignature`], [`Error::SignatureMismatch`],
/// [`Error::InvalidPayload`], [`Error::WrongPayloadType`] and
/// [`Error::OtherImage`] (a valid signature of another image).
pub fn verify_payload(
    payload: &[u8],
    signature: &str,
    image: &Digest,
    policy: &Policy,
) -> Result<Verified> {
    if policy.keys.is_empty() {
        return Err(Error::NoKeys);
    }
    if payload.len() > MAX_PAYLOAD_SIZE {
        return Err(Error::PayloadTooLarge {
            size: payload.len() as u64,
            limit: MAX_PAYLOAD_SIZE,
        });
    }
    let der = STANDARD
        .decode(signature.trim())
        .map_err(|error| Error::MalformedSignature {
            reason: format!("base64: {error}"),
        })?;
    let signature = Signature::from_der(&der).map_err(|error| Error::MalformedSignature {
        reason: format!("DER: {error}"),
    })?;
    let key = policy
        .keys
        .iter()
        .find(|key| key.verifies(payload, &signature))
        .ok_or(Error::SignatureMismatch {
            keys: policy.keys.len(),
        })?;
    let claims = SimpleSigning::parse(payload)?;
    if claims.manifest_digest != image.as_str() {
        return Err(Error::OtherImage {
            signed: claims.manifest_digest,
            image: image.clone(),
        });
    }
    Ok(Verified {
        signer: Signer::Key {
            fingerprint: key.fingerprint().to_owned(),
        },
        payload: claims,
    })
}

/// Verifies one layer of a cosign signature manifest: its media type, its
/// bytes against its digest, then [`verify_payload`] with its annotation.
///
/// # Errors
///
/// [`Error::NotSimpleSigning`], [`Error::LayerDigestMismatch`],
/// [`Error::MissingSignature`], and those of [`verify_payload`].
pub fn verify_layer(
    layer: &Descriptor,
    payload: &[u8],
    image: &Digest,
    policy: &Policy,
) -> Result<Verified> {
    let expected = layer_of_type(layer, SIMPLE_SIGNING_MEDIA_TYPE, |layer, media_type| {
        Error::NotSimpleSigning { layer, media_type }
    })?;
    check_bytes(&expected, payload)?;
    let signature = layer
        .annotations()
        .as_ref()
        .and_then(|annotations| annotations.get(SIGNATURE_ANNOTATION))
        .ok_or_else(|| Error::MissingSignature {
            layer: expected.clone(),
        })?;
    verify_payload(payload, signature, image, policy)
}

/// A layer's digest, parsed.
pub(crate) fn layer_digest(layer: &Descriptor) -> Result<Digest> {
    Digest::parse(layer.digest().as_ref()).map_err(|_| Error::MalformedSignature {
        reason: format!("the layer's digest `{}` is invalid", layer.digest()),
    })
}

/// A layer's digest, once its media type is `media_type`; another type
/// is refused with `other(layer digest, its media type)`. The check every
/// layer gets before a byte of it is read or verified.
pub(crate) fn layer_of_type(
    layer: &Descriptor,
    media_type: &str,
    other: fn(Digest, String) -> Error,
) -> Result<Digest> {
    let digest = layer_digest(layer)?;
    let actual = layer.media_type().to_string();
    if actual == media_type {
        Ok(digest)
    } else {
        Err(other(digest, actual))
    }
}

/// Whether `bytes` hash to `expected` ([`Digest::verify`]); a digest of an
/// algorithm that cannot be computed never matches.
pub(crate) fn check_bytes(expected: &Digest, bytes: &[u8]) -> Result<()> {
    match expected.verify(bytes) {
        Ok(()) => Ok(()),
        Err(ghcr_types::Error::DigestMismatch { actual, .. }) => Err(Error::LayerDigestMismatch {
            expected: expected.clone(),
            actual,
        }),
        Err(_) => Err(Error::LayerDigestMismatch {
            expected: expected.clone(),
            actual: Digest::sha256_of(bytes),
        }),
    }
}

#[cfg(test)]
mod tests;
