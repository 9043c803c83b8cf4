//! Versions for the three owner kinds, over more than 250 versions (three
//! pages of 100), with nested names encoded; get, find, delete, restore.

use ghcr_packages::{Error, VersionState};
use ghcr_types::{Owner, PackageVersionId};
use http::Method;

use crate::support::{self, ORG, USER};

#[tokio::test]
async fn listings_follow_link_over_three_pages_for_each_owner_kind() {
    let env = support::start(support::accounts()).await;
    let user_repo = format!("{USER}/app");
    let org_repo = format!("{ORG}/team/api");
    env.push_untagged(&user_repo, 260);
    env.push_untagged(&org_repo, 255);
    for (owner, package, repository, count) in [
        (Owner::AuthenticatedUser, "app", &user_repo, 260),
        (Owner::user(USER), "app", &user_repo, 260),
        (Owner::org(ORG), "team/api", &org_repo, 255),
    ] {
        env.fake.log().clear();
        let versions = env
            .client
            .list_versions(&owner, package, VersionState::Active)
            .await
            .unwrap();
        let ids: Vec<PackageVersionId> = versions.iter().map(|v| v.id).collect();
        let mut expected: Vec<PackageVersionId> = env
            .fake
            .store()
            .versions(repository)
            .iter()
            .map(|v| v.id)
            .collect();
        expected.reverse(); // GitHub lists newest first.
        assert_eq!(ids.len(), count, "{owner}");
        assert_eq!(ids, expected, "{owner}");
        // Three requests, 100 per page, the later ones from the Link header.
        let pages: Vec<_> = env
            .fake
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.path.ends_with("/versions"))
            .collect();
        assert_eq!(pages.len(), 3, "{owner}");
        assert!(pages.iter().all(|p| {
            p.query
                .as_deref()
                .unwrap_or_default()
                .contains("per_page=100")
        }));
        assert!(
            pages[2]
                .query
                .as_deref()
                .unwrap_or_default()
                .contains("page=3"),
            "{:?}",
            pages[2].query
        );
        if package.contains('/') {
            assert!(
                pages[0].path.contains("/team%2Fapi/versions"),
                "{}",
                pages[0].path
            );
        }
    }
}

#[tokio::test]
async fn versions_as_a_stream_and_page_by_page() {
    use futures_util::TryStreamExt;
    let env = support::start(support::accounts()).await;
    env.push_untagged(&format!("{USER}/app"), 120);
    let owner = Owner::user(USER);
    let mut pages = env
        .client
        .versions(&owner, "app", VersionState::Active)
        .unwrap();
    assert_eq!(pages.next_page().await.unwrap().unwrap().len(), 100);
    assert_eq!(pages.cursor().unwrap().page(), 2);
    assert_eq!(pages.next_page().await.unwrap().unwrap().len(), 20);
    assert!(pages.cursor().is_none());
    assert!(pages.next_page().await.unwrap().is_none());
    let streamed: Vec<_> = env
        .client
        .versions(&owner, "app", VersionState::Active)
        .unwrap()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 120);
}

#[tokio::test]
async fn get_find_delete_and_restore_a_nested_package_version() {
    let env = support::start(support::accounts()).await;
    let repository = format!("{ORG}/team/api");
    let store = env.fake.store();
    let v1 = store
        .push_image(
            &repository,
            Some("v1"),
            &[bytes::Bytes::from_static(b"one")],
        )
        .unwrap();
    let v2 = store
        .push_image(
            &repository,
            Some("v2"),
            &[bytes::Bytes::from_static(b"two")],
        )
        .unwrap();
    store.tag(&repository, "stable", &v2.manifest).unwrap();
    let owner = Owner::org(ORG);

    let by_tag = env
        .client
        .find_version_by_tag(&owner, "team/api", "stable")
        .await
        .unwrap();
    assert_eq!(by_tag.digest().unwrap(), v2.manifest);
    let by_digest = env
        .client
        .find_version_by_digest(&owner, "team/api", &v1.manifest)
        .await
        .unwrap();
    assert_eq!(by_digest.tags(), ["v1"]);
    let fetched = env
        .client
        .get_version(&owner, "team/api", by_digest.id)
        .await
        .unwrap();
    assert_eq!(fetched, by_digest);
    let tagged = env
        .client
        .find_versions_tagged(&owner, "team/api", &regex::Regex::new("^v[0-9]$").unwrap())
        .await
        .unwrap();
    assert_eq!(tagged.len(), 2);
    let missing = env
        .client
        .find_version_by_tag(&owner, "team/api", "v9")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, Error::VersionNotFound { .. }),
        "{missing}"
    );

    env.client
        .delete_version(&owner, "team/api", by_digest.id)
        .await
        .unwrap();
    assert_eq!(store.tags(&repository), ["stable", "v2"]);
    let deleted = env
        .client
        .list_versions(&owner, "team/api", VersionState::Deleted)
        .await
        .unwrap();
    assert_eq!(
        deleted.iter().map(|v| v.id).collect::<Vec<_>>(),
        [by_digest.id]
    );
    env.client
        .restore_version(&owner, "team/api", by_digest.id)
        .await
        .unwrap();
    assert_eq!(store.tags(&repository), ["stable", "v1", "v2"]);
    // Every request used the encoded name.
    let unencoded = env
        .fake
        .log()
        .count_where(|e| e.path.contains("/container/team/api"));
    assert_eq!(unencoded, 0);
    let restore_path = format!("/team%2Fapi/versions/{}/restore", by_digest.id);
    let restores = env
        .fake
        .log()
        .count_where(|e| e.method == Method::POST && e.path.ends_with(&restore_path));
    assert_eq!(restores, 1);
}

