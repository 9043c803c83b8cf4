//! Every package, package-version and rate-limit example of GitHub's
//! OpenAPI description (`tests/data/github-examples.json`, extracted from
//! the reference notes' `github-packages-openapi.json`) parses, keeps every
//! documented field through a round trip, and exposes what the client reads.

use ghcr_types::{
    Package, PackageType, PackageVersion, PackageVersionId, RateLimitInfo, Visibility,
};
use serde_json::Value;

const EXAMPLES: &str = include_str!("../data/github-examples.json");

fn example(name: &str) -> Value {
    let all: Value = serde_json::from_str(EXAMPLES).unwrap();
    all.get(name)
        .unwrap_or_else(|| panic!("no example `{name}`"))
        .clone()
}

/// The example's objects: the elements of a list example, or the one object.
fn objects(name: &str) -> Vec<Value> {
    match example(name) {
        Value::Array(items) => items,
        object => vec![object],
    }
}

fn round_trips<T: serde::de::DeserializeOwned + serde::Serialize>(name: &str) -> Vec<T> {
    objects(name)
        .into_iter()
        .map(|original| {
            let parsed: T = serde_json::from_value(original.clone())
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(
                serde_json::to_value(&parsed).unwrap(),
                original,
                "{name}: a documented field was lost or changed"
            );
            parsed
        })
        .collect()
}

#[test]
fn package_examples() {
    for name in [
        "packages-for-org",
        "package-org",
        "packages-for-user",
        "package-user",
    ] {
        let packages: Vec<Package> = round_trips(name);
        assert!(!packages.is_empty(), "{name}");
        for package in &packages {
            let url = package.url.as_deref().unwrap_or_default();
            assert!(url.starts_with("https://api.github.com/"), "{name}");
            assert!(
                matches!(
                    package.visibility,
                    Some(Visibility::Public | Visibility::Private)
                ),
                "{name}: {:?}",
                package.visibility
            );
            assert!(package.owner.is_some(), "{name}");
        }
    }
    let org = &round_trips::<Package>("package-org")[0];
    assert_eq!(
        (org.name.as_str(), &org.package_type, org.version_count),
        ("hello_docker", &PackageType::Container, Some(1))
    );
    let user = &round_trips::<Package>("package-user")[0];
    assert_eq!(user.package_type, PackageType::Rubygems);
    let repository = user.repository.as_ref().expect("documented repository");
    assert_eq!(repository.full_name, "octocat/octo-name-repo");
    assert_eq!(repository.private, Some(false));
}

#[test]
fn package_version_examples() {
    for name in [
        "package-versions-for-org",
        "package-version-org",
        "package-versions-for-authenticated-user",
        "package-version-authenticated-user",
        "package-versions-for-user",
        "package-version-user",
    ] {
        let versions: Vec<PackageVersion> = round_trips(name);
        assert!(!versions.is_empty(), "{name}");
        for version in versions {
            let container = version
                .metadata
                .as_ref()
                .is_some_and(|m| m.package_type == Some(PackageType::Container));
            // A container version's name is its manifest digest; other
            // ecosystems name versions by their version number.
            assert_eq!(
                version.digest().is_ok(),
                container,
                "{name}: {}",
                version.name
            );
        }
    }
    let org = &round_trips::<PackageVersion>("package-version-org")[0];
    assert_eq!(org.id, PackageVersionId(836));
    assert_eq!(org.tags(), ["latest"]);
    assert_eq!(
        org.digest().unwrap().encoded(),
        "b3d3e366b55f9a54599220198b3db5da8f53592acbbb7dc7e4e9878762fc5344"
    );
    let listed: Vec<PackageVersion> = round_trips("package-versions-for-authenticated-user");
    assert!(listed[0].is_tagged());
    assert!(!listed[1].is_tagged(), "an untagged child manifest");
    let gem = &round_trips::<PackageVersion>("package-version-user")[0];
    assert_eq!(gem.license.as_deref(), Some("MIT"));
    assert!(gem.tags().is_empty());
}

#[test]
fn rate_limit_overview_example() {
    let overview = example("rate-limit-overview");
    for (budget, reset) in [
        (&overview["rate"], 1_372_700_873),
        (&overview["resources"]["core"], 1_691_591_363),
    ] {
        let info: RateLimitInfo = serde_json::from_value(budget.clone()).unwrap();
        assert_eq!((info.limit, info.remaining, info.used), (5000, 4999, 1));
        assert_eq!(info.reset.unix_timestamp(), reset);
        assert!(!info.is_exhausted());
    }
    let search: RateLimitInfo =
        serde_json::from_value(overview["resources"]["search"].clone()).unwrap();
    assert!((search.used_fraction() - 12.0 / 30.0).abs() < 1e-9);
}
