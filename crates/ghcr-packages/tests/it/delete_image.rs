//! Deleting an image by reference: the version found from the listing, the
//! other-tags refusal unless forced, and the way back.

use ghcr_packages::{DeleteTags, Error, VersionState};
use ghcr_types::{Owner, OwnerType, Reference};

use crate::support::{self, ORG, USER};

#[tokio::test]
async fn a_tag_shared_with_others_is_refused_unless_forced() {
    let env = support::start(support::accounts()).await;
    let repository = format!("{ORG}/app");
    let store = env.fake.store();
    let v1 = store
        .push_image(&repository, Some("v1"), &[bytes::Bytes::from_static(b"1")])
        .unwrap();
    store.tag(&repository, "latest", &v1.manifest).unwrap();
    store
        .push_image(&repository, Some("v2"), &[bytes::Bytes::from_static(b"2")])
        .unwrap();
    let reference = env.reference(&repository).with_tag("v1").unwrap();

    let error = env
        .client
        .delete_image(OwnerType::Organization, &reference, DeleteTags::OnlyNamed)
        .await
        .unwrap_err();
    let Error::OtherTags { tags, .. } = &error else {
        panic!("expected OtherTags, got {error:?}");
    };
    assert_eq!(tags, &["latest"]);
    assert!(
        error
            .to_string()
            .contains("a version is one digest with all its tags"),
        "{error}"
    );
    assert_eq!(
        store.tags(&repository),
        ["latest", "v1", "v2"],
        "nothing was deleted"
    );
    assert_eq!(
        env.fake
            .log()
            .count_where(|e| e.method == http::Method::DELETE),
        0
    );

    let deleted = env
        .client
        .delete_image(OwnerType::Organization, &reference, DeleteTags::All)
        .await
        .unwrap();
    assert_eq!(deleted.digest, v1.manifest);
    assert_eq!(deleted.tags.len(), 2);
    assert_eq!(store.tags(&repository), ["v2"]);
    assert!(env.pull(&reference).await.is_err());
    assert!(
        env.pull(&env.reference(&repository).with_tag("v2").unwrap())
            .await
            .is_ok()
    );
    // The hint names the version; restoring brings both tags back.
    assert_eq!(deleted.restore.ids, [deleted.version_id]);
    env.client
        .restore_version(&Owner::org(ORG), "app", deleted.version_id)
        .await
        .unwrap();
    assert_eq!(store.tags(&repository), ["latest", "v1", "v2"]);
    env.pull(&reference).await.unwrap();
}

#[tokio::test]
async fn by_digest_untagged_goes_and_tagged_needs_force() {
    let env = support::start(support::accounts()).await;
    let repository = format!("{USER}/app");
    let store = env.fake.store();
    let tagged = store
        .push_image(&repository, Some("v1"), &[bytes::Bytes::from_static(b"1")])
        .unwrap();
    let loose = env.push_untagged(&repository, 1).remove(0);
    let base = env.reference(&repository);

    env.client
        .delete_image(
            OwnerType::User,
            &base.with_digest(loose.clone()),
            DeleteTags::OnlyNamed,
        )
        .await
        .unwrap();
    let error = env
        .client
        .delete_image(
            OwnerType::User,
            &base.with_digest(tagged.manifest.clone()),
            DeleteTags::OnlyNamed,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::OtherTags { .. }), "{error:?}");
    let active = env
        .client
        .list_versions(&Owner::user(USER), "app", VersionState::Active)
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    // A tag and a digest that disagree name nothing.
    let mismatched = base.with_tag("v1").unwrap().with_digest(loose);
    let error = env
        .client
        .delete_image(OwnerType::User, &mismatched, DeleteTags::All)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::VersionNotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn other_registries_are_refused() {
    let env = support::start(support::accounts()).await;
    let reference = Reference::parse("docker.io/library/alpine:3").unwrap();
    let error = env
        .client
        .delete_image(OwnerType::User, &reference, DeleteTags::All)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::WrongRegistry { .. }), "{error:?}");
    assert!(env.fake.log().is_empty());
}
