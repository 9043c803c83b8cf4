//! What real users of cleanup tools were hurt by, each its own test
//! against the fake (the 500 mid-paging case is in `paging`, the
//! GITHUB_TOKEN org listing in `packages`).

use bytes::Bytes;
use ghcr_packages::{Decision, KeepReason, Outcome, RetentionPolicy};
use ghcr_sim::fake::PushedImage;
use ghcr_types::{Digest, Owner, Visibility};
use http::Method;
use serde_json::{Value, json};

use crate::cleanup::manifest_gets;
use crate::support::{self, Env, ORG};

const REPOSITORY: &str = "octo-org/app";

fn image(env: &Env, tag: Option<&str>, content: &str) -> PushedImage {
    let layer = Bytes::from(content.to_owned());
    env.fake
        .store()
        .push_image(REPOSITORY, tag, &[layer])
        .unwrap()
}

fn entry(image: &PushedImage, platform: Option<&str>) -> Value {
    let mut entry = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": image.manifest.as_str(),
        "size": image.bytes.len(),
    });
    if let Some((os, architecture)) = platform.and_then(|p| p.split_once('/')) {
        entry["platform"] = json!({"os": os, "architecture": architecture});
    }
    entry
}

/// Pushes an index of `entries` under `tag` (or untagged) and returns its digest.
fn index(env: &Env, tag: Option<&str>, entries: &[Value]) -> (Digest, usize) {
    let bytes = Bytes::from(json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}).to_string());
    let digest = Digest::sha256_of(&bytes);
    let reference = tag.map_or_else(|| digest.to_string(), str::to_owned);
    env.fake
        .store()
        .push_manifest(
            REPOSITORY,
            &reference,
            bytes.clone(),
            "application/vnd.oci.image.index.v1+json",
        )
        .unwrap();
    (digest, bytes.len())
}

fn decision<'a>(plan: &'a ghcr_packages::CleanupPlan, digest: &Digest) -> &'a Decision {
    &plan
        .entries
        .iter()
        .find(|e| e.version.digest().ok().as_ref() == Some(digest))
        .unwrap_or_else(|| panic!("{digest} not in the plan"))
        .decision
}

async fn pulls(env: &Env, tag: &str) -> bool {
    env.pull(&env.reference(REPOSITORY).with_tag(tag).unwrap())
        .await
        .is_ok()
}

#[tokio::test]
async fn two_indexes_sharing_a_platform_manifest() {
    let env = support::start(support::accounts()).await;
    let shared = image(&env, None, "shared amd64");
    let old_arm = image(&env, None, "old arm64");
    let new_arm = image(&env, None, "new arm64");
    let (old, _) = index(
        &env,
        Some("v1"),
        &[
            entry(&shared, Some("linux/amd64")),
            entry(&old_arm, Some("linux/arm64")),
        ],
    );
    let (new, _) = index(
        &env,
        Some("v2"),
        &[
            entry(&shared, Some("linux/amd64")),
            entry(&new_arm, Some("linux/arm64")),
        ],
    );
    let owner = Owner::org(ORG);
    // v1 goes, v2 stays: the shared manifest is kept for v2.
    let policy = RetentionPolicy::builder().keep_tags("v2").build().unwrap();
    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    assert!(decision(&plan, &old).is_delete());
    assert!(decision(&plan, &old_arm.manifest).is_delete());
    assert!(matches!(
        decision(&plan, &shared.manifest),
        Decision::Keep(KeepReason::Reachable { .. })
    ));
    assert!(
        manifest_gets(&env).values().all(|n| *n == 1),
        "the shared manifest was read once"
    );
    let report = env.client.execute_cleanup(&plan).await;
    assert!(report.is_complete(), "{report}");
    assert!(pulls(&env, "v2").await);
    assert!(!pulls(&env, "v1").await);

    // Both indexes gone: the shared version is deleted exactly once.
    let (_, _) = index(&env, Some("v1"), &[entry(&shared, Some("linux/amd64"))]);
    let keeper = image(&env, Some("keep"), "an unrelated image");
    let policy = RetentionPolicy::builder()
        .keep_tags("keep")
        .build()
        .unwrap();
    env.fake.log().clear();
    let report = env.client.cleanup(&owner, "app", &policy).await.unwrap();
    assert!(report.is_complete(), "{report}");
    let shared_id = env
        .fake
        .store()
        .versions(REPOSITORY)
        .into_iter()
        .find(|v| v.digest == shared.manifest)
        .unwrap()
        .id;
    let deletes = env.fake.log().count_where(|e| {
        e.method == Method::DELETE && e.path.ends_with(&format!("/versions/{shared_id}"))
    });
    assert_eq!(deletes, 1);
    assert!(!pulls(&env, "v2").await);
    assert!(pulls(&env, "keep").await);
    assert!(decision_kept(&report, &keeper.manifest));
    let _ = new;
}

