//! Integration tests of the ghcr facade: every example run against the
//! embedded fake ghcr.io, the client's own calls (health, rate limits,
//! owners), the operation traits, and record/replay from the config.

mod client;
mod examples;
mod load;
mod ops;
mod secrets;
mod support;
