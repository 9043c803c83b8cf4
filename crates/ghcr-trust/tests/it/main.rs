//! Integration tests of ghcr-trust: signatures and attestations made by an independent
//! implementation (PyCA cryptography, `cosign_sign.py`) verify and each
//! single change refuses; discovery through the `.sig` tag and referrers
//! on Debian's docker-registry and the fake ghcr.io (tag fallback); bad
//! input of every kind is an error, never a panic.

mod attestations;
mod bad_input;
mod independent;
mod keyless;
mod keyless_real;
mod registries;
mod support;
