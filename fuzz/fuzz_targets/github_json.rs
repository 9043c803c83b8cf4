//! libFuzzer entry point; the checks live in `ghcr_fuzz::checks::github_json`, shared
//! with the regression test that replays `fuzz/corpus/github_json` and `fuzz/regressions/github_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ghcr_fuzz::checks::github_json(data);
});
