//! In-toto statements, bare or inside a DSSE envelope (cosign's `.att`
//! layers and the envelope inside Sigstore bundles). Signatures are not
//! checked here: reports say `signature_verified: false`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

/// The in-toto payload type of a DSSE envelope.
const IN_TOTO_PAYLOAD: &str = "application/vnd.in-toto+json";

/// What an attestation states about which subjects.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Statement {
    /// The predicate type, as written.
    pub(crate) predicate_type: String,
    /// The predicate.
    pub(crate) predicate: Value,
    /// The subjects' digests, as `alg:hex`.
    pub(crate) subjects: Vec<String>,
}

/// Reads an in-toto statement.
pub(crate) fn statement(bytes: &[u8]) -> Result<Statement, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| format!("the statement is not JSON: {error}"))?;
    statement_from_value(&value)
}

fn statement_from_value(value: &Value) -> Result<Statement, String> {
    let predicate_type = value
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or("the statement has no predicateType")?
        .to_owned();
    let subjects = value
        .get("subject")
        .and_then(Value::as_array)
        .map(|subjects| {
            subjects
                .iter()
                .filter_map(|subject| subject.get("digest").and_then(Value::as_object))
                .flat_map(|digests| {
                    digests
                        .iter()
                        .filter_map(|(alg, hex)| Some(format!("{alg}:{}", hex.as_str()?)))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Statement {
        predicate_type,
        predicate: value.get("predicate").cloned().unwrap_or(Value::Null),
        subjects,
    })
}

/// Opens a DSSE envelope (`payloadType`, base64 `payload`, `signatures`).
pub(crate) fn open_envelope(envelope: &Value) -> Result<Statement, String> {
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or("the DSSE envelope has no payloadType")?;
    if !payload_type.eq_ignore_ascii_case(IN_TOTO_PAYLOAD) {
        return Err(format!(
            "the DSSE envelope carries {payload_type}, not an in-toto statement"
        ));
    }
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .ok_or("the DSSE envelope has no payload")?;
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(payload.trim()).ok())
        .ok_or("the DSSE payload is not base64")?;
    statement(&bytes)
}

/// Reads an envelope's bytes.
pub(crate) fn envelope(bytes: &[u8]) -> Result<Statement, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| format!("the DSSE envelope is not JSON: {error}"))?;
    open_envelope(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wrap(statement: &Value, payload_type: &str) -> Value {
        json!({"payloadType": payload_type, "payload": STANDARD.encode(statement.to_string()), "signatures": [{"keyid": "", "sig": "AAAA"}]})
    }

    #[test]
    fn envelopes_open_to_statements() {
        let inner = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": "ghcr.io/o/a", "digest": {"sha256": "ab"}}],
            "predicateType": "https://in-toto.io/attestation/vulns/v0.1",
            "predicate": {"scanner": {}},
        });
        let opened = open_envelope(&wrap(&inner, IN_TOTO_PAYLOAD)).unwrap();
        assert_eq!(
            opened.predicate_type,
            "https://in-toto.io/attestation/vulns/v0.1"
        );
        assert_eq!(opened.subjects, ["sha256:ab"]);
        assert_eq!(opened.predicate, json!({"scanner": {}}));
        // URL-safe base64 without padding is accepted too.
        let url_safe = json!({"payloadType": IN_TOTO_PAYLOAD, "payload": URL_SAFE_NO_PAD.encode(inner.to_string())});
        assert_eq!(open_envelope(&url_safe).unwrap(), opened);
    }

    #[test]
    fn malformed_envelopes_are_errors() {
        let table = [
            (json!({"payload": "e30="}), "no payloadType"),
            (
                json!({"payloadType": "text/plain", "payload": "e30="}),
                "not an in-toto statement",
            ),
            (json!({"payloadType": IN_TOTO_PAYLOAD}), "no payload"),
            (
                json!({"payloadType": IN_TOTO_PAYLOAD, "payload": "***"}),
                "not base64",
            ),
            (
                json!({"payloadType": IN_TOTO_PAYLOAD, "payload": STANDARD.encode("[")}),
                "not JSON",
            ),
            (
                json!({"payloadType": IN_TOTO_PAYLOAD, "payload": STANDARD.encode("{}")}),
                "no predicateType",
            ),
        ];
        for (envelope, expected) in table {
            let error = open_envelope(&envelope).unwrap_err();
            assert!(error.contains(expected), "{envelope}: {error}");
        }
        assert!(envelope(b"not json").unwrap_err().contains("not JSON"));
    }
}
