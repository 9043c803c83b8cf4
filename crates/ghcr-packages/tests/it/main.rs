//! Integration tests of `ghcr-packages` against `ghcr_sim::fake::FakeGhcr`
//! (and replayed fixtures), one binary.

mod packages;
mod support;
mod versions;
