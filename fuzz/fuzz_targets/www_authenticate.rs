//! libFuzzer entry point; the checks live in `ghcr_fuzz::checks::www_authenticate`, shared
//! with the regression test that replays `fuzz/corpus/www_authenticate` and `fuzz/regressions/www_authenticate`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ghcr_fuzz::checks::www_authenticate(data);
});
