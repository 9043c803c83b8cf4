//! The transparency-log entry: its body must be this bundle's signature
//! and certificate, and Rekor must vouch for it with a signed entry
//! timestamp (an ECDSA signature over the entry's canonical JSON) and,
//! when the bundle has one, an inclusion proof to a signed checkpoint.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::bundle::merkle;
use crate::bundle::parse::{Content, Entry};
use crate::ec::Hash;
use crate::error::{Error, Result};
use crate::trusted_root::TrustedRoot;

/// What the log entry proved.
pub(crate) struct Logged {
    /// The integrated time, when a signed entry timestamp vouches for it.
    pub(crate) signed_at: Option<i64>,
}

/// Checks one entry against the bundle's content and certificate and
/// against the log keys of `roots`.
pub(crate) fn check_entry(
    entry: &Entry,
    content: &Content,
    certificate: &[u8],
    roots: &TrustedRoot,
) -> Result<Logged> {
    check_body(entry, content, certificate)?;
    let log = roots
        .logs
        .iter()
        .find(|log| log.id == entry.log_id)
        .ok_or_else(|| Error::TransparencyLog {
            reason: format!("its log {} is not in the trusted root", hex(&entry.log_id)),
        })?;
    let Some(key) = &log.key else {
        return Err(Error::UnsupportedBundle {
            reason: format!(
                "its log {} signs with Ed25519 (Rekor v2); that is not supported yet",
                log.base_url
            ),
        });
    };
    let mut signed_at = None;
    if let Some(set) = &entry.set {
        let payload = set_payload(entry);
        if !key.verifies(Hash::Sha256, payload.as_bytes(), set) {
            return Err(Error::TransparencyLog {
                reason: format!(
                    "the signed entry timestamp does not verify with the key of {}",
                    log.base_url
                ),
            });
        }
        if !log.valid.contains(entry.integrated_time) {
            return Err(Error::TransparencyLog {
                reason: format!(
                    "the log key of {} was not valid at the entry's integrated time",
                    log.base_url
                ),
            });
        }
        signed_at = Some(entry.integrated_time);
    }
    if let Some(proof) = &entry.proof {
        // A sharded log gives the proof its tree-local index, not the
        // entry's: the proof is checked on its own terms.
        merkle::check_proof(proof, &entry.body, log)?;
    } else if entry.set.is_none() {
        return Err(Error::TransparencyLog {
            reason: "the entry has neither a signed entry timestamp nor an inclusion proof"
                .to_owned(),
        });
    }
    Ok(Logged { signed_at })
}

/// Rekor's SET payload: the canonical JSON (keys sorted, no spaces) of
/// the entry's body (base64), integrated time, log ID (hex) and index.
fn set_payload(entry: &Entry) -> String {
    format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        STANDARD.encode(&entry.body),
        entry.integrated_time,
        hex(&entry.log_id),
        entry.log_index
    )
}

