//! libFuzzer entry point; the checks live in `ghcr_fuzz::checks::cassette`, shared
//! with the regression test that replays `fuzz/corpus/cassette` and `fuzz/regressions/cassette`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ghcr_fuzz::checks::cassette(data);
});
