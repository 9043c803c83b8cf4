//! Integration tests of ghcr-sim: the fake driven with raw HTTP (no client
//! of ours), hostile input, secrets kept out of Debug, record/replay, the Packages API and the attestations API
//! against GitHub's schemas, attestations, faults, the `ghcr-fake` binary with skopeo, and the replay
//! of every cassette in `fixtures/`.

mod api_limits;
mod attest;
mod attestations_api;
mod faults;
mod hostile;
mod keyless;
mod packages_api;
mod quirks;
mod recording;
mod registry;
mod replay;
mod secrets;
mod skopeo;
mod support;
