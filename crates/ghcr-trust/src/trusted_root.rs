//! Sigstore's trusted root (`trusted_root.json`, the TrustedRoot
//! protobuf's JSON): the Fulcio CAs that issue signing certificates and
//! the Rekor log keys that sign entry timestamps, each with the window
//! it was valid for. The public-good instance's root ships in the crate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::Certificate;
use x509_cert::der::Decode as _;

use crate::ec::EcKey;
use crate::error::{Error, Result};

/// The public-good Sigstore instance's trusted root (Fulcio at
/// fulcio.sigstore.dev, Rekor at rekor.sigstore.dev), as the PyPI
/// `sigstore` 4.5.1 wheel ships it; see `src/roots/SOURCE.md`.
pub const PUBLIC_GOOD_TRUSTED_ROOT: &str = include_str!("roots/public-good.trusted_root.json");

/// The CAs and logs a keyless signature is verified against.
#[derive(Clone, Debug, Default)]
pub struct TrustedRoot {
    pub(crate) authorities: Vec<Authority>,
    pub(crate) logs: Vec<LogKey>,
    /// Certificate Transparency logs (their SCTs are in Fulcio's
    /// certificates).
    pub(crate) ct_logs: Vec<LogKey>,
    /// RFC 3161 timestamp authorities: chain leaf first.
    pub(crate) timestamp_authorities: Vec<Authority>,
}

/// A Fulcio CA: its chain, issuing certificate first, root last.
#[derive(Clone, Debug)]
pub(crate) struct Authority {
    pub(crate) uri: String,
    pub(crate) chain: Vec<Certificate>,
    pub(crate) valid: Window,
}

/// A transparency log's key.
#[derive(Clone, Debug)]
pub(crate) struct LogKey {
    pub(crate) base_url: String,
    /// `logId.keyId`: SHA-256 of the key's DER for Rekor v1 logs.
    pub(crate) id: Vec<u8>,
    /// `None` for a key type not supported (Ed25519 Rekor v2 logs).
    pub(crate) key: Option<EcKey>,
    pub(crate) valid: Window,
}

/// A validity window, in Unix seconds; `end` open when `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: i64,
    pub(crate) end: Option<i64>,
}

