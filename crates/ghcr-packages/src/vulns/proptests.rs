//! Fuzz-style property tests: attestations come from registries and
//! GitHub, so any bytes, any JSON of roughly the right shape, in any
//! envelope, give a report or an error, never a panic; and under a policy
//! nothing unsigned verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::read::parse_vulnerability_attestation;
use super::verify::{Wrapping, verify_found};

/// A policy of the fake's key: nothing generated here is signed by it.
fn policy() -> ghcr_trust::Policy {
    let pem = ghcr_sim::attest::attestation_key()
        .map(|key| key.public_key_pem().to_owned())
        .unwrap_or_default();
    ghcr_trust::Policy::keys(ghcr_trust::PublicKey::from_pem(&pem, "fake.pub").ok())
}

/// Keys the envelope, predicate and scan readers look for.
const KEYS: [&str; 44] = [
    "predicateType",
    "predicate",
    "subject",
    "digest",
    "sha256",
    "scanner",
    "scanners",
    "result",
    "uri",
    "version",
    "db",
    "metadata",
    "scanFinishedOn",
    "SchemaVersion",
    "Results",
    "Target",
    "Vulnerabilities",
    "VulnerabilityID",
    "PkgName",
    "InstalledVersion",
    "FixedVersion",
    "Severity",
    "CVSS",
    "runs",
    "tool",
    "driver",
    "rules",
    "results",
    "ruleId",
    "ruleIndex",
    "level",
    "properties",
    "tags",
    "locations",
    "id",
    "severity",
    "method",
    "score",
    "fixedVersion",
    "matches",
    "payload",
    "payloadType",
    "dsseEnvelope",
    "mediaType",
];

/// Strings that mean something to the readers, and some that do not.
const WORDS: [&str; 14] = [
    "https://cosign.sigstore.dev/attestation/vuln/v1",
    "cosign.sigstore.dev/attestation/vuln/v1",
    "https://in-toto.io/attestation/vulns/v0.1",
    "application/vnd.in-toto+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "CRITICAL",
    "high",
    "error",
    "9.8",
    "2024-01-01T00:00:00Z",
    "pkg:github/aquasecurity/trivy@v0.50.1",
    "b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344",
    "",
    "\u{0}é\u{202e}",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(&WORDS[..]).prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..6).prop_map(
                |members| {
                    Value::Object(
                        members
                            .into_iter()
                            .map(|(key, value)| (key.to_owned(), value))
                            .collect::<Map<_, _>>(),
                    )
                }
            ),
        ]
    })
}

/// Some of `known`'s fields with fuzzed values and, mostly, an identifier
/// under `id_key`; or any value at all.
fn entry(known: &'static [&'static str], id_key: &'static str) -> impl Strategy<Value = Value> {
    let fields = prop::collection::vec((prop::sample::select(known), json_value()), 0..6).prop_map(
        |fields| {
            Value::Object(
                fields
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect(),
            )
        },
    );
    let id = prop::sample::select(&["CVE-2024-1", "GHSA-x", ""][..]);
    prop_oneof![
        4 => (fields, id).prop_map(move |(mut object, id)| {
            object[id_key] = Value::from(id);
            object
        }),
        1 => json_value(),
    ]
}

fn entries(
    known: &'static [&'static str],
    id_key: &'static str,
) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(entry(known, id_key), 0..4)
}

const TRIVY: [&str; 8] = [
    "VulnerabilityID",
    "Severity",
    "PkgName",
    "InstalledVersion",
    "FixedVersion",
    "PrimaryURL",
    "References",
    "Title",
];
const SARIF_RULE: [&str; 5] = [
    "id",
    "properties",
    "defaultConfiguration",
    "shortDescription",
    "helpUri",
];
const SARIF_RESULT: [&str; 5] = ["ruleId", "ruleIndex", "level", "message", "locations"];
const IN_TOTO: [&str; 6] = [
    "id",
    "severity",
    "annotations",
    "fixedVersion",
    "package",
    "purl",
];

/// A predicate: fuzzed throughout, or the skeleton of a cosign Trivy,
/// cosign SARIF or in-toto scan with fuzzed findings.
fn predicate() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value(),
        (entries(&TRIVY, "VulnerabilityID"), json_value()).prop_map(|(vulnerabilities, target)| json!({
            "scanner": {"uri": WORDS[10], "result": {"SchemaVersion": 2, "Results": [
                {"Target": target, "Vulnerabilities": vulnerabilities}
            ]}},
        })),
        (entries(&SARIF_RULE, "id"), entries(&SARIF_RESULT, "ruleId")).prop_map(|(rules, results)| json!({
            "scanner": {"result": {"runs": [{"tool": {"driver": {"name": "Trivy", "rules": rules}}, "results": results}]}},
        })),
        (entries(&IN_TOTO, "id"), json_value()).prop_map(|(result, metadata)| json!({
            "scanner": {"uri": WORDS[10], "result": result}, "metadata": metadata,
        })),
    ]
}

/// A statement with a known predicate type and a fuzzed predicate.
fn statement() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&WORDS[..3]),
        predicate(),
        prop::option::weighted(0.15, json_value()),
    )
        .prop_map(|(predicate_type, predicate, subject)| {
            json!({
                "_type": "https://in-toto.io/Statement/v1",
                "subject": subject.unwrap_or_else(|| json!([{"digest": {"sha256": WORDS[11]}}])),
                "predicateType": predicate_type,
                "predicate": predicate,
            })
        })
}

/// The statement bare, in a DSSE envelope, or in a Sigstore bundle.
fn attestation() -> impl Strategy<Value = Vec<u8>> {
    (statement(), 0..3u8).prop_map(|(statement, wrapping)| {
        let envelope = || {
            json!({
                "payloadType": WORDS[3],
                "payload": STANDARD.encode(statement.to_string()),
                "signatures": [],
            })
        };
        let value = match wrapping {
            0 => statement.clone(),
            1 => envelope(),
            _ => json!({"mediaType": WORDS[4], "verificationMaterial": {}, "dsseEnvelope": envelope()}),
        };
        value.to_string().into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_bytes_are_a_report_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_vulnerability_attestation(&bytes);
    }

    #[test]
    fn nothing_unsigned_verifies_and_nothing_panics(
        bytes in prop_oneof![attestation(), prop::collection::vec(any::<u8>(), 0..256)],
    ) {
        let policy = policy();
        let digest = ghcr_types::Digest::sha256_of(b"image");
        for wrapping in [Wrapping::Envelope, Wrapping::Bundle, Wrapping::Statement] {
            prop_assert!(verify_found(wrapping, &bytes, &digest, &policy).is_err());
        }
    }

    #[test]
    fn any_scan_of_the_right_shape_is_a_report_or_an_error(bytes in attestation()) {
        if let Ok(Some(report)) = parse_vulnerability_attestation(&bytes) {
            prop_assert!(!report.source.signature_verified);
            prop_assert!(!report.source.format.is_empty());
        }
    }
}
