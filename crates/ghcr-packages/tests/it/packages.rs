//! Packages for the three owner kinds: list (with visibility and
//! repository filters), get, delete, restore, and the errors GitHub gives.

use ghcr_packages::Error;
use ghcr_types::{Owner, Visibility};

use crate::support::{self, ORG, USER};

#[tokio::test]
async fn every_owner_kind_lists_and_gets_its_packages() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    store
        .push_image(
            &format!("{USER}/app"),
            Some("v1"),
            &[bytes::Bytes::from_static(b"a")],
        )
        .unwrap();
    store
        .push_image(
            &format!("{ORG}/team/api"),
            Some("v1"),
            &[bytes::Bytes::from_static(b"b")],
        )
        .unwrap();
    store
        .push_image(
            &format!("{ORG}/web"),
            Some("v1"),
            &[bytes::Bytes::from_static(b"c")],
        )
        .unwrap();
    store
        .set_visibility(&format!("{ORG}/web"), Visibility::Public)
        .unwrap();

    for (owner, expected) in [
        (Owner::AuthenticatedUser, vec!["app"]),
        (Owner::user(USER), vec!["app"]),
        (Owner::org(ORG), vec!["team/api", "web"]),
    ] {
        let names = support::package_names(&env.client, &owner).await;
        assert_eq!(names, expected, "{owner}");
        for name in expected {
            let package = env.client.get_package(&owner, name).await.unwrap();
            assert_eq!(package.name, name);
        }
    }
    let public = env
        .client
        .list_packages(&Owner::org(ORG), Some(&Visibility::Public))
        .await
        .unwrap();
    assert_eq!(
        public.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["web"]
    );
    assert_eq!(
        env.client
            .visibility(&Owner::org(ORG), "web")
            .await
            .unwrap(),
        Visibility::Public
    );
    assert_eq!(
        env.client
            .visibility(&Owner::org(ORG), "team/api")
            .await
            .unwrap(),
        Visibility::Private
    );
}

#[tokio::test]
async fn a_missing_package_says_it_may_be_permissions() {
    let env = support::start(support::accounts()).await;
    let error = env
        .client
        .get_package(&Owner::org(ORG), "nothing")
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("package nothing of organization octo-org"),
        "{text}"
    );
    assert!(text.contains("may not see a private package"), "{text}");
}

#[tokio::test]
async fn a_github_token_cannot_list_org_packages() {
    let fake_builder = support::accounts().installation_token(USER, "ghs_installation");
    let env = support::start(fake_builder).await;
    env.push_untagged(&format!("{ORG}/app"), 1);
    let transport = support::transport(&env.fake, USER, "ghs_installation")
        .build()
        .unwrap();
    let actions = support::client_with(&env.fake, transport, 900);
    let error = actions
        .list_packages(&Owner::org(ORG), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::OrgListingForbidden { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("GITHUB_TOKEN"), "{text}");
    assert!(text.contains("PAT (classic) with read:packages"), "{text}");
    assert!(
        text.contains("Resource not accessible by integration"),
        "{text}"
    );
}

#[tokio::test]
async fn visibility_cannot_be_set_and_the_error_says_where_to_do_it() {
    let env = support::start(support::accounts()).await;
    env.push_untagged(&format!("{ORG}/team/web"), 1);
    let owner = Owner::org(ORG);
    // Asking for what it already is succeeds without pretending anything.
    env.client
        .set_visibility(&owner, "team/web", &Visibility::Private)
        .await
        .unwrap();
    let error = env
        .client
        .set_visibility(&owner, "team/web", &Visibility::Public)
        .await
        .unwrap_err();
    let Error::Unsupported { settings_url, .. } = &error else {
        panic!("expected Unsupported, got {error:?}");
    };
    assert!(
        settings_url.ends_with("/orgs/octo-org/packages/container/team%2Fweb/settings"),
        "{settings_url}"
    );
    assert!(
        error.to_string().contains("no REST or GraphQL call"),
        "{error}"
    );
    env.fake
        .store()
        .set_visibility(&format!("{ORG}/team/web"), Visibility::Public)
        .unwrap();
    let error = env
        .client
        .set_visibility(&owner, "team/web", &Visibility::Private)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("can never be made private again"),
        "{error}"
    );
    // No request tried to change anything.
    assert_eq!(
        env.fake
            .log()
            .count_where(|e| e.method == http::Method::PATCH),
        0
    );
}

#[tokio::test]
async fn a_refused_token_never_shows_in_errors_or_debug() {
    let env = support::start(support::accounts()).await;
    let secret = "ghp_this-token-must-never-be-printed";
    let transport = support::transport(&env.fake, USER, secret).build().unwrap();
    let client = support::client_with(&env.fake, transport, 900);
    let error = client
        .list_packages(&Owner::org(ORG), None)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(401), "{error:?}");
    assert_eq!(error.github_message(), Some("Bad credentials"));
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn package_listings_follow_link_for_each_owner_kind() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    for n in 0..230 {
        for owner in [USER, ORG] {
            store
                .push_image(
                    &format!("{owner}/pkg-{n:03}"),
                    None,
                    &[bytes::Bytes::from(format!("{owner} {n}"))],
                )
                .unwrap();
        }
    }
    let expected: Vec<String> = (0..230).map(|n| format!("pkg-{n:03}")).collect();
    for owner in [Owner::AuthenticatedUser, Owner::user(USER), Owner::org(ORG)] {
        env.fake.log().clear();
        let names = support::package_names(&env.client, &owner).await;
        assert_eq!(names, expected, "{owner}");
        // Three pages of 100, the later ones from the Link header.
        let pages: Vec<String> = env
            .fake
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.path.ends_with("/packages"))
            .map(|e| e.query.unwrap_or_default())
            .collect();
        assert_eq!(pages.len(), 3, "{owner}: {pages:?}");
        assert!(pages.iter().all(|q| q.contains("package_type=container")));
        assert!(pages[2].contains("page=3"), "{pages:?}");
    }
}