fn decision_kept(report: &ghcr_packages::CleanupReport, digest: &Digest) -> bool {
    report.entries.iter().any(|e| {
        e.version.digest().ok().as_ref() == Some(digest) && matches!(e.outcome, Outcome::Kept(_))
    })
}

#[tokio::test]
async fn attestation_manifests_without_a_platform_are_kept() {
    let env = support::start(support::accounts()).await;
    let amd = image(&env, None, "amd64");
    let attestation = image(&env, None, "buildx provenance");
    let mut attestation_entry = entry(&attestation, None);
    attestation_entry["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd.manifest.as_str()});
    index(
        &env,
        Some("v1"),
        &[entry(&amd, Some("linux/amd64")), attestation_entry],
    );
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = env
        .client
        .plan_cleanup(&Owner::org(ORG), "app", &policy)
        .await
        .unwrap();
    assert_eq!(plan.to_delete().count(), 0, "{plan}");
    assert!(matches!(
        decision(&plan, &attestation.manifest),
        Decision::Keep(KeepReason::Reachable { .. })
    ));
}

#[tokio::test]
async fn nested_indexes_are_followed() {
    let env = support::start(support::accounts()).await;
    let leaf = image(&env, None, "leaf");
    let (inner, inner_size) = index(&env, None, &[entry(&leaf, Some("linux/amd64"))]);
    let inner_entry = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": inner.as_str(), "size": inner_size});
    index(&env, Some("v1"), &[inner_entry]);
    let leftover = image(&env, None, "leftover");
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let report = env
        .client
        .cleanup(&Owner::org(ORG), "app", &policy)
        .await
        .unwrap();
    assert_eq!(report.deleted().len(), 1, "{report}");
    assert!(decision_kept(&report, &inner));
    assert!(decision_kept(&report, &leaf.manifest));
    assert!(!decision_kept(&report, &leftover.manifest));
    assert!(pulls(&env, "v1").await);
}

#[tokio::test]
async fn keep_patterns_match_tags_never_the_digest_valued_name() {
    let env = support::start(support::accounts()).await;
    image(&env, Some("v1"), "one");
    let leftovers = env.push_untagged(REPOSITORY, 3);
    // Every version name is `sha256:…`; none of these may keep an untagged version.
    let policy = RetentionPolicy::builder()
        .keep_tags("sha256.*")
        .keep_tags("v1")
        .build()
        .unwrap();
    let plan = env
        .client
        .plan_cleanup(&Owner::org(ORG), "app", &policy)
        .await
        .unwrap();
    let deleted: Vec<Digest> = plan
        .to_delete()
        .map(|e| e.version.digest().unwrap())
        .collect();
    assert_eq!(deleted.len(), 3, "{plan}");
    assert!(leftovers.iter().all(|d| deleted.contains(d)));
}

#[tokio::test]
async fn the_last_tagged_version_is_planned_for_even_when_it_changes_late() {
    let env = support::start(support::accounts()).await;
    let owner = Owner::org(ORG);
    image(&env, Some("pr-1"), "one");
    let newest = image(&env, Some("pr-2"), "two");
    // Every tagged version matches: GitHub would refuse the last, so the plan keeps the newest.
    let policy = RetentionPolicy::builder()
        .only_tags_matching("pr-.*")
        .build()
        .unwrap();
    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    assert_eq!(
        decision(&plan, &newest.manifest),
        &Decision::Keep(KeepReason::LastTagged)
    );
    assert!(env.client.execute_cleanup(&plan).await.is_complete());

    // v3 keeps pr-2 deletable at plan time, then goes before execution:
    // execution plans again and keeps pr-2 instead of earning GitHub's 400.
    let v3 = image(&env, Some("v3"), "three");
    env.push_untagged(REPOSITORY, 1);
    let policy = RetentionPolicy::builder().keep_tags("v3").build().unwrap();
    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    assert!(decision(&plan, &newest.manifest).is_delete());
    let v3_id = env
        .fake
        .store()
        .version_id(REPOSITORY, &v3.manifest)
        .unwrap();
    env.client
        .delete_version(&owner, "app", v3_id)
        .await
        .unwrap();
    env.fake.log().clear();
    let report = env.client.execute_cleanup(&plan).await;
    assert!(report.is_complete(), "{report}");
    let pr2 = report
        .entries
        .iter()
        .find(|e| e.version.digest().ok().as_ref() == Some(&newest.manifest))
        .unwrap();
    assert_eq!(pr2.outcome, Outcome::Kept(KeepReason::LastTagged));
    assert_eq!(
        report.deleted().len(),
        1,
        "the untagged leftover still went"
    );
    assert_eq!(
        env.fake.log().count_where(|e| e.method == Method::DELETE),
        1
    );
    assert!(pulls(&env, "pr-2").await);
}

#[tokio::test]
async fn a_refusal_from_github_is_a_line_not_a_crash() {
    let env = support::start(support::accounts()).await;
    image(&env, Some("v1"), "kept");
    let leftovers = env.push_untagged(REPOSITORY, 3);
    let refused = env
        .fake
        .store()
        .version_id(REPOSITORY, &leftovers[1])
        .unwrap();
    let body = Bytes::from_static(br#"{"message":"You cannot delete the last tagged version of a package. You must delete the package instead.","documentation_url":"https://docs.github.com/rest/packages/packages"}"#);
    let route = ghcr_sim::fake::Route::new(
        Method::DELETE,
        &format!("/orgs/{ORG}/packages/container/app/versions/{refused}"),
    );
    let refusal = ghcr_sim::fake::FaultAction::Respond {
        status: http::StatusCode::BAD_REQUEST,
        body,
    };
    env.fake
        .faults()
        .add(ghcr_sim::fake::Fault::new(route, refusal));
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let report = env
        .client
        .cleanup(&Owner::org(ORG), "app", &policy)
        .await
        .unwrap();
    let failed = report.failed();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!((failed[0].id, failed[0].status), (refused, Some(400)));
    assert!(
        failed[0].reason.contains("last tagged version"),
        "{}",
        failed[0].reason
    );
    assert!(
        failed[0]
            .reason
            .contains("https://docs.github.com/rest/packages/packages"),
        "{}",
        failed[0].reason
    );
    assert_eq!(report.deleted().len(), 2, "the others still went");
}

#[tokio::test]
async fn a_manifest_reused_after_the_plan_is_not_deleted() {
    let env = support::start(support::accounts()).await;
    image(&env, Some("v1"), "v1");
    let leftover = image(&env, None, "a platform build that v2 will reuse");
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let owner = Owner::org(ORG);
    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    assert!(decision(&plan, &leftover.manifest).is_delete());
    // A release reuses the leftover as a platform manifest before execution.
    index(&env, Some("v2"), &[entry(&leftover, Some("linux/amd64"))]);
    let report = env.client.execute_cleanup(&plan).await;
    assert!(report.deleted().is_empty(), "{report}");
    assert!(decision_kept(&report, &leftover.manifest));
    assert!(pulls(&env, "v2").await);
}

#[tokio::test]
async fn a_refused_popular_public_version_keeps_its_parts() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let amd = image(&env, None, "popular amd64");
    let arm = image(&env, None, "popular arm64");
    let (popular, _) = index(
        &env,
        Some("v1"),
        &[
            entry(&amd, Some("linux/amd64")),
            entry(&arm, Some("linux/arm64")),
        ],
    );
    image(&env, Some("v2"), "newer");
    store
        .set_visibility(REPOSITORY, Visibility::Public)
        .unwrap();
    let popular_id = store.version_id(REPOSITORY, &popular).unwrap();
    store.set_downloads(REPOSITORY, popular_id, 6000).unwrap();
    let policy = RetentionPolicy::builder().keep_newest(1).build().unwrap();
    let plan = env
        .client
        .plan_cleanup(&Owner::org(ORG), "app", &policy)
        .await
        .unwrap();
    assert_eq!(plan.to_delete().count(), 3, "{plan}");
    let report = env.client.execute_cleanup(&plan).await;
    let failed = report.failed();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!((failed[0].id, failed[0].status), (popular_id, Some(400)));
    assert!(
        failed[0].reason.contains("5000 downloads"),
        "{}",
        failed[0].reason
    );
    // Its platform manifests were not deleted, so v1 still pulls.
    for part in [&amd.manifest, &arm.manifest] {
        let kept = report
            .entries
            .iter()
            .find(|e| e.version.digest().ok().as_ref() == Some(part))
            .unwrap();
        assert!(
            matches!(kept.outcome, Outcome::Kept(KeepReason::ReferencedByFailed { root, .. }) if root == popular_id),
            "{}",
            kept.outcome
        );
    }
    assert!(pulls(&env, "v1").await);
    assert!(report.deleted().is_empty());
}
