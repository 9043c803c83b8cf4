//! Deleting a whole package when the policy empties it: never when the
//! package changed after the plan (a version pushed or tagged since), and
//! never when the policy keeps anything.

use bytes::Bytes;
use ghcr_packages::{PackageDeletion, RetentionPolicy, VersionState};
use ghcr_types::Owner;

use crate::support::{self, USER};

#[tokio::test]
async fn a_package_changed_since_the_plan_stays_whole() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let repository = format!("{USER}/preview");
    for (tag, layer) in [(Some("pr-1"), "one"), (Some("pr-2"), "two"), (None, "old")] {
        store
            .push_image(&repository, tag, &[Bytes::from(layer)])
            .unwrap();
    }
    let owner = Owner::user(USER);
    let policy = RetentionPolicy::builder()
        .only_untagged()
        .only_tags_matching(r"pr-\d+")
        .build()
        .unwrap();
    let plan = env
        .client
        .plan_cleanup(&owner, "preview", &policy)
        .await
        .unwrap();
    assert!(plan.deletes_everything(), "{plan}");

    // A release pushed after the plan: the package must not go with it.
    store
        .push_image(&repository, Some("v1"), &[Bytes::from_static(b"release")])
        .unwrap();
    let outcome = env.client.delete_planned_package(&plan).await.unwrap();
    assert_eq!(outcome, PackageDeletion::Changed);
    let left = env
        .client
        .list_versions(&owner, "preview", VersionState::Active)
        .await
        .unwrap();
    assert_eq!(left.len(), 4);

    // Planned again, the policy keeps the release: the package stays.
    let again = env
        .client
        .plan_cleanup(&owner, "preview", &policy)
        .await
        .unwrap();
    assert!(!again.deletes_everything());
    let outcome = env.client.delete_planned_package(&again).await.unwrap();
    assert_eq!(outcome, PackageDeletion::PolicyKeeps);

    // Unchanged and emptied by the policy: it goes, all versions at once.
    let other = format!("{USER}/scratch");
    store
        .push_image(&other, Some("pr-9"), &[Bytes::from_static(b"x")])
        .unwrap();
    let plan = env
        .client
        .plan_cleanup(&owner, "scratch", &policy)
        .await
        .unwrap();
    let outcome = env.client.delete_planned_package(&plan).await.unwrap();
    assert_eq!(outcome, PackageDeletion::Deleted { versions: 1 });
    let gone = env.client.get_package(&owner, "scratch").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}
