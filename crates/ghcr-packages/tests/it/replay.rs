//! Replays of recorded sessions (`fixtures/<name>` at the workspace root): listing with
//! pagination, a cleanup's deletes with their restore, and a
//! vulnerability lookup. Recorded against the fake with
//! `cargo xtask record`, replayed with no server.

use bytes::Bytes;
use ghcr_packages::{RetentionPolicy, VersionState};
use ghcr_sim::attest::{Attachment, Envelope, SAMPLE_VULNERABILITIES, VulnFormat};
use ghcr_types::{Owner, OwnerType, PackageVersionId, Severity};

use crate::support;

#[tokio::test]
async fn packages_list() {
    let (fixture, client) = support::fixture("packages_list").await;
    let org = fixture.organization().to_owned();
    if let Some(fake) = fixture.fake() {
        let store = fake.store();
        for n in 0..120 {
            let layer = Bytes::from(format!("build {n}"));
            store
                .push_image(&format!("{org}/team/api"), None, &[layer])
                .unwrap();
        }
        store
            .push_image(
                &format!("{org}/web"),
                Some("v1"),
                &[Bytes::from_static(b"web")],
            )
            .unwrap();
    }
    let owner = Owner::org(&org);
    assert_eq!(
        support::package_names(&client, &owner).await,
        ["team/api", "web"]
    );
    let versions = client
        .list_versions(&owner, "team/api", VersionState::Active)
        .await
        .unwrap();
    assert_eq!(versions.len(), 120);
    assert!(
        versions.windows(2).all(|pair| pair[0].id > pair[1].id),
        "newest first"
    );
    let web = client
        .find_version_by_tag(&owner, "web", "v1")
        .await
        .unwrap();
    assert_eq!(web.tags(), ["v1"]);
    fixture.finish().unwrap();
}

#[tokio::test]
async fn packages_delete() {
    let (fixture, client) = support::fixture("packages_delete").await;
    let user = fixture.namespace().to_owned();
    if let Some(fake) = fixture.fake() {
        let store = fake.store();
        let repository = format!("{user}/app");
        store
            .push_index(&repository, "v1", &["linux/amd64", "linux/arm64"])
            .unwrap();
        for n in 0..3 {
            store
                .push_image(&repository, None, &[Bytes::from(format!("leftover {n}"))])
                .unwrap();
        }
    }
    let owner = Owner::user(&user);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let report = client.cleanup(&owner, "app", &policy).await.unwrap();
    assert!(report.is_complete(), "{report}");
    let deleted = report.deleted();
    assert_eq!(deleted.len(), 3, "the platform manifests of v1 stay");
    assert_eq!(report.kept().len(), 3);
    let restored = client
        .restore_versions(&owner, "app", &report.restore_hint().ids)
        .await;
    assert_eq!(restored.restored, deleted);
    assert!(restored.failed.is_empty());
    let gone = client
        .get_version(&owner, "app", PackageVersionId(1))
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    fixture.finish().unwrap();
}

#[tokio::test]
async fn vulnerabilities() {
    let (fixture, client) = support::fixture("vulnerabilities").await;
    let org = fixture.organization().to_owned();
    let repository = format!("{org}/app");
    if let Some(fake) = fixture.fake() {
        let store = fake.store();
        let image = store
            .push_image(&repository, Some("v1"), &[Bytes::from_static(b"scanned")])
            .unwrap();
        store
            .attach(&repository, &image.manifest, &Attachment::Sbom)
            .unwrap();
        let scan = Attachment::Vulnerabilities(VulnFormat::CosignSarif, Envelope::SigstoreBundle);
        store.attach(&repository, &image.manifest, &scan).unwrap();
        store
            .push_image(&repository, Some("v2"), &[Bytes::from_static(b"unscanned")])
            .unwrap();
    }
    let listing = client
        .list_vulnerable_versions(&org, "app", OwnerType::Organization, Severity::High)
        .await
        .unwrap();
    assert_eq!(listing.vulnerable.len(), 1);
    assert_eq!(listing.without_data.len(), 1);
    let version = &listing.vulnerable[0].version;
    let report = client
        .get_vulnerabilities(&org, "app", version.id, OwnerType::Organization)
        .await
        .unwrap();
    let ids: Vec<&str> = report
        .vulnerabilities
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    let expected: Vec<&str> = SAMPLE_VULNERABILITIES.iter().map(|v| v.id).collect();
    assert_eq!(ids, expected);
    assert_eq!(report.source.format, "sarif");
    assert!(!report.source.signature_verified);
    fixture.finish().unwrap();
}
