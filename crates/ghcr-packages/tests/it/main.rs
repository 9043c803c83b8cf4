//! Integration tests of `ghcr-packages` against `ghcr_sim::fake::FakeGhcr`
//! (and replayed fixtures), one binary.

mod cleanup;
mod concurrency;
mod delete_image;
mod hurts;
mod journal;
mod keyless;
mod packages;
mod paging;
mod recheck;
mod replay;
mod scale;
mod signing;
mod stop;
mod support;
mod undo;
mod verified;
mod versions;
mod vulns;
mod whole;
