//! Tests of the cleanup decisions over in-memory versions and manifests:
//! the policy's table, GitHub's refusal rules, and reachability through
//! indexes and referrer tags.

use std::time::Duration;

use ghcr_types::{Digest, PackageVersion, PackageVersionId};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::plan::{Decision, DeleteReason, KeepReason, Link};
use super::policy::{RetentionPolicy, decide, referrer_subject};
use super::run::plan_versions;
use crate::manifests::memory::Memory;

mod newest;

fn now() -> OffsetDateTime {
    time::macros::datetime!(2025-06-01 12:00 UTC)
}

fn version(id: u64, digest: &Digest, tags: &[&str], days_old: i64) -> PackageVersion {
    let created = now() - time::Duration::days(days_old);
    serde_json::from_value(json!({
        "id": id,
        "name": digest.as_str(),
        "url": format!("https://api.github.com/user/packages/container/app/versions/{id}"),
        "package_html_url": "https://github.com/users/octo/packages/container/package/app",
        "created_at": created.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "updated_at": created.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "metadata": {"package_type": "container", "container": {"tags": tags}},
    }))
    .unwrap()
}

fn image(name: &str) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::sha256_of(name.as_bytes()).as_str(), "size": 7},
        "layers": [],
    })
}

fn entry(
    digest: &Digest,
    platform: Option<(&str, &str)>,
    attestation_of: Option<&Digest>,
) -> Value {
    let mut entry = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest.as_str(), "size": 100});
    if let Some((os, architecture)) = platform {
        entry["platform"] = json!({"os": os, "architecture": architecture});
    }
    if let Some(subject) = attestation_of {
        entry["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": subject.as_str()});
    }
    entry
}

fn index(entries: &[Value]) -> Value {
    json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
}

fn short(decision: &Decision) -> String {
    match decision {
        Decision::Keep(KeepReason::Newest { rank }) => format!("keep newest {rank}"),
        Decision::Keep(KeepReason::TagMatches { tag, .. }) => format!("keep tag {tag}"),
        Decision::Keep(KeepReason::NewerThan { .. }) => "keep young".into(),
        Decision::Keep(KeepReason::OutOfScope) => "keep out".into(),
        Decision::Keep(KeepReason::AlsoTagged { tag }) => format!("keep also {tag}"),
        Decision::Keep(KeepReason::LastTagged) => "keep last tagged".into(),
        Decision::Keep(KeepReason::LastVersion) => "keep last".into(),
        Decision::Keep(KeepReason::Reachable { root, link, .. }) => {
            format!("keep via {root} {link:?}")
        }
        Decision::Keep(other) => format!("keep {other:?}"),
        Decision::Delete(DeleteReason::Untagged) => "delete untagged".into(),
        Decision::Delete(DeleteReason::ReferrerTagsOnly) => "delete referrer".into(),
        Decision::Delete(DeleteReason::TagsMatch { tag, .. }) => format!("delete tag {tag}"),
        Decision::Delete(DeleteReason::NotRetained) => "delete".into(),
    }
}

fn first_decisions(versions: &[PackageVersion], policy: &RetentionPolicy) -> Vec<String> {
    decide(versions, policy, now(), &std::collections::HashSet::new())
        .into_iter()
        .map(|d| short(&d.map_or_else(Decision::Delete, Decision::Keep)))
        .collect()
}

#[test]
fn referrer_tags_name_their_subject() {
    let hex = "a".repeat(64);
    for (tag, expected) in [
        (format!("sha256-{hex}"), Some(format!("sha256:{hex}"))),
        (format!("sha256-{hex}.sig"), Some(format!("sha256:{hex}"))),
        (format!("sha256-{hex}.att"), Some(format!("sha256:{hex}"))),
        (
            format!("sha512-{}", "b".repeat(128)),
            Some(format!("sha512:{}", "b".repeat(128))),
        ),
        ("sha256-abc".to_owned(), None),
        (format!("v1-{hex}"), None),
        ("latest".to_owned(), None),
    ] {
        assert_eq!(referrer_subject(&tag), expected, "{tag}");
    }
}

