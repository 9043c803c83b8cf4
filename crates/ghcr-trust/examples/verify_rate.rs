//! Keyed verifications per second: the cosign-made signature in the crate
//! doc verified `N` times (default 2,000) with `verify_payload`, the whole
//! decision (base64, DER, ECDSA P-256 over the payload, JSON, digest).
//!
//! `cargo run --release -p ghcr-trust --example verify_rate [N]`; a
//! candidate for `cargo xtask bench`'s table.

use std::time::Instant;

use ghcr_trust::{Policy, PublicKey, verify_payload};
use ghcr_types::Digest;

const PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----";
const PAYLOAD: &[u8] = br#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;
const SIGNATURE: &str = "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u32 = std::env::args().nth(1).map_or(Ok(2_000), |n| n.parse())?;
    let policy = Policy::keys([PublicKey::from_pem(PUB, "cosign.pub")?]);
    let image: Digest =
        "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b".parse()?;
    let started = Instant::now();
    for _ in 0..count {
        verify_payload(PAYLOAD, SIGNATURE, &image, &policy)?;
    }
    let elapsed = started.elapsed();
    println!(
        "{count} keyed verifications in {:.3} s: {:.0} per second, {:.1} µs each",
        elapsed.as_secs_f64(),
        f64::from(count) / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(count)
    );
    Ok(())
}
