//! An in-process test Sigstore instance, as `sigstore_make.py` (ghcr-trust's
//! test generator) builds one with PyCA cryptography: a Fulcio-like CA (a
//! P-384 root and a P-384 intermediate) and a Rekor log key (P-256), made
//! once per process with rcgen, whose keys (ring underneath) also sign the
//! log's entries.
//!
//! [`keyless_world`] is that instance; its [`KeylessWorld::trusted_root_json`]
//! is what a verifier is given (`--trusted-root`). It names no CT log, so
//! verifiers skip the embedded-SCT check (they check one only when the
//! root names CT logs) and the leaf certificates carry none.
//! [`KeylessWorld::bundle`] signs a statement as `actions/attest` does in a
//! GitHub Actions run of `octo/app`'s release workflow: a fresh P-256 leaf
//! certificate with Fulcio's extensions, a DSSE envelope signed over the
//! PAE with the leaf's key, and a Rekor `dsse` 0.0.1 entry with a signed
//! entry timestamp and an inclusion proof to a signed checkpoint, in a
//! Sigstore bundle v0.3.

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    PKCS_ECDSA_P384_SHA384, PublicKeyData as _, SanType, SigningKey as _,
};
use ring::digest::{SHA256, digest};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::signing::pae;
use crate::error::{Error, Result};

/// The signing workflow the bundles' certificates name (SAN and build
/// signer URI).
pub const KEYLESS_IDENTITY: &str =
    "https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main";
/// The OIDC issuer the certificates name: GitHub Actions'.
pub const KEYLESS_ISSUER: &str = "https://token.actions.githubusercontent.com";

const SOURCE_REPOSITORY: &str = "https://github.com/octo/app";
const SOURCE_OWNER: &str = "https://github.com/octo";
const SOURCE_REF: &str = "refs/heads/main";
const TRIGGER: &str = "push";
const FULCIO_URI: &str = "https://fulcio.sigstore.test";
const REKOR_URL: &str = "https://rekor.sigstore.test";
const REKOR_ORIGIN: &str = "rekor.sigstore.test - 1";
/// The windows of the CA and log, wide enough for any fake clock.
const VALID_FROM: &str = "2000-01-01T00:00:00Z";
/// The leaf's validity before and after the signing time, as Fulcio's
/// ten-minute certificates.
const LEAF_BEFORE: i64 = 60;
const LEAF_AFTER: i64 = 540;

/// Fulcio's extensions: 1.3.6.1.4.1.57264.1.N (sigstore/fulcio
/// docs/oid-info.md).
fn fulcio(n: u64) -> Vec<u64> {
    vec![1, 3, 6, 1, 4, 1, 57264, 1, n]
}

/// A test Sigstore instance: its CA, its log and their keys.
pub struct KeylessWorld {
    intermediate: Issuer<'static, KeyPair>,
    rekor: KeyPair,
    rekor_id: [u8; 32],
    trusted_root: String,
}

impl fmt::Debug for KeylessWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private keys stay out.
        f.debug_struct("KeylessWorld")
            .field("fulcio", &FULCIO_URI)
            .field("rekor", &REKOR_URL)
            .finish_non_exhaustive()
    }
}

fn world_error(reason: impl fmt::Display) -> Error {
    Error::InvalidSeed {
        what: "the test Sigstore instance".to_owned(),
        reason: reason.to_string(),
        source: None,
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// A DER UTF8String, as Fulcio encodes its newer extensions.
fn der_utf8(text: &str) -> Vec<u8> {
    let data = text.as_bytes();
    let mut out = vec![0x0c];
    match u8::try_from(data.len()) {
        Ok(n) if n < 0x80 => out.push(n),
        Ok(n) => out.extend([0x81, n]),
        // The texts are this module's constants, far below 64 KiB.
        Err(_) => {
            let [high, low] = u16::try_from(data.len()).unwrap_or(u16::MAX).to_be_bytes();
            out.extend([0x82, high, low]);
        }
    }
    out.extend_from_slice(data);
    out
}

fn ca_params(common_name: &str, path_length: u8) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "sigstore.test");
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_length));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    params.use_authority_key_identifier_extension = true;
    params
}