/// Newest first: a(1 day, v3), b(2 days, untagged), c(3 days, pr-7),
/// d(10 days, v1 + pr-1), e(20 days, referrer tag), f(40 days, v0).
fn table_versions() -> Vec<PackageVersion> {
    let d = |n: &str| Digest::sha256_of(n.as_bytes());
    let referrer_tag = format!("sha256-{}", d("a").encoded());
    vec![
        version(6, &d("a"), &["v3", "latest"], 1),
        version(5, &d("b"), &[], 2),
        version(4, &d("c"), &["pr-7"], 3),
        version(3, &d("d"), &["v1", "pr-1"], 10),
        version(2, &d("e"), &[&referrer_tag], 20),
        version(1, &d("f"), &["v0"], 40),
    ]
}

fn check_table(table: Vec<(RetentionPolicy, [&str; 6])>) {
    let versions = table_versions();
    for (index, (policy, expected)) in table.into_iter().enumerate() {
        assert_eq!(
            first_decisions(&versions, &policy),
            expected,
            "policy #{index}"
        );
    }
}

#[test]
fn scoped_policies() {
    check_table(vec![
        (
            RetentionPolicy::builder().only_untagged().build().unwrap(),
            [
                "keep out",
                "delete untagged",
                "keep out",
                "keep out",
                "delete referrer",
                "keep out",
            ],
        ),
        (
            RetentionPolicy::builder()
                .only_untagged()
                .keep_newest(1)
                .build()
                .unwrap(),
            [
                "keep out",
                "keep newest 1",
                "keep out",
                "keep out",
                "delete referrer",
                "keep out",
            ],
        ),
        // Without a scope, "newest" counts tagged versions only.
        (
            RetentionPolicy::builder().keep_newest(2).build().unwrap(),
            [
                "keep newest 1",
                "delete untagged",
                "keep newest 2",
                "delete",
                "delete referrer",
                "delete",
            ],
        ),
    ]);
}

#[test]
fn keep_rules() {
    check_table(vec![
        // A version also tagged v1 is not deleted for its pr-1 tag.
        (
            RetentionPolicy::builder()
                .only_tags_matching("pr-[0-9]+")
                .build()
                .unwrap(),
            [
                "keep out",
                "keep out",
                "delete tag pr-7",
                "keep also v1",
                "keep out",
                "keep out",
            ],
        ),
        // Keep patterns match whole tags; `v` alone matches nothing.
        (
            RetentionPolicy::builder()
                .keep_tags("v[0-9]+")
                .keep_tags("v")
                .build()
                .unwrap(),
            [
                "keep tag v3",
                "delete untagged",
                "delete",
                "keep tag v1",
                "delete referrer",
                "keep tag v0",
            ],
        ),
        (
            RetentionPolicy::builder()
                .keep_newer_than(Duration::from_secs(5 * 24 * 3600))
                .build()
                .unwrap(),
            [
                "keep young",
                "keep young",
                "keep young",
                "delete",
                "delete referrer",
                "delete",
            ],
        ),
        // Combined scopes: untagged or pr tags, newest of those kept.
        (
            RetentionPolicy::builder()
                .only_untagged()
                .only_tags_matching("pr-.*")
                .keep_newest(1)
                .build()
                .unwrap(),
            [
                "keep out",
                "keep newest 1",
                "delete tag pr-7",
                "keep also v1",
                "delete referrer",
                "keep out",
            ],
        ),
    ]);
}

