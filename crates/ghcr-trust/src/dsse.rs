//! Keyed cosign attestations: a DSSE envelope (`cosign attest --key`)
//! whose payload is an in-toto [`Statement`], signed over DSSE's
//! pre-authentication encoding. No I/O; discovery feeds it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_types::Digest;
use ghcr_types::oci::Descriptor;
use p256::ecdsa::Signature;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::statement::Statement;
use crate::verify::{Signer, layer_of_type};

/// The media type of a layer holding a DSSE envelope.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// The `payloadType` of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The largest envelope read (provenance and SBOM predicates can be big).
pub const MAX_ENVELOPE_SIZE: usize = 4 * 1024 * 1024;

/// An attestation that verified: who signed, and the statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Attested {
    /// The signer the policy accepted.
    pub signer: Signer,
    /// The signed statement (one of its subjects is the image).
    pub statement: Statement,
}

/// A DSSE envelope as it is written: in a `.att` layer, or inside a
/// Sigstore bundle's `dsseEnvelope`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    pub(crate) payload_type: String,
    pub(crate) payload: String,
    pub(crate) signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
pub(crate) struct EnvelopeSignature {
    pub(crate) sig: String,
}

/// DSSE's PAE: `"DSSEv1" SP len(type) SP type SP len(body) SP body`, the
/// lengths in ASCII decimal: the bytes each signature signs.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Verifies one DSSE envelope (its JSON bytes): a signature by a key of
/// `policy` over the PAE of its payload, an in-toto payload type, a
/// Statement with a subject whose `sha256` is `image`, and, when given,
/// its `predicateType` equal to `predicate_type`.
///
/// Signatures are checked before the payload is parsed, so a changed
/// byte is a [`Error::SignatureMismatch`]. An envelope signature that is
/// not base64 DER is skipped while another may verify.
///
/// # Errors
///
/// [`Error::NoKeys`], [`Error::PayloadTooLarge`], [`Error::InvalidEnvelope`],
/// [`Error::MalformedSignature`] (no signature decodes),
/// [`Error::SignatureMismatch`], [`Error::WrongEnvelopeType`],
/// [`Error::InvalidStatement`], [`Error::WrongStatementType`],
/// [`Error::SubjectMismatch`] and [`Error::OtherPredicateType`].
pub fn verify_envelope(
    envelope: &[u8],
    image: &Digest,
    policy: &Policy,
    predicate_type: Option<&str>,
) -> Result<Attested> {
    if policy.keys.is_empty() {
        return Err(Error::NoKeys);
    }
    if envelope.len() > MAX_ENVELOPE_SIZE {
        return Err(Error::PayloadTooLarge {
            size: envelope.len() as u64,
            limit: MAX_ENVELOPE_SIZE,
        });
    }
    let invalid = |reason: String| Error::InvalidEnvelope { reason };
    let wire: Envelope =
        serde_json::from_slice(envelope).map_err(|error| invalid(format!("JSON: {error}")))?;
    let body = STANDARD
        .decode(wire.payload.trim())
        .map_err(|error| invalid(format!("payload base64: {error}")))?;
    if wire.signatures.is_empty() {
        return Err(invalid("it has no signatures".to_owned()));
    }
    let message = pae(&wire.payload_type, &body);
    let mut malformed = None;
    let mut signer = None;
    for entry in &wire.signatures {
        let signature = match decode_signature(&entry.sig) {
            Ok(signature) => signature,
            Err(error) => {
                malformed.get_or_insert(error);
                continue;
            }
        };
        if let Some(key) = policy
            .keys
            .iter()
            .find(|k| k.verifies(&message, &signature))
        {
            signer = Some(key);
            break;
        }
    }
    let key = match (signer, malformed) {
        (Some(key), _) => key,
        (None, Some(error)) if wire.signatures.len() == 1 => return Err(error),
        (None, _) => {
            return Err(Error::SignatureMismatch {
                keys: policy.keys.len(),
            });
        }
    };
    let statement = statement_about(wire.payload_type, &body, image, predicate_type)?;
    Ok(Attested {
        signer: Signer::Key {
            fingerprint: key.fingerprint().to_owned(),
        },
        statement,
    })
}

fn decode_signature(text: &str) -> Result<Signature> {
    let der = STANDARD
        .decode(text.trim())
        .map_err(|error| Error::MalformedSignature {
            reason: format!("base64: {error}"),
        })?;
    Signature::from_der(&der).map_err(|error| Error::MalformedSignature {
        reason: format!("DER: {error}"),
    })
}

/// Verifies one layer of a cosign attestation manifest: its media type,
/// its bytes against its digest, then [`verify_envelope`].
///
/// # Errors
///
/// [`Error::NotDsse`], [`Error::LayerDigestMismatch`], and those of
/// [`verify_envelope`].
pub fn verify_attestation_layer(
    layer: &Descriptor,
    envelope: &[u8],
    image: &Digest,
    policy: &Policy,
    predicate_type: Option<&str>,
) -> Result<Attested> {
    let expected = layer_of_type(layer, DSSE_MEDIA_TYPE, |layer, media_type| Error::NotDsse {
        layer,
        media_type,
    })?;
    crate::verify::check_bytes(&expected, envelope)?;
    verify_envelope(envelope, image, policy, predicate_type)
}

/// The in-toto statement a verified envelope carries, if it is one about
/// `image` (and of `predicate_type`, when given): what a keyed envelope
/// and a keyless bundle must both hold once their signature verified.
pub(crate) fn statement_about(
    payload_type: String,
    payload: &[u8],
    image: &Digest,
    predicate_type: Option<&str>,
) -> Result<Statement> {
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(Error::WrongEnvelopeType {
            found: payload_type,
        });
    }
    let statement = Statement::parse(payload)?;
    if !statement.names(image.as_str()) {
        return Err(Error::SubjectMismatch {
            subjects: statement.subject_digests(),
            image: image.clone(),
        });
    }
    if let Some(wanted) = predicate_type
        && statement.predicate_type != wanted
    {
        return Err(Error::OtherPredicateType {
            found: statement.predicate_type,
            wanted: wanted.to_owned(),
        });
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_dsses_example() {
        // The DSSE spec's protocol.md example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }
}
