//! `replay::`: every cassette in `fixtures/` loads (side files verified by
//! hash) and replays against itself, whoever recorded it; the design's
//! fixture set is present. `cargo xtask fixtures-check` runs this first.

use ghcr_sim::{Cassette, fixtures_root, verify_replay};

/// The fixtures the design names; each crate's replay tests use them.
const DESIGN_SET: [&str; 6] = [
    "push_manifest",
    "pull_manifest",
    "list_tags",
    "chunked_upload",
    "rate_limited",
    "vulnerabilities",
];

#[tokio::test]
async fn every_cassette_in_fixtures_replays() {
    let root = fixtures_root().unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let dir = entry.path();
        if !dir.join("cassette.json").exists() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let cassette = Cassette::load(&dir).unwrap_or_else(|err| panic!("fixture {name}: {err}"));
        assert_eq!(
            cassette.meta().name.as_deref(),
            Some(name.as_str()),
            "fixture {name} names itself"
        );
        assert!(!cassette.is_empty(), "fixture {name} holds no interaction");
        let replayed = verify_replay(&cassette)
            .await
            .unwrap_or_else(|err| panic!("fixture {name}: {err}"));
        assert_eq!(replayed, cassette.len());
        names.push(name);
    }
    for required in DESIGN_SET {
        assert!(
            names.iter().any(|name| name == required),
            "fixture {required} is missing from {}: record it with `cargo xtask record`",
            root.display()
        );
    }
}
