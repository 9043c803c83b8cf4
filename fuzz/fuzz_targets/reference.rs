//! libFuzzer entry point; the checks live in `ghcr_fuzz::checks::reference`, shared
//! with the regression test that replays `fuzz/corpus/reference` and `fuzz/regressions/reference`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ghcr_fuzz::checks::reference(data);
});
