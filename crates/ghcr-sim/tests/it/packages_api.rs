//! The Packages REST API over the fake's store: every body validated
//! against GitHub's published schemas, plus the fields clients read.

use std::time::Duration;

use bytes::Bytes;
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_types::Visibility;

use crate::support::{Reply, assert_schema, authed, basic, bearer, fake, send};

const UA: (&str, &str) = ("user-agent", "ghcr-sim-tests");

pub(crate) async fn api(fake: &FakeGhcr, method: &str, path: &str, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    let url = format!("{}{path}", fake.api_base());
    send(method, &url, &[UA, ("authorization", &auth)], Bytes::new()).await
}

fn each(reply: &Reply, schema: &str) -> Vec<serde_json::Value> {
    let items = reply
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", reply.text()))
        .clone();
    for item in &items {
        assert_schema(schema, item);
    }
    items
}

pub(crate) fn error(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{}", reply.text());
    let body = reply.json();
    assert_schema("basic-error", &body);
    assert!(
        body["documentation_url"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.github.com/")
    );
    body["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn packages_and_versions_match_githubs_schemas() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"a")])
        .unwrap();
    store
        .push_index(
            "octo-org/team/app",
            "latest",
            &["linux/amd64", "linux/arm64"],
        )
        .unwrap();
    let mine = api(
        &fake,
        "GET",
        "/user/packages?package_type=container",
        "t-octo",
    )
    .await;
    assert_eq!(mine.status, 200);
    let packages = each(&mine, "package");
    assert_eq!(packages.len(), 1);
    let package = &packages[0];
    assert_eq!(
        (package["name"].as_str(), package["package_type"].as_str()),
        (Some("app"), Some("container"))
    );
    assert_eq!(package["visibility"], "private");
    assert_eq!(package["version_count"], 1);
    assert_eq!(package["owner"]["login"], "octo");
    assert_eq!(package["owner"]["type"], "User");
    assert_eq!(
        package["url"],
        format!("{}/users/octo/packages/container/app", fake.api_base())
    );
    assert_eq!(
        package["html_url"],
        "https://github.com/users/octo/packages/container/package/app"
    );
    let rate = api(&fake, "GET", "/rate_limit", "t-octo").await;
    assert_schema("rate-limit-overview", &rate.json());
}

#[tokio::test]
async fn nested_org_packages_use_encoded_names_and_list_their_versions() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let app = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"a")])
        .unwrap();
    store
        .push_index(
            "octo-org/team/app",
            "latest",
            &["linux/amd64", "linux/arm64"],
        )
        .unwrap();
    // The nested org package: `team%2Fapp` in paths, three versions (index + two platforms).
    let nested = api(
        &fake,
        "GET",
        "/orgs/octo-org/packages/container/team%2Fapp",
        "t-octo",
    )
    .await;
    assert_eq!(nested.status, 200, "{}", nested.text());
    let nested = nested.json();
    assert_schema("package", &nested);
    assert_eq!(nested["name"], "team/app");
    assert_eq!(nested["owner"]["type"], "Organization");
    assert_eq!(nested["version_count"], 3);
    assert!(
        nested["url"]
            .as_str()
            .unwrap()
            .ends_with("/orgs/octo-org/packages/container/team%2Fapp")
    );
    let unencoded = api(
        &fake,
        "GET",
        "/orgs/octo-org/packages/container/team/app",
        "t-octo",
    )
    .await;
    error(&unencoded, 404);
    let versions = api(
        &fake,
        "GET",
        "/orgs/octo-org/packages/container/team%2Fapp/versions",
        "t-octo",
    )
    .await;
    let versions = each(&versions, "package-version");
    assert_eq!(versions.len(), 3);
    let tagged: Vec<_> = versions
        .iter()
        .filter(|v| {
            !v["metadata"]["container"]["tags"]
                .as_array()
                .unwrap()
                .is_empty()
        })
        .collect();
    assert_eq!(
        tagged.len(),
        1,
        "the platform children are untagged versions"
    );
    assert_eq!(
        tagged[0]["metadata"]["container"]["tags"],
        serde_json::json!(["latest"])
    );
    assert_eq!(tagged[0]["metadata"]["package_type"], "container");
    // One version by id; its name is the manifest digest.
    let id = store.version_id("octo/app", &app.manifest).unwrap();
    let one = api(
        &fake,
        "GET",
        &format!("/users/octo/packages/container/app/versions/{id}"),
        "t-octo",
    )
    .await;
    let one = one.json();
    assert_schema("package-version", &one);
    assert_eq!(one["id"], id.0);
    assert_eq!(one["name"], app.manifest.as_str());
    assert_eq!(
        one["url"],
        format!(
            "{}/users/octo/packages/container/app/versions/{id}",
            fake.api_base()
        )
    );
    // The types crate reads what the fake writes.
    let parsed: ghcr_types::PackageVersion = serde_json::from_value(one).unwrap();
    assert_eq!(parsed.digest().unwrap(), app.manifest);
    assert_eq!(parsed.tags(), ["v1"]);
}

