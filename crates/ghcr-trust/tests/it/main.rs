//! Integration tests of ghcr-trust: signatures, attestations and keyless
//! bundles made by an independent implementation (PyCA cryptography,
//! `cosign_sign.py`, `sigstore_make.py`) verify and each single change
//! refuses; real public-good bundles verify with their real identities;
//! discovery through the `.sig`/`.att` tags and referrers on Debian's
//! docker-registry and the fake ghcr.io (tag fallback); bad input of every
//! kind is an error, never a panic; sigstore-python accepts and refuses
//! the same bundles.

mod attestations;
mod bad_input;
mod independent;
mod keyless;
mod keyless_discovery;
mod keyless_real;
mod registries;
mod sigstore_python;
mod support;