/// The entry's body names this content and certificate.
fn check_body(entry: &Entry, content: &Content, certificate: &[u8]) -> Result<()> {
    let mismatch = |reason: &str| {
        Err(Error::LogEntryMismatch {
            reason: reason.to_owned(),
        })
    };
    let body: Value = serde_json::from_slice(&entry.body).map_err(|_| Error::LogEntryMismatch {
        reason: "its body is not JSON".to_owned(),
    })?;
    let spec = &body["spec"];
    let kind = (body["kind"].as_str(), body["apiVersion"].as_str());
    if kind != (Some(entry.kind.as_str()), Some(entry.version.as_str())) {
        return mismatch("its body is of another kind or version than the entry says");
    }
    match (content, kind) {
        (
            Content::Message {
                algorithm,
                digest,
                signature,
            },
            (Some("hashedrekord"), Some("0.0.1")),
        ) => {
            let want = match algorithm.as_str() {
                "SHA2_256" => "sha256",
                "SHA2_384" => "sha384",
                "SHA2_512" => "sha512",
                _ => return mismatch("the message digest's algorithm is unknown"),
            };
            let hash = &spec["data"]["hash"];
            if hash["algorithm"].as_str() != Some(want)
                || hash["value"].as_str() != Some(hex(digest).as_str())
            {
                return mismatch("it logs another artifact digest");
            }
            if b64_field(&spec["signature"]["content"]).as_deref() != Some(signature.as_slice()) {
                return mismatch("it logs another signature");
            }
            if !same_certificate(&spec["signature"]["publicKey"]["content"], certificate) {
                return mismatch("it logs another certificate");
            }
            Ok(())
        }
        (
            Content::Dsse {
                payload,
                signatures,
                ..
            },
            (Some("dsse"), Some("0.0.1")),
        ) => {
            check_payload_hash(&spec["payloadHash"], payload)?;
            check_signatures(&spec["signatures"], signatures, certificate, |logged| {
                (b64_field(&logged["signature"]), &logged["verifier"])
            })
        }
        (
            Content::Dsse {
                payload_type,
                payload,
                signatures,
            },
            (Some("intoto"), Some("0.0.2")),
        ) => {
            let content = &spec["content"];
            check_payload_hash(&content["payloadHash"], payload)?;
            let envelope = &content["envelope"];
            if envelope["payloadType"].as_str() != Some(payload_type.as_str()) {
                return mismatch("it logs another payload type");
            }
            check_signatures(&envelope["signatures"], signatures, certificate, |logged| {
                // intoto v0.0.2 keeps the signature base64 twice over.
                let sig = b64_field(&logged["sig"])
                    .and_then(|inner| STANDARD.decode(String::from_utf8(inner).ok()?.trim()).ok());
                (sig, &logged["publicKey"])
            })
        }
        _ => mismatch(&format!(
            "a {} {} entry does not log this kind of bundle content (hashedrekord 0.0.1 for a message signature; dsse 0.0.1 or intoto 0.0.2 for an envelope)",
            entry.kind, entry.version
        )),
    }
}

/// The logged signatures (`logged`, each read by `read` into its bytes
/// and its certificate field) are the bundle's, with its certificate.
fn check_signatures<'a>(
    logged: &'a Value,
    signatures: &[Vec<u8>],
    certificate: &[u8],
    read: impl Fn(&'a Value) -> (Option<Vec<u8>>, &'a Value),
) -> Result<()> {
    let mismatch = |reason: &str| {
        Err(Error::LogEntryMismatch {
            reason: reason.to_owned(),
        })
    };
    let logged = logged.as_array().map_or(&[][..], Vec::as_slice);
    if logged.len() != signatures.len() {
        return mismatch("it logs another number of signatures");
    }
    for (logged, signature) in logged.iter().zip(signatures) {
        let (sig, key) = read(logged);
        if sig.as_deref() != Some(signature.as_slice()) {
            return mismatch("it logs another signature");
        }
        if !same_certificate(key, certificate) {
            return mismatch("it logs another certificate");
        }
    }
    Ok(())
}

fn check_payload_hash(hash: &Value, payload: &[u8]) -> Result<()> {
    if hash["algorithm"].as_str() == Some("sha256")
        && hash["value"].as_str() == Some(hex(&Sha256::digest(payload)).as_str())
    {
        Ok(())
    } else {
        Err(Error::LogEntryMismatch {
            reason: "it logs another payload hash".to_owned(),
        })
    }
}

fn b64_field(value: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(value.as_str()?.trim()).ok()
}

/// Whether `value` is base64 of the PEM of `certificate` (DER).
fn same_certificate(value: &Value, certificate: &[u8]) -> bool {
    let Some(pem) = b64_field(value).and_then(|bytes| String::from_utf8(bytes).ok()) else {
        return false;
    };
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD
        .decode(body.trim())
        .is_ok_and(|der| der == certificate)
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
