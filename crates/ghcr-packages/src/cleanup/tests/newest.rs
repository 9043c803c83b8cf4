//! "Keep the newest N" counts images, not their parts: platform manifests,
//! attestation manifests and referrer artifacts that another version lists
//! take no place among the N.

use std::collections::HashSet;

use ghcr_types::{Digest, PackageVersion};

use super::super::policy::{RetentionPolicy, decide, ranking};
use super::{decision_of, entry, image, index, now, plan, short, version};
use crate::cleanup::plan::Decision;
use crate::manifests::memory::Memory;

fn d(name: &str) -> Digest {
    Digest::sha256_of(name.as_bytes())
}

/// Newest first: an untagged index `i` (1 day) with parts `p1`, `p2`, then
/// untagged single images `o1` (2 days), `o2` (3 days), `o3` (4 days).
fn untagged_builds() -> Vec<PackageVersion> {
    vec![
        version(6, &d("i"), &[], 1),
        version(5, &d("p1"), &[], 1),
        version(4, &d("p2"), &[], 1),
        version(3, &d("o1"), &[], 2),
        version(2, &d("o2"), &[], 3),
        version(1, &d("o3"), &[], 4),
    ]
}

#[test]
fn parts_take_no_place_among_the_newest() {
    let versions = untagged_builds();
    let parts: HashSet<Digest> = [d("p1"), d("p2")].into();
    let none = HashSet::new();
    let check = |keep: usize, parts: &HashSet<Digest>, expected: [&str; 6]| {
        let policy = RetentionPolicy::builder()
            .only_untagged()
            .keep_newest(keep)
            .build()
            .unwrap();
        let decisions: Vec<String> = decide(&versions, &policy, now(), parts)
            .into_iter()
            .map(|d| short(&d.map_or_else(Decision::Delete, Decision::Keep)))
            .collect();
        assert_eq!(decisions, expected, "keep {keep}, {} parts", parts.len());
    };
    let (u, k1, k2, k3) = (
        "delete untagged",
        "keep newest 1",
        "keep newest 2",
        "keep newest 3",
    );
    // Parts are left for reachability to keep with their index.
    check(1, &parts, [k1, u, u, u, u, u]);
    check(2, &parts, [k1, u, u, k2, u, u]);
    check(3, &parts, [k1, u, u, k2, k3, u]);
    // Without knowing the parts, each version counted: the old miscount.
    check(3, &none, [k1, k2, k3, u, u, u]);
}

#[test]
fn only_versions_that_can_list_a_candidate_are_read() {
    let mut not_an_image = version(1, &d("x"), &["latest"], 5);
    not_an_image.name = "1.0.0".into();
    let versions = vec![
        version(5, &d("tagged index"), &["v2"], 1),
        version(4, &d("leftover"), &[], 1),
        version(3, &d("referrers"), &[&d("tagged index").referrers_tag()], 1),
        version(2, &d("old"), &["v1"], 5),
        not_an_image,
    ];
    // Without a scope only tagged versions count, and only tagged ones can
    // list a tagged candidate.
    let policy = RetentionPolicy::builder().keep_newest(1).build().unwrap();
    let ranked = ranking(&versions, &policy);
    assert_eq!(ranked.order, [0, 3]);
    assert_eq!(ranked.parents, [true, false, false, true, false]);
    assert_eq!(ranked.count, 1);
    // When untagged versions count, untagged ones and referrers indexes can
    // list them.
    let policy = RetentionPolicy::builder()
        .only_untagged()
        .keep_newest(2)
        .build()
        .unwrap();
    let ranked = ranking(&versions, &policy);
    assert_eq!(ranked.order, [1]);
    assert_eq!(ranked.parents, [true, true, true, true, false]);
}

/// The reported case: `only_untagged().keep_newest(3)` next to a tagged
/// multi-arch release keeps three old builds, not one.
#[tokio::test]
async fn a_kept_index_leaves_the_newest_places_to_builds() {
    let mut source = Memory::default();
    let amd = source.add(&image("amd64"));
    let arm = source.add(&image("arm64"));
    let attestation = source.add(&image("attestation"));
    let release = source.add(&index(&[
        entry(&amd, Some(("linux", "amd64")), None),
        entry(&arm, Some(("linux", "arm64")), None),
        entry(&attestation, None, Some(&amd)),
    ]));
    let builds: Vec<Digest> = (0..5)
        .map(|n| source.add(&image(&format!("build {n}"))))
        .collect();
    let mut versions = vec![
        version(20, &release, &["v1"], 1),
        version(19, &attestation, &[], 1),
        version(18, &arm, &[], 1),
        version(17, &amd, &[], 1),
    ];
    for ((id, days), digest) in (6..=10).rev().zip(2..).zip(&builds) {
        versions.push(version(id, digest, &[], days));
    }
    let policy = RetentionPolicy::builder()
        .only_untagged()
        .keep_newest(3)
        .build()
        .unwrap();
    let planned = plan(versions, &policy, &source).await;
    assert_eq!(decision_of(&planned, 20), "keep out");
    for part in [19, 18, 17] {
        assert_eq!(decision_of(&planned, part), "keep via 20 IndexChild");
    }
    assert_eq!(decision_of(&planned, 10), "keep newest 1");
    assert_eq!(decision_of(&planned, 9), "keep newest 2");
    assert_eq!(decision_of(&planned, 8), "keep newest 3");
    assert_eq!(decision_of(&planned, 7), "delete untagged");
    assert_eq!(decision_of(&planned, 6), "delete untagged");
    // The two old builds past the three kept were never read.
    let reads = source.reads.lock().unwrap().clone();
    assert!(!reads.contains(&builds[3]) && !reads.contains(&builds[4]));
}