#[tokio::test]
async fn pagination_follows_link_and_caps_at_ten_thousand() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    for i in 0..7u8 {
        store
            .push_image(
                "octo/app",
                Some(&format!("v{i}")),
                &[Bytes::from(vec![i; 4])],
            )
            .unwrap();
    }
    let mut path = "/user/packages/container/app/versions?per_page=3".to_owned();
    let mut names = Vec::new();
    let mut links = Vec::new();
    loop {
        let page = api(&fake, "GET", &path, "t-octo").await;
        names.extend(
            each(&page, "package-version")
                .into_iter()
                .map(|v| v["name"].as_str().unwrap().to_owned()),
        );
        let Some(link) = page.header("link").map(str::to_owned) else {
            break;
        };
        links.push(link.clone());
        let Some(next) = link.split(", ").find(|l| l.ends_with("rel=\"next\"")) else {
            break;
        };
        let url = next.trim_start_matches('<').split('>').next().unwrap();
        path = url.strip_prefix(&fake.api_base()).unwrap().to_owned();
    }
    assert_eq!(names.len(), 7);
    names.dedup();
    assert_eq!(names.len(), 7, "no version twice");
    assert!(
        links[0].contains("per_page=3&page=2>; rel=\"next\""),
        "{}",
        links[0]
    );
    assert!(links[0].contains("page=3>; rel=\"last\""), "{}", links[0]);
    assert!(
        links[2].contains("page=2>; rel=\"prev\"") && links[2].contains("page=1>; rel=\"first\""),
        "{}",
        links[2]
    );
    // Newest first.
    let newest = store
        .versions("octo/app")
        .last()
        .unwrap()
        .digest
        .to_string();
    assert_eq!(names[0], newest);
    let over = api(
        &fake,
        "GET",
        "/user/packages?package_type=container&page=101&per_page=100",
        "t-octo",
    )
    .await;
    error(&over, 400);
    let at_cap = api(
        &fake,
        "GET",
        "/user/packages?package_type=container&page=100&per_page=100",
        "t-octo",
    )
    .await;
    assert_eq!(at_cap.status, 200);
    let missing_type = api(&fake, "GET", "/user/packages", "t-octo").await;
    assert!(error(&missing_type, 400).contains("package_type"));
}

