//! Referrers: the fallback tag on docker-registry 2.8 (no referrers API),
//! and the API where a server offers it, never following its redirects.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ghcr_registry::{
    BlobSource, ImageParts, Referrers, ReferrersSource, RegistryClient, TransferOptions,
};
use ghcr_types::{Manifest, MediaType, Reference};

use crate::images::platform_image;
use crate::support::listing::ReferrersApi;
use crate::support::{self, Auth, faulty, listing};

support::in_both_modes!(artifacts_with_a_subject_are_found_through_the_fallback_tag);

const SBOM: &str = "application/spdx+json";
const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// The referrers' digests, in order.
fn digests(found: &Referrers) -> Vec<String> {
    found
        .descriptors
        .iter()
        .map(|d| d.digest().to_string())
        .collect()
}

async fn attach(
    client: &RegistryClient,
    repository: &Reference,
    subject: &Manifest,
    artifact_type: &str,
    body: &[u8],
) -> Manifest {
    let parts = ImageParts::artifact(artifact_type.parse().unwrap())
        .layer(
            artifact_type.parse().unwrap(),
            BlobSource::bytes(body.to_vec()),
        )
        .annotation("org.opencontainers.image.created", "2026-11-26T00:00:00Z")
        .subject(subject.descriptor());
    client
        .push_image(repository, parts, &TransferOptions::new())
        .await
        .unwrap()
        .manifest
}

async fn artifacts_with_a_subject_are_found_through_the_fallback_tag(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/signed").unwrap();
    let image = platform_image(&client, &repository, "linux/amd64", 3).await;
    let subject = repository.with_tag("v1").unwrap();
    client.put_manifest(&subject, &image).await.unwrap();
    let none = client.referrers(&subject, None).await.unwrap();
    assert!(none.descriptors.is_empty());

    let spdx = b"{\"spdxVersion\":\"SPDX-2.3\"}";
    let sbom = attach(&client, &repository, &image, SBOM, spdx).await;
    let signature = attach(&client, &repository, &image, SIGNATURE, b"signature").await;
    let same = attach(&client, &repository, &image, SBOM, spdx).await;
    assert_eq!(same, sbom, "the same artifact again");

    let found = client.referrers(&subject, None).await.unwrap();
    assert_eq!(found.source, ReferrersSource::FallbackTag);
    assert_eq!(found.subject, *image.digest());
    assert_eq!(
        digests(&found),
        [sbom.digest().to_string(), signature.digest().to_string()],
        "each referrer once"
    );
    let first = &found.descriptors[0];
    assert_eq!(
        first
            .artifact_type()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some(SBOM)
    );
    assert!(
        first
            .annotations()
            .as_ref()
            .unwrap()
            .contains_key("org.opencontainers.image.created")
    );

    let only = client.referrers(&subject, Some(SIGNATURE)).await.unwrap();
    assert_eq!(only.descriptors.len(), 1);
    assert_eq!(
        only.descriptors[0].digest().to_string(),
        signature.digest().to_string()
    );
    let tags = client.list_tags(&repository).await.unwrap();
    assert!(
        tags.iter()
            .any(|t| t.as_str() == image.digest().referrers_tag()),
        "{tags:?}"
    );
}

/// The API is used when it answers 200 with an index; anything else (a
/// redirect, which is not followed, an error status, another document)
/// means the fallback tag. Either way, only `artifactType` matches count,
/// filtered here when the registry did not say it filtered.
#[tokio::test]
async fn the_api_is_used_when_served_and_anything_else_falls_back() {
    let hits = Arc::new(AtomicUsize::new(0));
    let elsewhere = faulty::counting_server(hits.clone()).await;
    let subject = ghcr_types::Digest::sha256_of(b"subject");
    let entry = |kind: &str, name: &[u8]| {
        serde_json::json!({
            "mediaType": MediaType::OciManifest.as_str(),
            "digest": ghcr_types::Digest::sha256_of(name).as_str(),
            "size": 10,
            "artifactType": kind,
        })
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OciIndex.as_str(),
        "manifests": [entry(SBOM, b"an sbom"), entry(SIGNATURE, b"a signature")],
    });
    for (api, expected) in [
        (ReferrersApi::Index, ReferrersSource::Api),
        (
            ReferrersApi::Redirect(format!("http://{elsewhere}/elsewhere")),
            ReferrersSource::FallbackTag,
        ),
        (ReferrersApi::Status(404), ReferrersSource::FallbackTag),
        (ReferrersApi::Status(400), ReferrersSource::FallbackTag),
        (ReferrersApi::Status(406), ReferrersSource::FallbackTag),
        (ReferrersApi::Status(429), ReferrersSource::FallbackTag),
        (ReferrersApi::Status(500), ReferrersSource::FallbackTag),
        (ReferrersApi::NotAnIndex, ReferrersSource::FallbackTag),
    ] {
        let (addr, requests) = listing::referrers_server(api.clone(), index.to_string()).await;
        // A 429 is waited out by the transport first: allow no wait here.
        let transport = ghcr_transport::Transport::builder()
            .allow_plain_http(addr.to_string())
            .max_rate_limit_wait(std::time::Duration::ZERO)
            .max_retries(0)
            .build()
            .unwrap();
        let client = RegistryClient::new(transport);
        let reference = Reference::parse(&format!("{addr}/team/app"))
            .unwrap()
            .with_digest(subject.clone());
        let found = client.referrers(&reference, Some(SBOM)).await.unwrap();
        assert_eq!(found.source, expected, "{api:?}");
        assert_eq!(
            digests(&found),
            [ghcr_types::Digest::sha256_of(b"an sbom").to_string()],
            "{api:?}"
        );
        let first = requests.lock().unwrap()[0].clone();
        assert!(
            first.ends_with(&format!(
                "/referrers/{subject}?artifactType=application%2Fspdx%2Bjson"
            )),
            "{api:?}: {first}"
        );
        let everything = client.referrers(&reference, None).await.unwrap();
        assert_eq!(everything.descriptors.len(), 2, "{api:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the 303 was not followed");
}