#[test]
fn keep_patterns_never_match_the_digest_name_or_referrer_tags() {
    let d = |n: &str| Digest::sha256_of(n.as_bytes());
    let versions = vec![
        version(2, &d("untagged"), &[], 100),
        version(
            1,
            &d("referrer"),
            &[&format!("sha256-{}", d("x").encoded())],
            100,
        ),
    ];
    for pattern in ["sha256.*", ".*", "[0-9a-f:]+", "sha256-.*"] {
        let policy = RetentionPolicy::builder()
            .only_untagged()
            .keep_tags(pattern)
            .build()
            .unwrap();
        assert_eq!(
            first_decisions(&versions, &policy),
            ["delete untagged", "delete referrer"],
            "{pattern}"
        );
    }
}

#[test]
fn bad_policies_are_refused() {
    assert!(RetentionPolicy::builder().build().is_err());
    assert!(RetentionPolicy::builder().keep_newest(0).build().is_err());
    let error = RetentionPolicy::builder()
        .keep_tags("v(")
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`v(` is not a valid regular expression"),
        "{error}"
    );
    assert!(
        RetentionPolicy::builder()
            .only_tags_matching("[")
            .build()
            .is_err()
    );
}

/// A pattern that closes the group it is wrapped in (`^(?:…)$`) would
/// escape its anchors: `pr-1)|(.*` would match every tag.
#[test]
fn patterns_that_escape_their_anchors_are_refused() {
    type Rule = fn(crate::RetentionPolicyBuilder, &str) -> crate::RetentionPolicyBuilder;
    let rules: [(&str, Rule); 2] = [
        ("keep_tags", |b, p| b.only_untagged().keep_tags(p)),
        ("only_tags_matching", |b, p| b.only_tags_matching(p)),
    ];
    for pattern in ["pr-1)|(.*", "a)(b", "x)|.*|(y", "v1\\"] {
        for (rule, with) in rules {
            let built = with(RetentionPolicy::builder(), pattern).build();
            let Err(error) = built else {
                panic!("{rule}({pattern:?}) was accepted: {built:?}");
            };
            let text = error.to_string();
            assert!(text.contains(&format!("`{pattern}`")), "{rule}: {text}");
        }
    }
    // Groups that balance inside the pattern stay fine.
    let policy = RetentionPolicy::builder()
        .only_tags_matching("(pr|mr)-[0-9]+")
        .build()
        .unwrap();
    let versions = [
        version(2, &Digest::sha256_of(b"2"), &["pr-1"], 1),
        version(1, &Digest::sha256_of(b"1"), &["main"], 1),
    ];
    assert_eq!(
        first_decisions(&versions, &policy),
        ["delete tag pr-1", "keep out"]
    );
}

async fn plan(
    versions: Vec<PackageVersion>,
    policy: &RetentionPolicy,
    source: &Memory,
) -> Vec<(u64, String)> {
    plan_versions(versions, policy, now(), source)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.version.id.0, short(&entry.decision)))
        .collect()
}

fn decision_of(plan: &[(u64, String)], id: u64) -> &str {
    plan.iter()
        .find(|(i, _)| *i == id)
        .map_or("absent", |(_, d)| d.as_str())
}

#[tokio::test]
async fn kept_indexes_keep_platforms_attestations_and_nested_indexes() {
    let mut source = Memory::default();
    let amd = source.add(&image("amd64"));
    let arm = source.add(&image("arm64"));
    let attestation = source.add(&image("buildx attestation"));
    let inner = source.add(&index(&[entry(&arm, Some(("linux", "arm64")), None)]));
    let outer = source.add(&index(&[
        entry(&amd, Some(("linux", "amd64")), None),
        // buildx's attestation manifest: no platform at all.
        entry(&attestation, None, Some(&amd)),
        // An index inside the index.
        json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": inner.as_str(), "size": 100}),
    ]));
    let leftover = source.add(&image("leftover"));
    let versions = vec![
        version(10, &outer, &["v1"], 5),
        version(9, &attestation, &[], 5),
        version(8, &inner, &[], 5),
        version(7, &arm, &[], 5),
        version(6, &amd, &[], 5),
        version(5, &leftover, &[], 30),
    ];
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = plan(versions, &policy, &source).await;
    assert_eq!(decision_of(&plan, 10), "keep out");
    assert_eq!(decision_of(&plan, 9), "keep via 10 IndexChild");
    assert_eq!(decision_of(&plan, 8), "keep via 10 IndexChild");
    assert_eq!(decision_of(&plan, 7), "keep via 10 IndexChild");
    assert_eq!(decision_of(&plan, 6), "keep via 10 IndexChild");
    assert_eq!(decision_of(&plan, 5), "delete untagged");
    // Only the indexes were read, once each: the image manifests their
    // descriptors name list nothing, and the leftover is deleted unread.
    let reads = source.reads.lock().unwrap().clone();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(
        reads.contains(&outer) && reads.contains(&inner),
        "{reads:?}"
    );
    assert!(!reads.contains(&leftover));
}