/// Untagged multi-arch builds: each index takes one place, its platform
/// manifests and its signature none, and they go or stay with it.
#[tokio::test]
async fn untagged_multiarch_builds_count_once_each() {
    let mut source = Memory::default();
    // A tagged release, so GitHub's last-tagged rule keeps nothing else.
    let release = source.add(&image("release"));
    let mut versions = vec![version(1, &release, &["v1"], 30)];
    let mut id = 100;
    let mut ids = Vec::new();
    for build in 0..3 {
        let days = 1 + i64::from(build);
        let amd = source.add(&image(&format!("{build} amd64")));
        let arm = source.add(&image(&format!("{build} arm64")));
        let top = source.add(&index(&[
            entry(&amd, Some(("linux", "amd64")), None),
            entry(&arm, Some(("linux", "arm64")), None),
        ]));
        let signature = source.add(&image(&format!("{build} signature")));
        let referrers = source.add(&index(&[entry(&signature, None, None)]));
        let mut push = |digest: &Digest, tags: &[&str]| {
            versions.push(version(id, digest, tags, days));
            id -= 1;
            id + 1
        };
        let top_id = push(&top, &[]);
        let referrers_id = push(&referrers, &[&top.referrers_tag()]);
        let signature_id = push(&signature, &[]);
        let arm_id = push(&arm, &[]);
        let amd_id = push(&amd, &[]);
        ids.push([top_id, referrers_id, signature_id, arm_id, amd_id]);
    }
    let policy = RetentionPolicy::builder()
        .only_untagged()
        .keep_newest(2)
        .build()
        .unwrap();
    let planned = plan(versions, &policy, &source).await;
    for (build, [top, referrers, signature, arm, amd]) in ids.iter().copied().enumerate() {
        if build < 2 {
            assert_eq!(
                decision_of(&planned, top),
                format!("keep newest {}", build + 1)
            );
            for part in [arm, amd] {
                assert_eq!(
                    decision_of(&planned, part),
                    format!("keep via {top} IndexChild")
                );
            }
            assert_eq!(
                decision_of(&planned, referrers),
                format!("keep via {top} ReferrerIndex")
            );
            assert_eq!(
                decision_of(&planned, signature),
                format!("keep via {top} Referrer")
            );
        } else {
            assert_eq!(decision_of(&planned, top), "delete untagged");
            assert_eq!(decision_of(&planned, referrers), "delete referrer");
            for part in [signature, arm, amd] {
                assert_eq!(decision_of(&planned, part), "delete untagged", "{part}");
            }
        }
    }
}

/// Without a scope, a release whose platform manifests carry their own
/// tags counts once; untagged leftovers are never read to find out.
#[tokio::test]
async fn tagged_platform_manifests_count_with_their_index() {
    let mut source = Memory::default();
    let amd = source.add(&image("v2 amd64"));
    let v2 = source.add(&index(&[entry(&amd, Some(("linux", "amd64")), None)]));
    let v1 = source.add(&image("v1"));
    let v0 = source.add(&image("v0"));
    let leftovers: Vec<Digest> = (0..4)
        .map(|n| source.add(&image(&format!("leftover {n}"))))
        .collect();
    let mut versions = vec![
        version(30, &v2, &["v2"], 2),
        version(29, &amd, &["v2-amd64"], 2),
        version(20, &v1, &["v1"], 3),
        version(10, &v0, &["v0"], 4),
    ];
    for (id, digest) in (40..).zip(&leftovers) {
        versions.push(version(id, digest, &[], 1));
    }
    let policy = RetentionPolicy::builder().keep_newest(2).build().unwrap();
    let planned = plan(versions, &policy, &source).await;
    assert_eq!(decision_of(&planned, 30), "keep newest 1");
    assert_eq!(decision_of(&planned, 29), "keep via 30 IndexChild");
    assert_eq!(decision_of(&planned, 20), "keep newest 2");
    assert_eq!(decision_of(&planned, 10), "delete");
    let reads = source.reads.lock().unwrap().clone();
    assert!(
        leftovers.iter().all(|digest| !reads.contains(digest)),
        "{reads:?}"
    );
}

/// A version listed on two pages (a push shifted the pages while they were
/// read) is one version: it takes one place among the newest and gets one
/// decision, so it is never both kept and deleted.
#[tokio::test]
async fn a_version_listed_twice_takes_one_place_and_gets_one_decision() {
    let mut source = Memory::default();
    let mut versions = untagged_singles(&mut source);
    // Version 3 again, as the second page repeated it.
    versions.insert(3, versions[2].clone());
    let policy = RetentionPolicy::builder()
        .only_untagged()
        .keep_newest(3)
        .build()
        .unwrap();
    let planned = plan(versions, &policy, &source).await;
    let ids: Vec<u64> = planned.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [5, 4, 3, 2, 1], "{planned:?}");
    assert_eq!(decision_of(&planned, 3), "keep newest 3");
    assert_eq!(decision_of(&planned, 2), "delete untagged");
}

/// Five untagged single images, newest first: ids 5 (1 day old) to 1 (5 days).
fn untagged_singles(source: &mut Memory) -> Vec<PackageVersion> {
    (1..=5_i64)
        .rev()
        .map(|id| {
            let digest = source.add(&image(&format!("single {id}")));
            version(id.unsigned_abs(), &digest, &[], 6 - id)
        })
        .collect()
}
