//! Sigstore bundles (`application/vnd.dev.sigstore.bundle…`, versions 0.1
//! to 0.3), as GitHub's attest actions push them and the attestations API
//! returns them: the statement is in `dsseEnvelope`. A bundle holding a
//! message signature (a blob signature) states nothing and is skipped.

use ghcr_types::artifact_types::SIGSTORE_BUNDLE_PREFIX;
use serde_json::Value;

use super::dsse::{Statement, open_envelope};

/// The statement of a bundle; `Ok(None)` for a bundle without one.
pub(crate) fn statement(bundle: &Value) -> Result<Option<Statement>, String> {
    let media_type = bundle
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !media_type.starts_with(SIGSTORE_BUNDLE_PREFIX) {
        return Err(format!(
            "`{media_type}` is not a Sigstore bundle media type"
        ));
    }
    if let Some(envelope) = bundle.get("dsseEnvelope") {
        return open_envelope(envelope).map(Some);
    }
    if bundle.get("messageSignature").is_some() {
        return Ok(None);
    }
    Err("the Sigstore bundle has neither dsseEnvelope nor messageSignature".into())
}

/// Reads a bundle's bytes.
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Option<Statement>, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| format!("the Sigstore bundle is not JSON: {error}"))?;
    statement(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    #[test]
    fn bundles_of_each_version() {
        let statement = json!({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "p", "predicate": {}});
        let envelope = json!({
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
            "signatures": [],
        });
        for media_type in [
            "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "application/vnd.dev.sigstore.bundle+json;version=0.2",
            "application/vnd.dev.sigstore.bundle.v0.3+json",
        ] {
            let bundle = json!({"mediaType": media_type, "verificationMaterial": {}, "dsseEnvelope": envelope});
            let found = self::statement(&bundle).unwrap().unwrap();
            assert_eq!(found.predicate_type, "p", "{media_type}");
        }
        let blob_signature = json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "messageSignature": {}});
        assert_eq!(self::statement(&blob_signature).unwrap(), None);
        assert!(self::statement(&json!({"mediaType": "application/json"})).is_err());
        assert!(
            self::statement(&json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}))
                .is_err()
        );
        assert!(from_bytes(b"{").is_err());
    }
}
