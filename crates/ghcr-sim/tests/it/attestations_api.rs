//! GitHub's attestations API on the fake: Sigstore bundles by subject
//! digest, validated against GitHub's published schema, seen only by who
//! may read the package, filtered by predicate type and paged by cursor.

use base64::Engine as _;
use bytes::Bytes;
use ghcr_sim::attest::{
    Attachment, COSIGN_VULN_PREDICATE, Envelope, IN_TOTO_VULNS_PREDICATE, VulnFormat,
};
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_types::{Digest, Visibility};
use serde_json::Value;

use crate::packages_api::{api, error};
use crate::support::{Reply, assert_schema, fake, send};

/// The predicate type of each listed bundle, checking the bundle names
/// `subject` and the body matches GitHub's schema.
fn predicates(reply: &Reply, subject: &Digest) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_schema("attestations-by-subject-digest", &body);
    body["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            assert!(entry["repository_id"].as_u64().unwrap() > 0);
            let envelope = &entry["bundle"]["dsseEnvelope"];
            let payload = base64::engine::general_purpose::STANDARD
                .decode(envelope["payload"].as_str().unwrap())
                .unwrap();
            let statement: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(
                statement["subject"][0]["digest"]["sha256"],
                subject.encoded()
            );
            statement["predicateType"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// A fake with `octo/app:v1` carrying a bundle in the registry (also listed
/// by the API), a DSSE envelope (registry only) and an API-only bundle.
async fn seeded() -> (FakeGhcr, Digest) {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let image = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"layer")])
        .unwrap()
        .manifest;
    store
        .attach(
            "octo/app",
            &image,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::SigstoreBundle),
        )
        .unwrap();
    store
        .attach(
            "octo/app",
            &image,
            &Attachment::Vulnerabilities(VulnFormat::CosignSarif, Envelope::Dsse),
        )
        .unwrap();
    let predicate = store
        .attest_on_github("octo/app", &image, VulnFormat::InTotoVulns)
        .unwrap();
    assert_eq!(predicate, IN_TOTO_VULNS_PREDICATE);
    (fake, image)
}

#[tokio::test]
async fn bundles_are_listed_by_subject_for_users_and_repos() {
    let (fake, image) = seeded().await;
    let path = format!("/users/octo/attestations/{image}");
    let listed = predicates(&api(&fake, "GET", &path, "t-octo").await, &image);
    assert_eq!(listed, [COSIGN_VULN_PREDICATE, IN_TOTO_VULNS_PREDICATE]);

    let repo = format!("/repos/octo/app/attestations/{image}");
    assert_eq!(
        predicates(&api(&fake, "GET", &repo, "t-octo").await, &image).len(),
        2
    );
    // The registry holds the bundle pushed with the image, not the API-only one.
    let tag = image.referrers_tag();
    let (index, _) = fake.store().manifest("octo/app", &tag).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&index).unwrap()["manifests"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let other = Digest::sha256_of(b"not attested");
    let none = api(
        &fake,
        "GET",
        &format!("/users/octo/attestations/{other}"),
        "t-octo",
    )
    .await;
    assert_eq!(error(&none, 404), "Not Found");
    let wrong_kind = api(
        &fake,
        "GET",
        &format!("/orgs/octo/attestations/{image}"),
        "t-octo",
    )
    .await;
    assert_eq!(error(&wrong_kind, 404), "Not Found");
    let malformed = api(&fake, "GET", "/users/octo/attestations/sha256:zz", "t-octo").await;
    assert_eq!(error(&malformed, 404), "Not Found");
}

#[tokio::test]
async fn private_packages_hide_their_attestations() {
    let (fake, image) = seeded().await;
    let url = format!("{}/users/octo/attestations/{image}", fake.api_base());
    let ua = ("user-agent", "ghcr-sim-tests");
    let anonymous = send("GET", &url, &[ua], Bytes::new()).await;
    assert_eq!(error(&anonymous, 404), "Not Found");
    // bob may read packages but has no permission on octo's private one.
    let path = format!("/users/octo/attestations/{image}");
    assert_eq!(
        error(&api(&fake, "GET", &path, "t-bob").await, 404),
        "Not Found"
    );

    fake.store()
        .set_visibility("octo/app", Visibility::Public)
        .unwrap();
    let anonymous = send("GET", &url, &[ua], Bytes::new()).await;
    assert_eq!(predicates(&anonymous, &image).len(), 2);
    assert_eq!(
        predicates(&api(&fake, "GET", &path, "t-bob").await, &image).len(),
        2
    );
}

#[tokio::test]
async fn predicate_filters_and_cursor_pages() {
    let (fake, image) = seeded().await;
    let base = format!("/users/octo/attestations/{image}");
    let only = api(
        &fake,
        "GET",
        &format!("{base}?predicate_type={IN_TOTO_VULNS_PREDICATE}"),
        "t-octo",
    )
    .await;
    assert_eq!(predicates(&only, &image), [IN_TOTO_VULNS_PREDICATE]);
    let sboms = api(
        &fake,
        "GET",
        &format!("{base}?predicate_type=sbom"),
        "t-octo",
    )
    .await;
    assert_eq!(error(&sboms, 404), "Not Found");

    let first = api(&fake, "GET", &format!("{base}?per_page=1"), "t-octo").await;
    assert_eq!(predicates(&first, &image), [COSIGN_VULN_PREDICATE]);
    let link = first.header("link").expect("a next link").to_owned();
    let next = link
        .strip_prefix('<')
        .and_then(|rest| rest.split_once(">; rel=\"next\""))
        .map_or_else(
            || panic!("not a next link: {link}"),
            |(url, _)| url.to_owned(),
        );
    let path = next.strip_prefix(&fake.api_base()).unwrap();
    let second = api(&fake, "GET", path, "t-octo").await;
    assert_eq!(predicates(&second, &image), [IN_TOTO_VULNS_PREDICATE]);
    assert_eq!(second.header("link"), None);

    let bad = api(&fake, "GET", &format!("{base}?after=xyz"), "t-octo").await;
    assert!(error(&bad, 400).contains("cursor"));
}

/// A keyless bundle attached to the registry is listed by the API too,
/// whole: its certificate and its log entry with the inclusion proof.
#[tokio::test]
async fn keyless_bundles_are_listed_with_their_verification_material() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let image = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"keyless")])
        .unwrap()
        .manifest;
    store
        .attach(
            "octo/app",
            &image,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, Envelope::KeylessBundle),
        )
        .unwrap();
    let reply = api(
        &fake,
        "GET",
        &format!("/users/octo/attestations/{image}"),
        "t-octo",
    )
    .await;
    assert_eq!(predicates(&reply, &image), [COSIGN_VULN_PREDICATE]);
    let bundle = &reply.json()["attestations"][0]["bundle"];
    let material = &bundle["verificationMaterial"];
    let certificate = base64::engine::general_purpose::STANDARD
        .decode(material["certificate"]["rawBytes"].as_str().unwrap())
        .unwrap();
    // A DER SEQUENCE with a two-byte length: a real certificate.
    assert_eq!(certificate[..2], [0x30, 0x82]);
    let entry = &material["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "dsse");
    assert!(entry["inclusionProof"]["checkpoint"]["envelope"].is_string());
}
