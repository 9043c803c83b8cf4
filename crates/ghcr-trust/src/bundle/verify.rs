//! The decision for one bundle, in the order a reader would check it:
//! the signature by the certificate's key, the log entry and the time it
//! vouches for, the certificate's chain and validity at that time, the
//! signer's identity, and last what was signed.

use ghcr_types::Digest;
use ghcr_types::oci::Descriptor;

use crate::bundle::cert::Leaf;
use crate::bundle::parse::{BUNDLE_MEDIA_TYPE_PREFIX, Bundle, Content};
use crate::bundle::rekor::{check_entry, hex};
use crate::bundle::timestamp;
use crate::dsse::{Attested, pae};
use crate::error::{Error, Result};
use crate::identity::CertificateIdentity;
use crate::policy::Policy;
use crate::trusted_root::TrustedRoot;
use crate::verify::{Signer, check_bytes, layer_digest};

/// Verifies a keyless Sigstore bundle holding a DSSE envelope (what
/// `gh attestation`, `actions/attest` and `cosign attest` make) for the
/// artifact `subject` under `policy`: its identities, against its
/// trusted root.
///
/// Checked in order: the envelope's signature by the certificate's key
/// over DSSE's PAE; a transparency-log entry that logs this signature and
/// certificate, whose signed entry timestamp verifies with a log key of
/// the trusted root (and its inclusion proof, when present, to a signed
/// checkpoint) or, where the trusted root names no log or no SET is
/// given, an RFC 3161 timestamp over the signature by one of its
/// timestamp authorities; the certificate's chain to a trusted Fulcio CA, its
/// validity at the logged time, code-signing usage and an embedded SCT
/// by a CT log of the trusted root (when it names any); an identity of the
/// policy; an in-toto statement naming `subject` (`sha256:` or `sha512:`)
/// and, when given, of `predicate_type`.
///
/// # Errors
///
/// [`Error::NoIdentities`], [`Error::InvalidBundle`],
/// [`Error::UnsupportedBundle`] (a public key instead of a certificate,
/// an Ed25519 log),
/// [`Error::SignatureMismatch`], [`Error::LogEntryMismatch`],
/// [`Error::TransparencyLog`], [`Error::UntrustedCertificate`],
/// [`Error::CertificateNotValid`], [`Error::CertificateUsage`],
/// [`Error::IdentityMismatch`], [`Error::NotAnAttestation`], and those of
/// a statement ([`Error::SubjectMismatch`], [`Error::OtherPredicateType`]...).
pub fn verify_bundle(
    bundle: &[u8],
    subject: &Digest,
    policy: &Policy,
    predicate_type: Option<&str>,
) -> Result<Attested> {
    let (bundle, identity) = check(bundle, policy)?;
    let Content::Dsse {
        payload_type,
        payload,
        ..
    } = bundle.content
    else {
        return Err(Error::NotAnAttestation);
    };
    let statement = crate::dsse::statement_about(payload_type, &payload, subject, predicate_type)?;
    Ok(Attested {
        signer: Signer::Keyless(Box::new(identity)),
        statement,
    })
}

/// Verifies a keyless bundle holding a message signature (`cosign
/// sign-blob --bundle`, `sigstore sign`) over the artifact whose digest
/// is `artifact`, under `policy`; the checks of [`verify_bundle`], with
/// the signature over the digest in place of the envelope's.
///
/// # Errors
///
/// Those of [`verify_bundle`]; [`Error::NotAMessageSignature`] for a DSSE
/// bundle, and [`Error::OtherArtifact`] for a valid signature of another
/// artifact.
pub fn verify_message_bundle(bundle: &[u8], artifact: &Digest, policy: &Policy) -> Result<Signer> {
    let (bundle, identity) = check(bundle, policy)?;
    let Content::Message {
        algorithm, digest, ..
    } = &bundle.content
    else {
        return Err(Error::NotAMessageSignature);
    };
    let signed = format!("{}:{}", algorithm_name(algorithm), hex(digest));
    if signed != artifact.as_str() {
        return Err(Error::OtherArtifact {
            signed,
            artifact: artifact.clone(),
        });
    }
    Ok(Signer::Keyless(Box::new(identity)))
}

