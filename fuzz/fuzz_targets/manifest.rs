//! libFuzzer entry point; the checks live in `ghcr_fuzz::checks::manifest`, shared
//! with the regression test that replays `fuzz/corpus/manifest` and `fuzz/regressions/manifest`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ghcr_fuzz::checks::manifest(data);
});
