//! The JSON GitHub returns for users, packages and versions, built from
//! `ghcr-types`' own objects so the client reads exactly what it expects.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_types::{
    ContainerMetadata, Package, PackageId, PackageOwner, PackageType, PackageVersion,
    PackageVersionId, PackageVersionMetadata,
};

use crate::fake::accounts::{Account, AccountKind};
use crate::fake::state::{Repo, Version};

/// `team/app` as a path segment: every `/` becomes `%2F`.
pub(crate) fn encode_name(name: &str) -> String {
    name.replace('/', "%2F")
}

/// The owner's path prefix as GitHub writes it in URLs.
fn owner_path(login: &str, account: &Account) -> String {
    match account.kind {
        AccountKind::User => format!("/users/{login}"),
        AccountKind::Organization => format!("/orgs/{login}"),
    }
}

fn html_owner(login: &str, account: &Account) -> String {
    match account.kind {
        AccountKind::User => format!("https://github.com/users/{login}"),
        AccountKind::Organization => format!("https://github.com/orgs/{login}"),
    }
}

/// GitHub's `simple-user` for an account.
pub(crate) fn simple_user(api: &str, login: &str, account: &Account) -> serde_json::Value {
    let kind = match account.kind {
        AccountKind::User => "User",
        AccountKind::Organization => "Organization",
    };
    let user = format!("{api}/users/{login}");
    serde_json::json!({
        "login": login,
        "id": account.id,
        "node_id": STANDARD.encode(format!("04:{kind}{}", account.id)),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", account.id),
        "gravatar_id": "",
        "url": user,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{user}/followers"),
        "following_url": format!("{user}/following{{/other_user}}"),
        "gists_url": format!("{user}/gists{{/gist_id}}"),
        "starred_url": format!("{user}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{user}/subscriptions"),
        "organizations_url": format!("{user}/orgs"),
        "repos_url": format!("{user}/repos"),
        "events_url": format!("{user}/events{{/privacy}}"),
        "received_events_url": format!("{user}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

/// A package object.
pub(crate) fn package(
    api: &str,
    login: &str,
    account: &Account,
    name: &str,
    repo: &Repo,
) -> Package {
    let encoded = encode_name(name);
    let owner = simple_user(api, login, account);
    let mut other = owner.as_object().cloned().unwrap_or_default();
    for key in ["login", "id", "type", "html_url"] {
        other.remove(key);
    }
    Package {
        id: PackageId(repo.package.id),
        name: name.to_owned(),
        package_type: PackageType::Container,
        owner: Some(PackageOwner {
            login: login.to_owned(),
            id: Some(account.id),
            kind: Some(owner["type"].as_str().unwrap_or("User").to_owned()),
            html_url: Some(format!("https://github.com/{login}")),
            other,
        }),
        version_count: Some(repo.active_versions() as u64),
        visibility: Some(repo.package.visibility.clone()),
        url: Some(format!(
            "{api}{}/packages/container/{encoded}",
            owner_path(login, account)
        )),
        html_url: Some(format!(
            "{}/packages/container/package/{encoded}",
            html_owner(login, account)
        )),
        repository: None,
        created_at: Some(repo.package.created_at),
        updated_at: Some(repo.package.updated_at),
    }
}

/// A package version object.
pub(crate) fn version(
    api: &str,
    login: &str,
    account: &Account,
    name: &str,
    repo: &Repo,
    id: u64,
    version: &Version,
) -> PackageVersion {
    let encoded = encode_name(name);
    let tags = match &version.saved {
        Some((_, tags)) => tags.clone(),
        None => repo.tags_of(&version.digest),
    };
    PackageVersion {
        id: PackageVersionId(id),
        name: version.digest.to_string(),
        url: Some(format!(
            "{api}{}/packages/container/{encoded}/versions/{id}",
            owner_path(login, account)
        )),
        package_html_url: Some(format!(
            "{}/packages/container/package/{encoded}",
            html_owner(login, account)
        )),
        html_url: Some(format!(
            "{}/packages/container/{encoded}/{id}",
            html_owner(login, account)
        )),
        license: None,
        description: None,
        created_at: version.created_at,
        updated_at: Some(version.updated_at),
        deleted_at: version.deleted_at,
        metadata: Some(PackageVersionMetadata {
            package_type: Some(PackageType::Container),
            container: Some(ContainerMetadata { tags }),
            docker: None,
        }),
    }
}