#[tokio::test]
async fn two_indexes_sharing_a_platform_manifest() {
    let mut source = Memory::default();
    let shared = source.add(&image("shared amd64"));
    let only_old = source.add(&image("old arm64"));
    let new = source.add(&index(&[entry(&shared, Some(("linux", "amd64")), None)]));
    let unrelated = source.add(&image("pull request build"));
    let old = source.add(&index(&[
        entry(&shared, Some(("linux", "amd64")), None),
        entry(&only_old, Some(("linux", "arm64")), None),
    ]));
    let versions = || {
        vec![
            version(5, &unrelated, &["pr-9"], 1),
            version(4, &new, &["v2"], 1),
            version(3, &old, &["v1"], 50),
            version(2, &only_old, &[], 50),
            version(1, &shared, &[], 50),
        ]
    };
    // v1 deleted, v2 kept: the shared manifest stays, v1's own part goes.
    let policy = RetentionPolicy::builder().keep_newest(2).build().unwrap();
    let plan_one = plan(versions(), &policy, &source).await;
    assert_eq!(decision_of(&plan_one, 3), "delete");
    assert_eq!(decision_of(&plan_one, 2), "delete untagged");
    assert_eq!(decision_of(&plan_one, 1), "keep via 4 IndexChild");
    // Either index kept keeps it: v1 kept, v2 deleted.
    let policy = RetentionPolicy::builder().keep_tags("v1").build().unwrap();
    let plan_two = plan(versions(), &policy, &source).await;
    assert_eq!(decision_of(&plan_two, 4), "delete");
    assert_eq!(decision_of(&plan_two, 1), "keep via 3 IndexChild");
    assert_eq!(decision_of(&plan_two, 2), "keep via 3 IndexChild");
    // Both deleted (only a pull request build kept): the shared version is deleted once.
    let policy = RetentionPolicy::builder()
        .keep_tags("pr-.*")
        .build()
        .unwrap();
    let plan_three = plan(versions(), &policy, &source).await;
    assert_eq!(plan_three.iter().filter(|(id, _)| *id == 1).count(), 1);
    assert_eq!(decision_of(&plan_three, 5), "keep tag pr-9");
    assert_eq!(decision_of(&plan_three, 4), "delete");
    assert_eq!(decision_of(&plan_three, 3), "delete");
    assert_eq!(decision_of(&plan_three, 1), "delete untagged");
}

#[tokio::test]
async fn referrer_tags_keep_signatures_sboms_and_attestations() {
    let mut source = Memory::default();
    let app = source.add(&image("app"));
    let signature = source.add(&image("signature"));
    let sbom = source.add(&image("sbom"));
    let referrers = source.add(&index(&[
        entry(&signature, None, None),
        entry(&sbom, None, None),
    ]));
    let gone = Digest::sha256_of(b"deleted image");
    let orphan_index = source.add(&index(&[]));
    let versions = vec![
        version(5, &referrers, &[&app.referrers_tag()], 1),
        version(4, &sbom, &[], 1),
        version(3, &signature, &[], 1),
        version(2, &app, &["v1"], 1),
        version(1, &orphan_index, &[&gone.referrers_tag()], 60),
    ];
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = plan(versions, &policy, &source).await;
    assert_eq!(decision_of(&plan, 5), "keep via 2 ReferrerIndex");
    assert_eq!(decision_of(&plan, 4), "keep via 2 Referrer");
    assert_eq!(decision_of(&plan, 3), "keep via 2 Referrer");
    assert_eq!(decision_of(&plan, 1), "delete referrer");
}