impl Window {
    pub(crate) fn contains(self, at: i64) -> bool {
        self.start <= at && self.end.is_none_or(|end| at <= end)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    media_type: String,
    #[serde(default)]
    certificate_authorities: Vec<WireAuthority>,
    #[serde(default)]
    tlogs: Vec<WireLog>,
    #[serde(default)]
    ctlogs: Vec<WireLog>,
    #[serde(default)]
    timestamp_authorities: Vec<WireAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: WireChain,
    valid_for: WireWindow,
}

#[derive(Deserialize)]
struct WireChain {
    certificates: Vec<WireRaw>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireRaw {
    pub(crate) raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLog {
    #[serde(default)]
    base_url: String,
    public_key: WireKey,
    log_id: WireLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireKey {
    raw_bytes: String,
    valid_for: WireWindow,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct WireWindow {
    start: String,
    #[serde(default)]
    end: Option<String>,
}

/// The media type prefix of a trusted root.
const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot";

impl TrustedRoot {
    /// The public-good instance's root, shipped in the crate.
    pub fn public_good() -> Self {
        // The shipped file is tested to parse (`the_shipped_root_parses`).
        Self::from_json(PUBLIC_GOOD_TRUSTED_ROOT.as_bytes()).unwrap_or_default()
    }

    /// Reads a `trusted_root.json`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTrustedRoot`] when it is not a trusted root, a
    /// certificate or key does not decode, or a date is not RFC 3339.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidTrustedRoot { reason };
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|error| invalid(format!("JSON: {error}")))?;
        if !wire.media_type.starts_with(MEDIA_TYPE) {
            return Err(invalid(format!(
                "its mediaType is `{}`, not `{MEDIA_TYPE}+json;version=0.1`",
                wire.media_type
            )));
        }
        let authorities = authorities_of(wire.certificate_authorities, "CA").map_err(invalid)?;
        let timestamp_authorities =
            authorities_of(wire.timestamp_authorities, "timestamp authority").map_err(invalid)?;
        let logs = log_keys(wire.tlogs, "log").map_err(invalid)?;
        let ct_logs = log_keys(wire.ctlogs, "CT log").map_err(invalid)?;
        Ok(Self {
            authorities,
            logs,
            ct_logs,
            timestamp_authorities,
        })
    }

    /// How many Fulcio CAs it names.
    pub fn certificate_authorities(&self) -> usize {
        self.authorities.len()
    }

    /// How many transparency logs it names (those of a key type not
    /// supported, Ed25519, included).
    pub fn transparency_logs(&self) -> usize {
        self.logs.len()
    }

    /// How many RFC 3161 timestamp authorities it names.
    pub fn timestamp_authorities(&self) -> usize {
        self.timestamp_authorities.len()
    }
}

/// The chains of `wire`'s authorities; `what` names them in errors.
fn authorities_of(wire: Vec<WireAuthority>, what: &str) -> Result<Vec<Authority>, String> {
    let mut authorities = Vec::new();
    for (n, ca) in wire.into_iter().enumerate() {
        let mut chain = Vec::new();
        for raw in &ca.cert_chain.certificates {
            let der = decode(&raw.raw_bytes)
                .map_err(|error| format!("{what} {n}: certificate base64: {error}"))?;
            let cert = Certificate::from_der(&der)
                .map_err(|error| format!("{what} {n}: certificate DER: {error}"))?;
            chain.push(cert);
        }
        if chain.is_empty() {
            return Err(format!("{what} {n} has no certificates"));
        }
        let valid = window(&ca.valid_for).map_err(|e| format!("{what} {n}: {e}"))?;
        authorities.push(Authority {
            uri: ca.uri,
            chain,
            valid,
        });
    }
    Ok(authorities)
}

/// The keys of `wire`'s logs; `what` names them in errors.
fn log_keys(wire: Vec<WireLog>, what: &str) -> Result<Vec<LogKey>, String> {
    let mut logs = Vec::new();
    for (n, log) in wire.into_iter().enumerate() {
        let der = decode(&log.public_key.raw_bytes)
            .map_err(|error| format!("{what} {n}: key base64: {error}"))?;
        let id = decode(&log.log_id.key_id)
            .map_err(|error| format!("{what} {n}: logId base64: {error}"))?;
        let key = EcKey::from_spki_der(&der);
        if key.is_some() && id != Sha256::digest(&der).as_slice() {
            return Err(format!(
                "{what} {n}: its logId is not the SHA-256 of its key"
            ));
        }
        let valid = window(&log.public_key.valid_for).map_err(|e| format!("{what} {n}: {e}"))?;
        logs.push(LogKey {
            base_url: log.base_url,
            id,
            key,
            valid,
        });
    }
    Ok(logs)
}

pub(crate) fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text.trim())
}

fn window(wire: &WireWindow) -> Result<Window, String> {
    let parse = |text: &str| {
        OffsetDateTime::parse(text, &Rfc3339)
            .map(OffsetDateTime::unix_timestamp)
            .map_err(|error| format!("`{text}` is not an RFC 3339 date: {error}"))
    };
    Ok(Window {
        start: parse(&wire.start)?,
        end: wire.end.as_deref().map(parse).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_root_parses() {
        let root = TrustedRoot::from_json(PUBLIC_GOOD_TRUSTED_ROOT.as_bytes()).unwrap();
        assert_eq!(root.certificate_authorities(), 2);
        assert_eq!(root.transparency_logs(), 2);
        // rekor.sigstore.dev's ECDSA key; the Rekor v2 log's Ed25519 key
        // is kept but not usable yet.
        assert!(root.logs[0].key.is_some());
        assert!(root.logs[1].key.is_none());
        assert_eq!(root.authorities[1].chain.len(), 2);
    }

    #[test]
    fn bad_roots_are_refused() {
        for input in [
            "",
            "[]",
            r#"{"mediaType":"application/json"}"#,
            r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[{"certChain":{"certificates":[]},"validFor":{"start":"2021-01-01T00:00:00Z"}}]}"#,
            r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"AAAA"}]},"validFor":{"start":"2021-01-01T00:00:00Z"}}]}"#,
            r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"publicKey":{"rawBytes":"!!","validFor":{"start":"2021"}},"logId":{"keyId":""}}]}"#,
        ] {
            let error = TrustedRoot::from_json(input.as_bytes()).unwrap_err();
            assert!(
                matches!(error, Error::InvalidTrustedRoot { .. }),
                "{input}: {error}"
            );
        }
    }
}