#[tokio::test]
async fn deleting_a_version_untags_and_unpublishes_it_until_restored() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let first = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"1")])
        .unwrap();
    let second = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"2")])
        .unwrap();
    let versions = store.versions("octo/app");
    assert_eq!(
        versions[0].tags,
        Vec::<String>::new(),
        "the tag moved to the second push"
    );
    assert_eq!(versions[1].tags, ["v1"]);
    let second_id = store.version_id("octo/app", &second.manifest).unwrap();
    let path = format!("/user/packages/container/app/versions/{second_id}");
    let refused = api(&fake, "DELETE", &path, "t-octo").await;
    assert!(
        error(&refused, 400).contains("last tagged version"),
        "{}",
        refused.text()
    );
    store.tag("octo/app", "stable", &first.manifest).unwrap();
    assert_eq!(api(&fake, "DELETE", &path, "t-octo").await.status, 204);
    assert_eq!(store.tags("octo/app"), ["stable"]);
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let pulled = send(
        "GET",
        &format!(
            "{}/v2/octo/app/manifests/{}",
            fake.registry_url(),
            second.manifest
        ),
        &[("authorization", &auth)],
        Bytes::new(),
    )
    .await;
    assert_eq!(pulled.status, 404);
    let deleted = api(
        &fake,
        "GET",
        "/user/packages/container/app/versions?state=deleted",
        "t-octo",
    )
    .await;
    let deleted = each(&deleted, "package-version");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["name"], second.manifest.as_str());
    assert!(deleted[0]["deleted_at"].is_string());
    let active = api(
        &fake,
        "GET",
        "/user/packages/container/app/versions",
        "t-octo",
    )
    .await;
    assert_eq!(each(&active, "package-version").len(), 1);
    assert_eq!(
        api(&fake, "POST", &format!("{path}/restore"), "t-octo")
            .await
            .status,
        204
    );
    assert_eq!(store.tags("octo/app"), ["stable", "v1"]);
    // Deleted again, then 31 days later: gone for good.
    assert_eq!(api(&fake, "DELETE", &path, "t-octo").await.status, 204);
    fake.clock().advance(Duration::from_secs(31 * 24 * 3600));
    error(
        &api(&fake, "POST", &format!("{path}/restore"), "t-octo").await,
        404,
    );
    let listed = api(
        &fake,
        "GET",
        "/user/packages/container/app/versions?state=deleted",
        "t-octo",
    )
    .await;
    assert!(each(&listed, "package-version").is_empty());
}

#[tokio::test]
async fn downloads_count_and_popular_public_versions_stay() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let old = store
        .push_image("octo/app", Some("old"), &[Bytes::from_static(b"1")])
        .unwrap();
    store
        .push_image("octo/app", Some("new"), &[Bytes::from_static(b"2")])
        .unwrap();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    for _ in 0..3 {
        let got = authed(
            "GET",
            &format!("{}/v2/octo/app/manifests/old", fake.registry_url()),
            &auth,
        )
        .await;
        assert_eq!(got.status, 200);
    }
    authed(
        "HEAD",
        &format!("{}/v2/octo/app/manifests/old", fake.registry_url()),
        &auth,
    )
    .await;
    let id = store.version_id("octo/app", &old.manifest).unwrap();
    assert_eq!(
        store.versions("octo/app")[0].downloads,
        3,
        "GETs count, HEADs do not"
    );
    store
        .set_visibility("octo/app", Visibility::Public)
        .unwrap();
    store.set_downloads("octo/app", id, 5001).unwrap();
    let refused = api(
        &fake,
        "DELETE",
        &format!("/user/packages/container/app/versions/{id}"),
        "t-octo",
    )
    .await;
    assert!(error(&refused, 400).contains("more than 5000 downloads"));
    let package = api(&fake, "DELETE", "/user/packages/container/app", "t-octo").await;
    assert!(error(&package, 400).contains("more than 5000 downloads"));
}

#[tokio::test]
async fn deleting_and_restoring_a_package() {
    let fake = fake(Profile::Ghcr).await;
    fake.store()
        .push_image("octo-org/app", Some("v1"), &[Bytes::from_static(b"1")])
        .unwrap();
    let path = "/orgs/octo-org/packages/container/app";
    assert_eq!(api(&fake, "DELETE", path, "t-octo").await.status, 204);
    error(&api(&fake, "GET", path, "t-octo").await, 404);
    let list = api(
        &fake,
        "GET",
        "/orgs/octo-org/packages?package_type=container",
        "t-octo",
    )
    .await;
    assert!(each(&list, "package").is_empty());
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo-org/app:pull").await;
    let gone = authed(
        "GET",
        &format!("{}/v2/octo-org/app/tags/list", fake.registry_url()),
        &auth,
    )
    .await;
    assert_eq!((gone.status, gone.code().as_str()), (404, "NAME_UNKNOWN"));
    assert_eq!(
        api(&fake, "POST", &format!("{path}/restore"), "t-octo")
            .await
            .status,
        204
    );
    assert_eq!(api(&fake, "GET", path, "t-octo").await.status, 200);
}