#[tokio::test]
async fn github_refusals_are_planned_for() {
    let mut source = Memory::default();
    let a = source.add(&image("a"));
    let b = source.add(&image("b"));
    let c = source.add(&image("c"));
    // Every tagged version matches the delete pattern: the newest stays.
    let versions = vec![
        version(3, &a, &["pr-3"], 1),
        version(2, &b, &["pr-2"], 2),
        version(1, &c, &[], 3),
    ];
    let policy = RetentionPolicy::builder()
        .only_tags_matching("pr-.*")
        .build()
        .unwrap();
    let planned = plan(versions, &policy, &source).await;
    assert_eq!(decision_of(&planned, 3), "keep last tagged");
    assert_eq!(decision_of(&planned, 2), "delete tag pr-2");
    // Only untagged versions, all deletable: the newest stays.
    let versions = vec![version(2, &a, &[], 1), version(1, &b, &[], 2)];
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let planned = plan(versions, &policy, &source).await;
    assert_eq!(decision_of(&planned, 2), "keep last");
    assert_eq!(decision_of(&planned, 1), "delete untagged");
}

#[tokio::test]
async fn an_unreadable_kept_manifest_stops_the_plan() {
    let source = Memory::default();
    let kept = Digest::sha256_of(b"kept, but missing from the registry");
    let versions = vec![
        version(2, &kept, &["v1"], 1),
        version(1, &Digest::sha256_of(b"leftover"), &[], 9),
    ];
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let error = plan_versions(versions, &policy, now(), &source)
        .await
        .unwrap_err();
    assert!(matches!(error, crate::Error::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains("nothing was deleted"), "{error}");
}

#[test]
fn reasons_read_well() {
    let reason = KeepReason::Reachable {
        root: PackageVersionId(3),
        parent: Digest::sha256_of(b"x"),
        link: Link::IndexChild,
    };
    assert!(
        reason.to_string().starts_with("listed in index sha256:"),
        "{reason}"
    );
    assert!(
        reason.to_string().ends_with("kept through version 3"),
        "{reason}"
    );
    assert_eq!(
        Decision::Delete(DeleteReason::Untagged).to_string(),
        "delete: untagged and referenced by no kept version"
    );
}

#[test]
fn the_restore_deadline_counts_from_the_runs_start() {
    use super::report::{CleanupReport, Outcome, ReportEntry};
    let started = now();
    let report = CleanupReport {
        owner: ghcr_types::Owner::user("octo"),
        package: "app".into(),
        entries: vec![ReportEntry {
            version: version(7, &Digest::sha256_of(b"old"), &[], 90),
            outcome: Outcome::Deleted(DeleteReason::Untagged),
        }],
        // A long paced run: the first deletion was two hours before the end.
        finished_at: started + time::Duration::hours(2),
        started_at: started,
    };
    let hint = report.restore_hint();
    assert_eq!(hint.ids, [PackageVersionId(7)]);
    assert_eq!(hint.restorable_until, started + time::Duration::days(30));
}

/// Reports name ages in the form the flags take, so a reason or a policy
/// line can be pasted back into a command.
#[test]
fn ages_read_as_the_flags_write_them() {
    let week = Duration::from_secs(7 * 86_400);
    let policy = RetentionPolicy::builder()
        .keep_newer_than(Duration::from_secs(36 * 3600))
        .only_untagged()
        .build()
        .unwrap();
    assert_eq!(policy.to_string(), "--keep-newer-than 36h --only-untagged");
    assert_eq!(
        KeepReason::NewerThan { age: week }.to_string(),
        "created less than 7d ago"
    );
}