impl KeylessWorld {
    /// Makes a new instance: keys, CA certificates, trusted root.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSeed`] when a key or certificate could not be made.
    pub fn generate() -> Result<Self> {
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(world_error)?;
        let root_params = ca_params("sigstore-test-root", 1);
        let root = root_params.self_signed(&root_key).map_err(world_error)?;
        let root_issuer = Issuer::new(root_params, root_key);
        let intermediate_key =
            KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(world_error)?;
        let intermediate_params = ca_params("sigstore-test-intermediate", 0);
        let intermediate = intermediate_params
            .signed_by(&intermediate_key, &root_issuer)
            .map_err(world_error)?;
        let rekor = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(world_error)?;
        let rekor_spki = rekor.subject_public_key_info();
        let rekor_id = sha256(&rekor_spki);
        let trusted_root = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": REKOR_URL,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": STANDARD.encode(&rekor_spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": VALID_FROM},
                },
                "logId": {"keyId": STANDARD.encode(rekor_id)},
            }],
            "certificateAuthorities": [{
                "subject": {"organization": "sigstore.test", "commonName": "sigstore-test-root"},
                "uri": FULCIO_URI,
                "certChain": {"certificates": [
                    {"rawBytes": STANDARD.encode(intermediate.der())},
                    {"rawBytes": STANDARD.encode(root.der())},
                ]},
                "validFor": {"start": VALID_FROM},
            }],
            // No CT log: verifiers then skip the embedded-SCT check.
            "ctlogs": [],
            "timestampAuthorities": [],
        });
        Ok(Self {
            intermediate: Issuer::new(intermediate_params, intermediate_key),
            rekor,
            rekor_id,
            trusted_root: serde_json::to_string_pretty(&trusted_root).map_err(world_error)?,
        })
    }

    /// The instance's trusted root (Sigstore's TrustedRoot JSON): its CA
    /// (intermediate, root) and its log; no CT log, no timestamp authority.
    pub fn trusted_root_json(&self) -> &str {
        &self.trusted_root
    }

    /// A Sigstore bundle v0.3 of `statement` (its exact bytes), signed at
    /// `signed_at` by a GitHub Actions run of [`KEYLESS_IDENTITY`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSeed`] when signing fails.
    pub fn bundle(&self, statement: &[u8], signed_at: OffsetDateTime) -> Result<Value> {
        let integrated_time = signed_at.unix_timestamp();
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(world_error)?;
        let leaf = self.leaf_certificate(&leaf_key, signed_at)?;
        let signature = leaf_key.sign(&pae(statement)).map_err(world_error)?;
        let envelope = json!({
            "payloadType": super::envelope::IN_TOTO_PAYLOAD,
            "payload": STANDARD.encode(statement),
            "signatures": [{"keyid": "", "sig": STANDARD.encode(&signature)}],
        });
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hex(&sha256(envelope.to_string().as_bytes()))},
                "payloadHash": {"algorithm": "sha256", "value": hex(&sha256(statement))},
                "signatures": [{
                    "signature": STANDARD.encode(&signature),
                    "verifier": STANDARD.encode(pem("CERTIFICATE", &leaf)),
                }],
            },
        })
        .to_string();
        let entry = self.log_entry(body.as_bytes(), integrated_time)?;
        Ok(json!({
            "mediaType": super::SIGSTORE_BUNDLE_V03,
            "verificationMaterial": {
                "certificate": {"rawBytes": STANDARD.encode(&leaf)},
                "tlogEntries": [entry],
            },
            "dsseEnvelope": envelope,
        }))
    }

    /// A ten-minute leaf certificate for `key` as Fulcio issues to a
    /// GitHub Actions run: URI SAN, code signing, Fulcio's extensions.
    fn leaf_certificate(&self, key: &KeyPair, signed_at: OffsetDateTime) -> Result<Vec<u8>> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.not_before = signed_at - time::Duration::seconds(LEAF_BEFORE);
        params.not_after = signed_at + time::Duration::seconds(LEAF_AFTER);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        params.subject_alt_names = vec![SanType::URI(
            KEYLESS_IDENTITY.try_into().map_err(world_error)?,
        )];
        // .1 is the issuer's raw bytes (Fulcio's legacy form); the rest
        // are DER UTF8Strings.
        let mut extensions = vec![CustomExtension::from_oid_content(
            &fulcio(1),
            KEYLESS_ISSUER.as_bytes().to_vec(),
        )];
        for (n, value) in [
            (8, KEYLESS_ISSUER),
            (9, KEYLESS_IDENTITY),
            (11, "github-hosted"),
            (12, SOURCE_REPOSITORY),
            (14, SOURCE_REF),
            (16, SOURCE_OWNER),
            (20, TRIGGER),
        ] {
            extensions.push(CustomExtension::from_oid_content(
                &fulcio(n),
                der_utf8(value),
            ));
        }
        params.custom_extensions = extensions;
        let leaf = params
            .signed_by(key, &self.intermediate)
            .map_err(world_error)?;
        Ok(leaf.der().to_vec())
    }

    /// The Rekor entry of `body`: a signed entry timestamp and an
    /// inclusion proof (the entry is leaf 1 of a two-leaf tree) to a
    /// checkpoint signed by the log.
    fn log_entry(&self, body: &[u8], integrated_time: i64) -> Result<Value> {
        let log_index = 1u64;
        let encoded_body = STANDARD.encode(body);
        // Rekor's SET: over the canonical JSON of body, integrated time,
        // log ID (hex) and index.
        let set_payload = format!(
            r#"{{"body":"{encoded_body}","integratedTime":{integrated_time},"logID":"{}","logIndex":{log_index}}}"#,
            hex(&self.rekor_id)
        );
        let set = self
            .rekor
            .sign(set_payload.as_bytes())
            .map_err(world_error)?;
        let leaf_hash = |data: &[u8]| {
            let mut input = vec![0u8];
            input.extend_from_slice(data);
            sha256(&input)
        };
        let sibling = leaf_hash(b"an earlier entry");
        let mut pair = vec![1u8];
        pair.extend_from_slice(&sibling);
        pair.extend_from_slice(&leaf_hash(body));
        let root = sha256(&pair);
        let note = format!("{REKOR_ORIGIN}\n2\n{}\n", STANDARD.encode(root));
        let note_signature = self.rekor.sign(note.as_bytes()).map_err(world_error)?;
        let mut hinted = self.rekor_id[..4].to_vec();
        hinted.extend_from_slice(&note_signature);
        let checkpoint = format!(
            "{note}\n\u{2014} {REKOR_ORIGIN} {}\n",
            STANDARD.encode(hinted)
        );
        Ok(json!({
            "logIndex": log_index.to_string(),
            "logId": {"keyId": STANDARD.encode(self.rekor_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": STANDARD.encode(&set)},
            "inclusionProof": {
                "logIndex": log_index.to_string(),
                "rootHash": STANDARD.encode(root),
                "treeSize": "2",
                "hashes": [STANDARD.encode(sibling)],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": encoded_body,
        }))
    }
}

/// The test Sigstore instance the fake signs keyless bundles with
/// ([`super::Envelope::KeylessBundle`]), made once per process: tests and
/// the demo give its [`KeylessWorld::trusted_root_json`] to a verifier.
///
/// # Errors
///
/// [`Error::InvalidSeed`] when it could not be made.
pub fn keyless_world() -> Result<&'static KeylessWorld> {
    static WORLD: OnceLock<std::result::Result<KeylessWorld, String>> = OnceLock::new();
    WORLD
        .get_or_init(|| KeylessWorld::generate().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(world_error)
}
