//! libFuzzer entry point; the checks live in `ghcr_fuzz::checks::link`, shared
//! with the regression test that replays `fuzz/corpus/link` and `fuzz/regressions/link`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ghcr_fuzz::checks::link(data);
});
