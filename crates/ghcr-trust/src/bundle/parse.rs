//! Reading a Sigstore bundle (media types v0.1, v0.2, v0.3) into what
//! verification needs: the signing certificate, the signed content (a
//! DSSE envelope or a message signature), the transparency-log entries
//! and the RFC 3161 timestamps. Only shape is checked here.

use serde::Deserialize;
use serde::de::Deserializer;

use crate::error::{Error, Result};
use crate::trusted_root::{WireRaw, decode};

/// The media types of a Sigstore bundle, by version.
pub const BUNDLE_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// What every bundle media type (and the artifact type of a bundle
/// attached as a referrer) starts with.
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// The largest bundle read (provenance predicates can be big).
pub const MAX_BUNDLE_SIZE: usize = 4 * 1024 * 1024;

/// A parsed bundle; nothing in it is verified yet.
#[derive(Debug)]
pub(crate) struct Bundle {
    /// The signing certificate, DER.
    pub(crate) certificate: Vec<u8>,
    pub(crate) content: Content,
    pub(crate) entries: Vec<Entry>,
    /// Its RFC 3161 signed timestamps, DER.
    pub(crate) timestamps: Vec<Vec<u8>>,
}

/// What the certificate's key signed.
#[derive(Debug)]
pub(crate) enum Content {
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
        /// Each signature, DER.
        signatures: Vec<Vec<u8>>,
    },
    Message {
        /// `SHA2_256`, `SHA2_384`, `SHA2_512`.
        algorithm: String,
        digest: Vec<u8>,
        signature: Vec<u8>,
    },
}

/// One transparency-log entry.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) log_index: u64,
    pub(crate) log_id: Vec<u8>,
    pub(crate) kind: String,
    pub(crate) version: String,
    pub(crate) integrated_time: i64,
    /// The signed entry timestamp, DER.
    pub(crate) set: Option<Vec<u8>>,
    pub(crate) proof: Option<Proof>,
    pub(crate) body: Vec<u8>,
}

