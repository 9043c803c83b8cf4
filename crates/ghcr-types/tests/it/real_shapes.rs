//! Answers shaped like api.github.com's real ones, which leave out fields
//! the OpenAPI description calls required: the list-packages answer has no
//! `version_count`, owners come trimmed, versions lack `html_url`, a
//! version's `metadata.container` may have no `tags`. Each sample parses,
//! and what is absent reads as absent (never as a made-up value).

use ghcr_types::{Package, PackageType, PackageVersion, Visibility};
use serde_json::{Value, json};

/// `GET /orgs/octo-org/packages?package_type=container`, as GitHub answers
/// it: no `version_count`, no `repository`, a trimmed owner.
fn listed_package() -> Value {
    json!({
        "id": 4_120_587,
        "name": "team/app",
        "package_type": "container",
        "owner": {
            "login": "octo-org",
            "id": 91_723,
            "node_id": "O_kgDOAAFmCw",
            "type": "Organization",
            "site_admin": false
        },
        "visibility": "private",
        "url": "https://api.github.com/orgs/octo-org/packages/container/team%2Fapp",
        "created_at": "2024-03-05T10:11:12Z",
        "updated_at": "2026-11-30T08:00:01Z",
        "html_url": "https://github.com/orgs/octo-org/packages/container/package/team%2Fapp"
    })
}

/// `GET …/versions`, as GitHub answers it for a child manifest of an index:
/// no `html_url`, no `description`, and `container` without `tags`.
fn listed_version() -> Value {
    json!({
        "id": 301_552_114,
        "name": "sha256:b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344",
        "url": "https://api.github.com/orgs/octo-org/packages/container/team%2Fapp/versions/301552114",
        "package_html_url": "https://github.com/orgs/octo-org/packages/container/package/team%2Fapp",
        "created_at": "2026-11-30T08:00:00Z",
        "updated_at": "2026-11-30T08:00:00Z",
        "metadata": {"package_type": "container", "container": {}}
    })
}

fn without(mut value: Value, fields: &[&str]) -> Value {
    for field in fields {
        let mut target = &mut value;
        let mut path: Vec<&str> = field.split('.').collect();
        let last = path.pop().unwrap_or_default();
        for step in path {
            target = &mut target[step];
        }
        if let Some(object) = target.as_object_mut() {
            object.remove(last);
        }
    }
    value
}

#[test]
fn the_list_packages_answer_parses_without_version_count() {
    let package: Package = serde_json::from_value(listed_package())
        .unwrap_or_else(|error| panic!("the real list-packages answer: {error}"));
    assert_eq!(package.name, "team/app");
    assert_eq!(package.version_count, None);
    assert_eq!(package.visibility, Some(Visibility::Private));
    let owner = package.owner.as_ref().unwrap();
    assert_eq!(owner.login, "octo-org");
    assert_eq!(owner.kind.as_deref(), Some("Organization"));
    assert_eq!(owner.html_url, None);
    assert!(package.repository.is_none());
    // Absent fields stay absent in a round trip.
    let back = serde_json::to_value(&package).unwrap();
    assert!(back.get("version_count").is_none(), "{back}");
}

#[test]
fn packages_parse_with_optional_in_practice_fields_left_out() {
    for fields in [
        &["version_count"][..],
        &["html_url"],
        &["url"],
        &["visibility"],
        &["updated_at"],
        &["created_at"],
        &["owner"],
        &["owner.id", "owner.type", "owner.node_id"],
        &[
            "version_count",
            "html_url",
            "updated_at",
            "visibility",
            "owner",
        ],
    ] {
        let sample = without(listed_package(), fields);
        let package: Package = serde_json::from_value(sample)
            .unwrap_or_else(|error| panic!("without {fields:?}: {error}"));
        assert_eq!(package.package_type, PackageType::Container, "{fields:?}");
    }
    // A linked repository with only its names.
    let mut sample = listed_package();
    sample["repository"] = json!({"id": 1, "name": "app", "full_name": "octo-org/app"});
    let package: Package = serde_json::from_value(sample).unwrap();
    let repository = package.repository.unwrap();
    assert_eq!(repository.full_name, "octo-org/app");
    assert_eq!((repository.private, repository.html_url), (None, None));
    // Still an error: no name, nothing to address the package by.
    assert!(serde_json::from_value::<Package>(without(listed_package(), &["name"])).is_err());
}

#[test]
fn versions_parse_with_optional_in_practice_fields_left_out() {
    let version: PackageVersion = serde_json::from_value(listed_version())
        .unwrap_or_else(|error| panic!("the real version answer: {error}"));
    assert!(version.tags().is_empty());
    assert!(version.digest().is_ok());
    for fields in [
        &["url", "package_html_url"][..],
        &["updated_at"],
        &["metadata"],
        &["metadata.container"],
        &["metadata.package_type"],
    ] {
        let sample = without(listed_version(), fields);
        let version: PackageVersion = serde_json::from_value(sample)
            .unwrap_or_else(|error| panic!("without {fields:?}: {error}"));
        assert!(!version.is_tagged(), "{fields:?}");
    }
    // The id and the digest are what a cleanup acts on: still required.
    for field in ["id", "name", "created_at"] {
        assert!(
            serde_json::from_value::<PackageVersion>(without(listed_version(), &[field])).is_err(),
            "{field}"
        );
    }
}
