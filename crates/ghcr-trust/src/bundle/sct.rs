//! Certificate Transparency (RFC 6962 §3.2): the signed certificate
//! timestamps Fulcio embeds in its certificates, each a CT log's
//! signature over the precertificate (the certificate's TBS without the
//! SCT list) and the issuer's key hash. When the trusted root names CT
//! logs, one SCT by one of them must verify.

use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Any, Decode as _, Encode as _, Tag, TagNumber, Tagged as _};
use x509_cert::ext::Extension;

use crate::ec::Hash;
use crate::error::{Error, Result};
use crate::trusted_root::TrustedRoot;

/// The embedded SCT list extension.
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

fn fail(reason: &str) -> Error {
    Error::UntrustedCertificate {
        reason: format!("no embedded certificate transparency timestamp verifies: {reason}"),
    }
}

/// Checks `leaf` (issued by `issuer`) carries an SCT that a CT log of
/// `roots` signed; nothing when the roots name no CT log.
pub(crate) fn check(leaf: &Certificate, issuer: &Certificate, roots: &TrustedRoot) -> Result<()> {
    if roots.ct_logs.is_empty() {
        return Ok(());
    }
    let list = leaf
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|ext| ext.extn_id == SCT_LIST)
        .ok_or_else(|| fail("the certificate has none"))?;
    let list = OctetString::from_der(list.extn_value.as_bytes())
        .map_err(|_| fail("the SCT list does not decode"))?;
    let precert = precertificate(leaf).ok_or_else(|| fail("the certificate does not re-encode"))?;
    let issuer_key_hash = issuer
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map(Sha256::digest)
        .map_err(|_| fail("the issuer's key does not encode"))?;
    let scts = split(list.as_bytes()).ok_or_else(|| fail("the SCT list is malformed"))?;
    for sct in scts {
        let Some(sct) = Sct::parse(sct) else {
            continue;
        };
        let Some(log) = roots.ct_logs.iter().find(|log| log.id == sct.log_id) else {
            continue;
        };
        let (Some(key), Ok(tbs_len)) = (&log.key, u32::try_from(precert.len())) else {
            continue;
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(&sct.timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes());
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&precert);
        signed.extend_from_slice(
            &u16::try_from(sct.extensions.len())
                .unwrap_or(0)
                .to_be_bytes(),
        );
        signed.extend_from_slice(sct.extensions);
        let at = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
        if log.valid.contains(at) && key.verifies(Hash::Sha256, &signed, sct.signature) {
            return Ok(());
        }
    }
    Err(fail("none is signed by a CT log of the trusted root"))
}

/// One SCT (v1): log ID, timestamp (ms), extensions, signature (DER).
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

impl<'a> Sct<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        let (&version, rest) = bytes.split_first()?;
        if version != 0 || rest.len() < 32 + 8 + 2 {
            return None;
        }
        let (log_id, rest) = rest.split_at(32);
        let (timestamp, rest) = rest.split_at(8);
        let timestamp = u64::from_be_bytes(timestamp.try_into().ok()?);
        let (extensions, rest) = prefixed(rest)?;
        // SHA-256 (4) with ECDSA (3).
        let (&[4, 3], rest) = rest.split_first_chunk::<2>()? else {
            return None;
        };
        let (signature, rest) = prefixed(rest)?;
        rest.is_empty().then_some(Self {
            log_id,
            timestamp,
            extensions,
            signature,
        })
    }
}

/// A TLS `opaque<0..2^16-1>`: the bytes and what follows.
fn prefixed(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The SCTs of a `SignedCertificateTimestampList`.
fn split(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let (mut list, rest) = prefixed(bytes)?;
    if !rest.is_empty() {
        return None;
    }
    let mut scts = Vec::new();
    while !list.is_empty() {
        let (sct, rest) = prefixed(list)?;
        scts.push(sct);
        list = rest;
    }
    Some(scts)
}

/// The leaf's TBS without its SCT list extension, DER.
fn precertificate(leaf: &Certificate) -> Option<Vec<u8>> {
    let tbs = leaf.tbs_certificate().to_der().ok()?;
    let mut fields = Vec::<Any>::from_der(&tbs).ok()?;
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let field = fields.iter_mut().find(|f| f.tag() == extensions_tag)?;
    let extensions: Vec<Extension> = Vec::from_der(field.value()).ok()?;
    let kept: Vec<Extension> = extensions
        .into_iter()
        .filter(|ext| ext.extn_id != SCT_LIST)
        .collect();
    *field = Any::new(extensions_tag, kept.to_der().ok()?).ok()?;
    fields.to_der().ok()
}
