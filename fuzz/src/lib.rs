//! Fuzz targets for the parsers that read what the network or a file sends.
//!
//! Each target in `fuzz_targets/` calls one function of [`checks`], the same
//! function the workspace's regression test (`ghcr-transport`'s `tests/it/fuzz.rs`)
//! runs on every file of `fuzz/corpus/<target>` and `fuzz/regressions/<target>`.

pub mod checks;