/// An RFC 6962 inclusion proof and its checkpoint.
#[derive(Debug)]
pub(crate) struct Proof {
    pub(crate) log_index: u64,
    pub(crate) tree_size: u64,
    pub(crate) root_hash: Vec<u8>,
    pub(crate) hashes: Vec<Vec<u8>>,
    pub(crate) checkpoint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    media_type: String,
    verification_material: Material,
    #[serde(default)]
    dsse_envelope: Option<crate::dsse::Envelope>,
    #[serde(default)]
    message_signature: Option<MessageSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    #[serde(default)]
    x509_certificate_chain: Option<Chain>,
    #[serde(default)]
    certificate: Option<WireRaw>,
    #[serde(default)]
    public_key: Option<serde_json::Value>,
    #[serde(default)]
    tlog_entries: Vec<WireEntry>,
    #[serde(default)]
    timestamp_verification_data: Option<TimestampData>,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<WireRaw>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimestampData {
    #[serde(default)]
    rfc3161_timestamps: Vec<WireTimestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTimestamp {
    signed_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    message_digest: MessageDigest,
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEntry {
    #[serde(deserialize_with = "int")]
    log_index: u64,
    log_id: LogId,
    kind_version: KindVersion,
    #[serde(deserialize_with = "int")]
    integrated_time: i64,
    #[serde(default)]
    inclusion_promise: Option<Promise>,
    #[serde(default)]
    inclusion_proof: Option<WireProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
struct KindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Promise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireProof {
    #[serde(deserialize_with = "int")]
    log_index: u64,
    root_hash: String,
    #[serde(deserialize_with = "int")]
    tree_size: u64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<Checkpoint>,
}

#[derive(Deserialize)]
struct Checkpoint {
    envelope: String,
}

/// A protobuf JSON int64: a string of digits, or a number.
fn int<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + TryFrom<u64>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        Text(String),
        Number(u64),
    }
    let bad = || serde::de::Error::custom("not a non-negative 64-bit integer");
    match Int::deserialize(deserializer)? {
        Int::Text(text) => text.parse().map_err(|_| bad()),
        Int::Number(n) => T::try_from(n).map_err(|_| bad()),
    }
}

impl Bundle {
    /// Parses a bundle's JSON.
    ///
    /// # Errors
    ///
    /// [`Error::PayloadTooLarge`], [`Error::InvalidBundle`] (not JSON of a
    /// bundle, an unknown media type, a field that does not decode), and
    /// [`Error::UnsupportedBundle`] for a bundle with a public key instead
    /// of a certificate (a keyed bundle).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_BUNDLE_SIZE {
            return Err(Error::PayloadTooLarge {
                size: bytes.len() as u64,
                limit: MAX_BUNDLE_SIZE,
            });
        }
        let invalid = |reason: String| Error::InvalidBundle { reason };
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|error| invalid(format!("JSON: {error}")))?;
        if !BUNDLE_MEDIA_TYPES.contains(&wire.media_type.as_str()) {
            return Err(invalid(format!(
                "its mediaType `{}` is not a Sigstore bundle v0.1, v0.2 or v0.3",
                wire.media_type
            )));
        }
        let material = wire.verification_material;
        let b64 = |what: &str, text: &str| {
            decode(text).map_err(|error| invalid(format!("{what} base64: {error}")))
        };
        let certificate = match (&material.x509_certificate_chain, &material.certificate) {
            (_, Some(raw)) => b64("certificate", &raw.raw_bytes)?,
            (Some(chain), None) => {
                let leaf = chain
                    .certificates
                    .first()
                    .ok_or_else(|| invalid("its certificate chain is empty".to_owned()))?;
                b64("certificate", &leaf.raw_bytes)?
            }
            (None, None) if material.public_key.is_some() => {
                return Err(Error::UnsupportedBundle {
                    reason: "it is signed with a public key (a keyed bundle), not a Fulcio certificate; keyed bundles are not supported yet".to_owned(),
                });
            }
            (None, None) => {
                return Err(invalid("it has no certificate".to_owned()));
            }
        };
        let content = match (wire.dsse_envelope, wire.message_signature) {
            (Some(envelope), None) => {
                if envelope.signatures.is_empty() {
                    return Err(invalid("its DSSE envelope has no signatures".to_owned()));
                }
                Content::Dsse {
                    payload: b64("payload", &envelope.payload)?,
                    signatures: envelope
                        .signatures
                        .iter()
                        .map(|s| b64("signature", &s.sig))
                        .collect::<Result<_>>()?,
                    payload_type: envelope.payload_type,
                }
            }
            (None, Some(message)) => Content::Message {
                digest: b64("message digest", &message.message_digest.digest)?,
                signature: b64("signature", &message.signature)?,
                algorithm: message.message_digest.algorithm,
            },
            _ => {
                return Err(invalid(
                    "it must hold exactly one of dsseEnvelope and messageSignature".to_owned(),
                ));
            }
        };
        let entries: Vec<Entry> = material
            .tlog_entries
            .into_iter()
            .map(Entry::from_wire)
            .collect::<Result<_>>()?;
        // The bundle format: v0.1 entries carry a signed entry timestamp;
        // from v0.2 on, an inclusion proof with its checkpoint.
        let v01 = wire.media_type == BUNDLE_MEDIA_TYPES[0];
        for entry in &entries {
            if v01 && entry.set.is_none() {
                return Err(invalid(
                    "a v0.1 bundle's log entry must carry a signed entry timestamp".to_owned(),
                ));
            }
            if !v01 && entry.proof.as_ref().is_none_or(|p| p.checkpoint.is_none()) {
                return Err(invalid(
                    "a v0.2 or later bundle's log entry must carry an inclusion proof with its checkpoint".to_owned(),
                ));
            }
        }
        Ok(Self {
            certificate,
            content,
            entries,
            timestamps: material
                .timestamp_verification_data
                .map(|data| data.rfc3161_timestamps)
                .unwrap_or_default()
                .iter()
                .map(|t| b64("signed timestamp", &t.signed_timestamp))
                .collect::<Result<_>>()?,
        })
    }
}

impl Entry {
    fn from_wire(entry: WireEntry) -> Result<Self> {
        let b64 = |what: &str, text: &str| {
            decode(text).map_err(|error| Error::InvalidBundle {
                reason: format!("{what} base64: {error}"),
            })
        };
        let proof = match entry.inclusion_proof {
            Some(proof) => Some(Proof {
                log_index: proof.log_index,
                tree_size: proof.tree_size,
                root_hash: b64("root hash", &proof.root_hash)?,
                hashes: proof
                    .hashes
                    .iter()
                    .map(|h| b64("proof hash", h))
                    .collect::<Result<_>>()?,
                checkpoint: proof.checkpoint.map(|c| c.envelope),
            }),
            None => None,
        };
        Ok(Self {
            log_index: entry.log_index,
            log_id: b64("logId", &entry.log_id.key_id)?,
            kind: entry.kind_version.kind,
            version: entry.kind_version.version,
            integrated_time: entry.integrated_time,
            set: entry
                .inclusion_promise
                .map(|p| b64("signed entry timestamp", &p.signed_entry_timestamp))
                .transpose()?,
            proof,
            body: b64("canonicalizedBody", &entry.canonicalized_body)?,
        })
    }
}