#[tokio::test]
async fn auth_forms_user_agent_and_permissions() {
    let fake = FakeGhcr::builder()
        .user("octo", "t-octo")
        .user_with_scopes("bob", "t-bob", &[ghcr_sim::fake::PatScope::ReadPackages])
        .installation_token("octo", "t-actions")
        .org("octo-org", &["octo"])
        .grant("bob", "octo-org/app", ghcr_sim::fake::Permission::Admin)
        .start()
        .await
        .unwrap();
    fake.store()
        .push_image("octo-org/app", Some("v1"), &[Bytes::from_static(b"1")])
        .unwrap();
    let url = format!("{}/orgs/octo-org/packages/container/app", fake.api_base());
    let no_agent = authed("GET", &url, "Bearer t-octo").await;
    assert_eq!(no_agent.status, 403);
    assert!(no_agent.text().contains("User-Agent"));
    let anonymous = send("GET", &url, &[UA], Bytes::new()).await;
    assert_eq!(error(&anonymous, 401), "Requires authentication");
    let bad = send(
        "GET",
        &url,
        &[UA, ("authorization", "Bearer nope")],
        Bytes::new(),
    )
    .await;
    assert_eq!(error(&bad, 401), "Bad credentials");
    for auth in [
        "Bearer t-octo".to_owned(),
        "token t-octo".to_owned(),
        basic("octo", "t-octo"),
    ] {
        assert_eq!(
            send("GET", &url, &[UA, ("authorization", &auth)], Bytes::new())
                .await
                .status,
            200,
            "{auth}"
        );
    }
    // bob may read, and has an admin grant, but his PAT lacks delete:packages.
    let refused = api(
        &fake,
        "DELETE",
        "/orgs/octo-org/packages/container/app",
        "t-bob",
    )
    .await;
    assert!(error(&refused, 403).contains("delete:packages"));
    // A GITHUB_TOKEN-like token reads a package but cannot list the org's.
    assert_eq!(
        api(
            &fake,
            "GET",
            "/orgs/octo-org/packages/container/app",
            "t-actions"
        )
        .await
        .status,
        200
    );
    let listing = api(
        &fake,
        "GET",
        "/orgs/octo-org/packages?package_type=container",
        "t-actions",
    )
    .await;
    assert_eq!(
        error(&listing, 403),
        "Resource not accessible by integration"
    );
    let user = api(&fake, "GET", "/user", "t-octo").await;
    assert_eq!(user.status, 200);
    assert_schema("simple-user", &user.json());
    assert_eq!(user.json()["login"], "octo");
}

#[tokio::test]
async fn the_visibility_filter_and_other_owners_packages() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    for name in ["public-app", "private-app"] {
        store
            .push_image(
                &format!("octo-org/{name}"),
                Some("v1"),
                &[Bytes::from(name)],
            )
            .unwrap();
    }
    store
        .set_visibility("octo-org/public-app", Visibility::Public)
        .unwrap();
    let names = |reply: &Reply| -> Vec<String> {
        each(reply, "package")
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = "/orgs/octo-org/packages?package_type=container";
    assert_eq!(
        names(&api(&fake, "GET", base, "t-octo").await),
        ["private-app", "public-app"]
    );
    let public = api(&fake, "GET", &format!("{base}&visibility=public"), "t-octo").await;
    assert_eq!(names(&public), ["public-app"]);
    let private = api(
        &fake,
        "GET",
        &format!("{base}&visibility=private"),
        "t-octo",
    )
    .await;
    assert_eq!(names(&private), ["private-app"]);
    // bob sees only what he may read; another ecosystem lists nothing.
    assert_eq!(
        names(&api(&fake, "GET", base, "t-bob").await),
        ["public-app"]
    );
    let npm = api(
        &fake,
        "GET",
        "/orgs/octo-org/packages?package_type=npm",
        "t-octo",
    )
    .await;
    assert!(names(&npm).is_empty());
    // A user path for an organization is not found.
    error(
        &api(
            &fake,
            "GET",
            "/users/octo-org/packages?package_type=container",
            "t-octo",
        )
        .await,
        404,
    );
}
