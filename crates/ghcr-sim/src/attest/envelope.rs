//! The wrappers attestations travel in: an in-toto Statement inside a DSSE
//! envelope (cosign's `.att` layer) or inside a Sigstore bundle (GitHub's
//! attest actions), plus the SPDX document and cosign signature payload.
//!
//! Signatures, certificates and log entries here are placeholders of the
//! right shape: nothing they carry is verifiable, and readers must report
//! them as unverified. Signed envelopes come from `signing.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_types::Digest;
use serde_json::{Value, json};

/// The in-toto payload type of a DSSE envelope.
pub(crate) const IN_TOTO_PAYLOAD: &str = "application/vnd.in-toto+json";

/// An in-toto Statement about `subject` (`_type` v0.1 as cosign writes it,
/// v1 as the attest actions do).
pub(crate) fn statement(
    statement_type: &str,
    name: &str,
    subject: &Digest,
    predicate_type: &str,
    predicate: &Value,
) -> Value {
    json!({
        "_type": statement_type,
        "subject": [{"name": name, "digest": {subject.algorithm_name(): subject.encoded()}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
}

/// A DSSE envelope around a statement.
pub(crate) fn dsse(statement: &Value) -> Value {
    json!({
        "payloadType": IN_TOTO_PAYLOAD,
        "payload": STANDARD.encode(statement.to_string()),
        "signatures": [{
            "keyid": "",
            "sig": STANDARD.encode(format!("ghcr-sim placeholder signature over {}", Digest::sha256_of(statement.to_string().as_bytes()))),
        }],
    })
}

/// A Sigstore bundle v0.3 carrying a DSSE envelope.
pub(crate) fn sigstore_bundle(envelope: &Value, integrated_time: i64) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": STANDARD.encode("ghcr-sim placeholder certificate")},
            "tlogEntries": [{
                "logIndex": "123456789",
                "logId": {"keyId": STANDARD.encode("ghcr-sim placeholder log id")},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": integrated_time.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": STANDARD.encode("ghcr-sim placeholder timestamp")},
                "canonicalizedBody": STANDARD.encode("{}"),
            }],
            "timestampVerificationData": {},
        },
        "dsseEnvelope": envelope,
    })
}

/// A Sigstore bundle v0.3 carrying a DSSE envelope signed with a key:
/// its verification material is the key's hint, no certificate.
pub(crate) fn keyed_bundle(envelope: &Value, hint: &str) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": {"hint": hint},
            "tlogEntries": [],
            "timestampVerificationData": {},
        },
        "dsseEnvelope": envelope,
    })
}

/// A small SPDX 2.3 document for the image's packages.
pub(crate) fn spdx_document(name: &str, created: &str) -> Value {
    let packages: Vec<Value> = super::SAMPLE_VULNERABILITIES
        .iter()
        .enumerate()
        .map(|(index, v)| {
            json!({
                "name": v.package,
                "SPDXID": format!("SPDXRef-Package-{index}"),
                "versionInfo": v.installed,
                "downloadLocation": "NOASSERTION",
                "licenseConcluded": "NOASSERTION",
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": format!("pkg:deb/debian/{}@{}?distro=debian-12.5", v.package, v.installed),
                }],
            })
        })
        .collect();
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!("https://ghcr-sim.invalid/spdx/{}", Digest::sha256_of(name.as_bytes()).encoded()),
        "creationInfo": {"created": created, "creators": [format!("Tool: trivy-{}", super::reports::TRIVY_VERSION)]},
        "packages": packages,
    })
}

/// cosign's simple-signing payload for an image digest.
pub(crate) fn simple_signing(reference: &str, subject: &Digest) -> Value {
    json!({
        "critical": {
            "identity": {"docker-reference": reference},
            "image": {"docker-manifest-digest": subject.as_str()},
            "type": "cosign container image signature",
        },
        "optional": null,
    })
}