/// Verifies one layer of a bundle referrer: its media type, its bytes
/// against its digest, then [`verify_bundle`].
///
/// # Errors
///
/// [`Error::NotDsse`] for a layer of another media type,
/// [`Error::LayerDigestMismatch`], and those of [`verify_bundle`].
pub fn verify_bundle_layer(
    layer: &Descriptor,
    bundle: &[u8],
    image: &Digest,
    policy: &Policy,
    predicate_type: Option<&str>,
) -> Result<Attested> {
    let expected = layer_digest(layer)?;
    let media_type = layer.media_type().to_string();
    if !media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX) {
        return Err(Error::NotDsse {
            layer: expected,
            media_type,
        });
    }
    check_bytes(&expected, bundle)?;
    verify_bundle(bundle, image, policy, predicate_type)
}

/// When it was signed: the integrated time of a log entry whose SET
/// verified or, failing that, an RFC 3161 timestamp's. A root that names
/// transparency logs requires a verified entry; one that names none (an
/// instance signing with timestamps only) does not look at entries.
fn signing_time(bundle: &Bundle, roots: &TrustedRoot) -> Result<i64> {
    let mut logged = None;
    if !roots.logs.is_empty() {
        let mut first_error = None;
        let mut proven = false;
        for entry in &bundle.entries {
            match check_entry(entry, &bundle.content, &bundle.certificate, roots) {
                Ok(entry) => {
                    proven = true;
                    logged = logged.or(entry.signed_at);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if !proven {
            return Err(first_error.unwrap_or_else(|| Error::TransparencyLog {
                reason: "the bundle has no transparency-log entry".to_owned(),
            }));
        }
    }
    if let Some(at) = logged {
        return Ok(at);
    }
    let stamped = match &bundle.content {
        Content::Dsse { signatures, .. } => signatures.first().map_or(&[][..], Vec::as_slice),
        Content::Message { signature, .. } => signature.as_slice(),
    };
    let mut first_error = None;
    for der in &bundle.timestamps {
        match timestamp::check(der, stamped, roots) {
            Ok(at) => return Ok(at),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| Error::TransparencyLog {
        reason:
            "nothing vouches for the signing time: no signed entry timestamp, no RFC 3161 timestamp"
                .to_owned(),
    }))
}

fn algorithm_name(algorithm: &str) -> &str {
    match algorithm {
        "SHA2_256" => "sha256",
        "SHA2_384" => "sha384",
        "SHA2_512" => "sha512",
        other => other,
    }
}

/// Everything but what was signed: the signature, the log, the
/// certificate, the identity.
fn check(bytes: &[u8], policy: &Policy) -> Result<(Bundle, CertificateIdentity)> {
    if policy.identities.is_empty() {
        return Err(Error::NoIdentities);
    }
    let bundle = Bundle::parse(bytes)?;
    let leaf = Leaf::parse(&bundle.certificate)?;
    let signed = match &bundle.content {
        Content::Dsse {
            payload_type,
            payload,
            signatures,
        } => {
            let message = pae(payload_type, payload);
            let hash = leaf.key.default_hash();
            signatures
                .iter()
                .any(|signature| leaf.key.verifies(hash, &message, signature))
        }
        Content::Message {
            digest, signature, ..
        } => leaf.key.verifies_prehash(digest, signature),
    };
    if !signed {
        return Err(Error::CertificateSignatureMismatch);
    }
    let roots = &policy.roots;
    let signed_at = signing_time(&bundle, roots)?;
    leaf.check(roots, signed_at)?;
    let identity = leaf.identity(signed_at)?;
    let mut refusal = None;
    for wanted in &policy.identities {
        match wanted.check(&identity) {
            Ok(()) => return Ok((bundle, identity)),
            Err(error) => {
                refusal.get_or_insert(error);
            }
        }
    }
    Err(refusal.unwrap_or(Error::NoIdentities))
}
