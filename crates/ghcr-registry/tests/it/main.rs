//! Integration tests of ghcr-registry: a real docker-registry (distribution
//! 2.8) started per test, with and without token auth, skopeo for layout
//! interoperability (oras-py for artifacts), and in-test servers that misbehave on purpose.

mod archives;
mod artifacts;
mod blobs;
mod faults;
mod ghcr;
mod images;
mod interop;
mod limits;
mod manifests;
mod oras;
mod origins;
mod profiles;
mod pulls;
mod referrers;
mod replay;
mod storms;
mod support;
mod sync;
mod sync_ghcr;
mod tags;
mod trust;
mod uploads;
