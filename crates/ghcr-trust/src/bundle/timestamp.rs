//! RFC 3161 signed timestamps: a timestamp authority of the trusted root
//! signs (CMS SignedData, RFC 5652) a TSTInfo whose message imprint is the
//! hash of the bundle's signature, giving a signing time where no
//! transparency log vouches for one (GitHub's instance for private
//! repositories). Read with `der`'s generic TLVs; only what the check
//! needs is decoded.

use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{
    Any, Decode as _, Encode as _, Reader as _, SliceReader, Tag, TagNumber, Tagged as _,
};

use crate::ec::Hash;
use crate::error::{Error, Result};
use crate::trusted_root::TrustedRoot;

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

fn fail(reason: &str) -> Error {
    Error::TransparencyLog {
        reason: format!("the RFC 3161 timestamp does not verify: {reason}"),
    }
}

/// The TLVs one after another in `bytes`.
fn elements(bytes: &[u8]) -> Option<Vec<Any>> {
    let mut reader = SliceReader::new(bytes).ok()?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(reader.decode::<Any>().ok()?);
    }
    Some(out)
}

/// The elements of a SEQUENCE (or SET, or explicit tag) TLV.
fn inner(any: &Any) -> Option<Vec<Any>> {
    elements(any.value())
}

fn oid(any: &Any) -> Option<ObjectIdentifier> {
    ObjectIdentifier::from_der(&any.to_der().ok()?).ok()
}

fn context(n: u32) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(n),
    }
}

fn hash_of(algorithm: &Any) -> Option<Hash> {
    match oid(inner(algorithm)?.first()?)? {
        o if o == SHA256 => Some(Hash::Sha256),
        o if o == SHA384 => Some(Hash::Sha384),
        _ => None,
    }
}

/// Verifies the signed timestamp `der` (a TimeStampResp or a bare
/// TimeStampToken) over `signature` with a timestamp authority of
/// `roots`; its time, Unix seconds.
pub(crate) fn check(der: &[u8], signature: &[u8], roots: &TrustedRoot) -> Result<i64> {
    let top = Any::from_der(der).map_err(|_| fail("it is not DER"))?;
    let fields = inner(&top).ok_or_else(|| fail("it is not a SEQUENCE"))?;
    // A TimeStampResp is { status, token }; a token starts with its OID.
    let token = match fields.first().map(Any::tag) {
        Some(Tag::Sequence) => fields
            .get(1)
            .ok_or_else(|| fail("the response has no token"))?
            .clone(),
        _ => top,
    };
    let token = inner(&token).ok_or_else(|| fail("the token is not a ContentInfo"))?;
    if token.first().and_then(oid) != Some(SIGNED_DATA) {
        return Err(fail("the token is not CMS SignedData"));
    }
    let signed_data = token
        .get(1)
        .and_then(inner)
        .and_then(|explicit| explicit.first().cloned())
        .and_then(|sd| inner(&sd))
        .ok_or_else(|| fail("the SignedData does not decode"))?;
    // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
    let encap = signed_data
        .get(2)
        .and_then(inner)
        .ok_or_else(|| fail("no encapsulated content"))?;
    if encap.first().and_then(oid) != Some(TST_INFO) {
        return Err(fail("the content is not a TSTInfo"));
    }
    let tst_der = encap
        .get(1)
        .and_then(inner)
        .and_then(|explicit| explicit.first().map(|octets| octets.value().to_vec()))
        .ok_or_else(|| fail("the TSTInfo is missing"))?;
    let tst = Any::from_der(&tst_der)
        .ok()
        .and_then(|t| inner(&t))
        .ok_or_else(|| fail("the TSTInfo does not decode"))?;
    // version, policy, messageImprint, serialNumber, genTime, ...
    let imprint = tst
        .get(2)
        .and_then(inner)
        .ok_or_else(|| fail("no message imprint"))?;
    let imprint_hash = imprint
        .first()
        .and_then(hash_of)
        .ok_or_else(|| fail("the imprint's hash is not SHA-256 or SHA-384"))?;
    if imprint.get(1).map(Any::value) != Some(imprint_hash.of(signature).as_slice()) {
        return Err(fail("it stamps another signature"));
    }
    let gen_time = tst
        .get(4)
        .filter(|t| t.tag() == Tag::GeneralizedTime)
        .and_then(|t| generalized_time(t.value()))
        .ok_or_else(|| fail("its genTime does not decode"))?;
    let signer_info = signed_data
        .last()
        .and_then(inner)
        .and_then(|set| set.first().cloned())
        .and_then(|si| inner(&si))
        .ok_or_else(|| fail("it has no signer"))?;
    // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature
    let digest_hash = signer_info
        .get(2)
        .and_then(hash_of)
        .ok_or_else(|| fail("the signer's digest is not SHA-256 or SHA-384"))?;
    let attrs = signer_info
        .get(3)
        .filter(|a| a.tag() == context(0))
        .ok_or_else(|| fail("it has no signed attributes"))?;
    check_attributes(attrs, &digest_hash.of(&tst_der))?;
    let algorithm = signer_info
        .get(4)
        .and_then(inner)
        .and_then(|a| a.first().and_then(oid))
        .and_then(|o| match o {
            o if o == ECDSA_SHA256 => Some(Hash::Sha256),
            o if o == ECDSA_SHA384 => Some(Hash::Sha384),
            _ => None,
        })
        .ok_or_else(|| fail("it is not signed with ECDSA"))?;
    let tsa_signature = signer_info
        .get(5)
        .map(Any::value)
        .ok_or_else(|| fail("no signature"))?;
    // The signature covers the attributes DER-encoded as a SET.
    let mut signed = attrs
        .to_der()
        .map_err(|_| fail("the attributes do not encode"))?;
    signed[0] = 0x31;
    if signed_by_authority(roots, gen_time, algorithm, &signed, tsa_signature) {
        return Ok(gen_time);
    }
    Err(fail("no timestamp authority of the trusted root signed it"))
}

