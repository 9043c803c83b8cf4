//! Keyed verifications per second: the cosign-made signature in the crate
//! doc verified `N` times (default 2,000) with `verify_payload`, the whole
//! decision (base64, DER, ECDSA P-256 over the payload, JSON, digest);
//! then as many keyed attestations with `verify_envelope` (envelope JSON,
//! base64, PAE, ECDSA P-256, the in-toto statement and its subject), on
//! an envelope `cosign_sign.py attest` (PyCA cryptography) made; then
//! as many keyless bundles with `verify_bundle` (the real cosign bundle
//! in tests/data/sigstore: JSON, the Fulcio chain with P-384, the DSSE
//! signature, Rekor's SET and inclusion proof and checkpoint, the
//! identity), against the shipped public-good root.
//!
//! `cargo run --release -p ghcr-trust --example verify_rate [N]`; a
//! candidate for `cargo xtask bench`'s table.

use std::time::Instant;

use ghcr_trust::{
    IdentityPolicy, Policy, PublicKey, verify_bundle, verify_envelope, verify_payload,
};
use ghcr_types::Digest;

const PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----";
const PAYLOAD: &[u8] = br#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;
const SIGNATURE: &str = "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";

/// The attestation's key and envelope (tests/it/cosign_sign.py attest
/// IMAGE https://slsa.dev/provenance/v0.2).
const ATT_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuiEVNci7QW5cDw5uQGCiCzItARk0
+6Xhf6pUYW0HNX/aWtjNRHPiftyyH7CzqC6n3s46NzxLHYDs81MA8xhlJg==
-----END PUBLIC KEY-----";
const ENVELOPE: &[u8] = br#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YwLjEiLCAicHJlZGljYXRlVHlwZSI6ICJodHRwczovL3Nsc2EuZGV2L3Byb3ZlbmFuY2UvdjAuMiIsICJzdWJqZWN0IjogW3sibmFtZSI6ICJnaGNyLmlvL29jdG8vYXBwIiwgImRpZ2VzdCI6IHsic2hhMjU2IjogImYzY2ZjOWQwZGJmOTMxZDNkYjQ2ODVlYzY1OWI3YWM2OGUyYTU3ODIxOWRhNGFhZTY1NDI3ODg2ZTY0OWIwNmIifX1dLCAicHJlZGljYXRlIjogeyJidWlsZGVyIjogeyJpZCI6ICJjb3NpZ25fc2lnbi5weSJ9fX0=","signatures":[{"keyid":"","sig":"MEYCIQCRJqiaBjwkLBHXS+mIwFkSMQoA1FBCmIJDbvMuX/0gpgIhANHFqnbNxdMV597TsBYc/CCYWm6lQ24gEtxmhpDQ1qLE"}]}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u32 = std::env::args().nth(1).map_or(Ok(2_000), |n| n.parse())?;
    let policy = Policy::keys([PublicKey::from_pem(PUB, "cosign.pub")?]);
    let image: Digest =
        "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b".parse()?;
    let started = Instant::now();
    for _ in 0..count {
        verify_payload(PAYLOAD, SIGNATURE, &image, &policy)?;
    }
    report(count, "keyed verifications", started);
    let policy = Policy::keys([PublicKey::from_pem(ATT_PUB, "attest.pub")?]);
    let started = Instant::now();
    for _ in 0..count {
        verify_envelope(ENVELOPE, &image, &policy, None)?;
    }
    report(count, "keyed attestations", started);
    let bundle = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sigstore/cosign-sign-v03.sigstore.json"
    ))?;
    let subject: Digest =
        "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172".parse()?;
    let policy = Policy::identities([IdentityPolicy::new().owner("kubewarden")]);
    let started = Instant::now();
    for _ in 0..count {
        verify_bundle(&bundle, &subject, &policy, None)?;
    }
    report(count, "keyless bundles", started);
    Ok(())
}

fn report(count: u32, what: &str, started: Instant) {
    let elapsed = started.elapsed();
    println!(
        "{count} {what} in {:.3} s: {:.0} per second, {:.1} µs each",
        elapsed.as_secs_f64(),
        f64::from(count) / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(count)
    );
}
