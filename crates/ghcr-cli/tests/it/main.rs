//! Integration tests of the `ghcr` binary: every command's text and JSON
//! output on success and on each documented failure, against the fake
//! ghcr.io and Debian's docker-registry; `demo` and `serve` end to end;
//! the deployment files, the GitHub Action and the README's commands.

mod action;
mod action_install;
mod artifacts;
mod cleanups;
mod demo;
mod deploy;
mod docker_registry;
mod docs;
mod failures;
mod gate_keyless;
mod gate_signed;
mod github;
mod human_output;
mod images;
mod journal;
mod journal_many;
mod kill;
mod login;
mod progress;
mod readme;
mod secrets;
mod serve;
mod support;
mod sync;
mod sync_kill;
mod tarballs;
mod verify;
mod verify_attestation;
mod verify_keyless;