#[tokio::test]
async fn restoring_many_versions_reports_each() {
    let env = support::start(support::accounts()).await;
    let repository = format!("{USER}/app");
    let digests = env.push_untagged(&repository, 4);
    let store = env.fake.store();
    let owner = Owner::user(USER);
    let ids: Vec<PackageVersionId> = digests
        .iter()
        .map(|d| store.version_id(&repository, d).unwrap())
        .collect();
    for id in &ids[..3] {
        env.client.delete_version(&owner, "app", *id).await.unwrap();
    }
    let mut asked = ids[..3].to_vec();
    asked.push(PackageVersionId(999_999));
    let report = env.client.restore_versions(&owner, "app", &asked).await;
    assert_eq!(report.restored, ids[..3]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].id, PackageVersionId(999_999));
    assert_eq!(report.failed[0].status, Some(404));
    assert_eq!(
        env.client
            .list_versions(&owner, "app", VersionState::Active)
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn deleting_and_restoring_a_package() {
    let env = support::start(support::accounts()).await;
    env.push_untagged(&format!("{ORG}/old"), 2);
    let owner = Owner::org(ORG);
    env.client.delete_package(&owner, "old").await.unwrap();
    assert!(
        env.client
            .get_package(&owner, "old")
            .await
            .unwrap_err()
            .is_not_found()
    );
    env.client.restore_package(&owner, "old").await.unwrap();
    assert_eq!(
        env.client.get_package(&owner, "old").await.unwrap().name,
        "old"
    );
}

#[tokio::test]
async fn write_endpoints_for_each_owner_kind() {
    let env = support::start(support::accounts()).await;
    env.push_untagged(&format!("{USER}/mine"), 2);
    env.push_untagged(&format!("{USER}/theirs"), 2);
    env.push_untagged(&format!("{ORG}/team/ours"), 2);
    for (owner, package) in [
        (Owner::AuthenticatedUser, "mine"),
        (Owner::user(USER), "theirs"),
        (Owner::org(ORG), "team/ours"),
    ] {
        let versions = env
            .client
            .list_versions(&owner, package, VersionState::Active)
            .await
            .unwrap();
        let id = versions[0].id;
        assert_eq!(
            env.client
                .get_version(&owner, package, id)
                .await
                .unwrap()
                .id,
            id
        );
        env.client
            .delete_version(&owner, package, id)
            .await
            .unwrap();
        assert_eq!(
            env.client
                .list_versions(&owner, package, VersionState::Active)
                .await
                .unwrap()
                .len(),
            1
        );
        env.client
            .restore_version(&owner, package, id)
            .await
            .unwrap();
        env.client.delete_package(&owner, package).await.unwrap();
        assert!(
            env.client
                .get_package(&owner, package)
                .await
                .unwrap_err()
                .is_not_found(),
            "{owner}"
        );
        env.client.restore_package(&owner, package).await.unwrap();
        let restored = env
            .client
            .list_versions(&owner, package, VersionState::Active)
            .await
            .unwrap();
        assert_eq!(restored.len(), 2, "{owner}");
    }
    let prefixes = [
        "/user/packages/",
        "/users/octo/packages/",
        "/orgs/octo-org/packages/",
    ];
    for prefix in prefixes {
        for method in [Method::DELETE, Method::POST] {
            let count = env
                .fake
                .log()
                .count_where(|e| e.method == method && e.path.starts_with(prefix));
            assert_eq!(count, 2, "{method} {prefix}");
        }
    }
}