/// Whether a timestamp authority of `roots`, valid at `at`, made
/// `signature` over `signed`.
fn signed_by_authority(
    roots: &TrustedRoot,
    at: i64,
    hash: Hash,
    signed: &[u8],
    signature: &[u8],
) -> bool {
    roots.timestamp_authorities.iter().any(|authority| {
        let valid_then = authority.valid.contains(at)
            && authority.chain.iter().all(|cert| {
                let validity = cert.tbs_certificate().validity();
                let secs = |t: x509_cert::time::Time| {
                    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
                };
                secs(validity.not_before) <= at && at <= secs(validity.not_after)
            });
        valid_then
            && authority
                .chain
                .first()
                .and_then(key_of)
                .is_some_and(|key| key.verifies(hash, signed, signature))
    })
}

/// The signed attributes name a TSTInfo and its digest.
fn check_attributes(attrs: &Any, digest: &[u8]) -> Result<()> {
    let attributes = inner(attrs).ok_or_else(|| fail("the signed attributes do not decode"))?;
    let value = |wanted: ObjectIdentifier| {
        attributes.iter().find_map(|attribute| {
            let parts = inner(attribute)?;
            (oid(parts.first()?)? == wanted).then(|| inner(parts.get(1)?)?.first().cloned())?
        })
    };
    if value(CONTENT_TYPE).as_ref().and_then(oid) != Some(TST_INFO) {
        return Err(fail("its content-type attribute is not TSTInfo"));
    }
    if value(MESSAGE_DIGEST).as_ref().map(Any::value) != Some(digest) {
        return Err(fail("its message-digest attribute is not the TSTInfo's"));
    }
    Ok(())
}

fn key_of(cert: &Certificate) -> Option<crate::ec::EcKey> {
    let der = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .ok()?;
    crate::ec::EcKey::from_spki_der(&der)
}

/// `YYYYMMDDHHMMSS[.f*]Z` as Unix seconds.
fn generalized_time(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?.strip_suffix('Z')?;
    let whole = text.split('.').next()?;
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| whole.get(range)?.parse::<u16>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::from(n(0..4)?), month, u8::try_from(n(6..8)?).ok()?)
            .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .unix_timestamp(),
    )
}
