//! ghcr-sim's fake in its two profiles: ghcr.io (relative upload Locations
//! without a query, no referrers API) and a spec-conforming registry
//! (absolute Locations carrying a `_state`, the referrers API with
//! `OCI-Subject`): every upload path commits with the query its Location
//! needs, `OCI-Chunk-Min-Length` is honoured, pushes go blobs, children,
//! index, and referrers come from the API where there is one.

use ghcr_registry::{
    BlobSource, ImageParts, ReferrersSource, TransferOptions, UploadMode, UploadOptions,
};
use ghcr_sim::fake::{FakeGhcr, Listener, Profile};
use ghcr_types::{Digest, MediaType, Reference};
use http::Method;

use crate::images::multi_arch;
use crate::support::{self, data};

const USER: &str = "octo";
const TOKEN: &str = "token-for-octo";

async fn fake(profile: Profile) -> FakeGhcr {
    FakeGhcr::builder()
        .profile(profile)
        .user(USER, TOKEN)
        .start()
        .await
        .unwrap()
}

/// The body sizes of the PATCHes the fake received, in order.
fn patch_sizes(fake: &FakeGhcr) -> Vec<u64> {
    fake.log()
        .entries()
        .into_iter()
        .filter(|e| e.method == Method::PATCH)
        .map(|e| e.body_len)
        .collect()
}

fn reference(fake: &FakeGhcr, path: &str) -> Reference {
    Reference::parse(&format!("{}/{path}", fake.registry_host())).unwrap()
}

/// ghcr.io answers 404 to `…/uploads/<id>&digest=`; the generic profile
/// refuses a commit that lost its `_state`. Every strategy commits on both.
#[tokio::test]
async fn every_upload_path_commits_with_the_query_its_location_needs() {
    for profile in [Profile::Ghcr, Profile::Generic] {
        let fake = fake(profile).await;
        for mode in [
            UploadMode::Streamed,
            UploadMode::Monolithic,
            UploadMode::Chunked,
        ] {
            let client = support::fake_client(&fake, USER, TOKEN)
                .upload_mode(mode)
                .chunk_size(1 << 20)
                .build()
                .unwrap();
            for (size, digest_known) in [(1000, true), (3 << 20, true), (3 << 20, false)] {
                let blob = data(size, size as u64 + u64::from(digest_known));
                let source = if digest_known {
                    BlobSource::bytes(blob.clone())
                } else {
                    BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None)
                };
                let repository = reference(&fake, &format!("octo/q{}", fastrand::u32(..)));
                let pushed = client
                    .push_blob(&repository, source, &UploadOptions::new())
                    .await
                    .unwrap_or_else(|e| panic!("{profile:?} {mode:?} {size}: {e}"));
                assert_eq!(
                    fake.store().blob(&pushed.digest),
                    Some(blob),
                    "{profile:?} {mode:?} {size}"
                );
            }
        }
    }
}

#[tokio::test]
async fn chunks_are_at_least_the_length_the_registry_asks_for() {
    let fake = FakeGhcr::builder()
        .user(USER, TOKEN)
        .chunk_min_length(4096)
        .start()
        .await
        .unwrap();
    let client = support::fake_client(&fake, USER, TOKEN)
        .upload_mode(UploadMode::Chunked)
        .chunk_size(1024)
        .build()
        .unwrap();
    let blob = data(10_000, 9);
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let pushed = client
        .push_blob(&reference(&fake, "octo/min"), source, &UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(fake.store().blob(&pushed.digest), Some(blob));
    let sizes = patch_sizes(&fake);
    assert_eq!(sizes, [4096, 4096, 1808]);
}

/// A registry asking for 1 PiB chunks gets chunks no larger than the
/// client's memory budget, not an allocation of its size.
#[tokio::test]
async fn a_huge_chunk_min_length_is_clamped_to_the_memory_budget() {
    let fake = FakeGhcr::builder()
        .user(USER, TOKEN)
        .chunk_min_length(1 << 50)
        .start()
        .await
        .unwrap();
    let client = support::fake_client(&fake, USER, TOKEN)
        .upload_mode(UploadMode::Chunked)
        .chunk_size(1 << 20)
        .memory_budget(2 << 20)
        .build()
        .unwrap();
    let blob = data(5 << 20, 12);
    let source = BlobSource::reader(std::io::Cursor::new(blob.to_vec()), None);
    let pushed = client
        .push_blob(
            &reference(&fake, "octo/huge-min"),
            source,
            &UploadOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(fake.store().blob(&pushed.digest), Some(blob));
    let sizes = patch_sizes(&fake);
    assert_eq!(sizes, [2 << 20, 2 << 20, 1 << 20]);
}

/// What a failed push could leave must never be a tag: every blob is up
/// before the first manifest, the children before the index, the tag last.
#[tokio::test]
async fn a_multi_arch_push_writes_blobs_then_children_then_the_tag() {
    let fake = fake(Profile::Ghcr).await;
    let client = support::fake_client(&fake, USER, TOKEN).build().unwrap();
    let source = reference(&fake, "octo/src");
    let (index, children) = multi_arch(&client, &source, "v1").await;
    let dir = tempfile::tempdir().unwrap();
    client
        .pull_to_layout(
            &source.with_tag("v1").unwrap(),
            dir.path(),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    fake.log().clear();
    client
        .push_layout(
            dir.path(),
            Some("v1"),
            &reference(&fake, "octo/dst:v2"),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    let writes: Vec<String> = fake
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.listener == Listener::Registry && e.status.is_success())
        .filter(|e| matches!(e.method, Method::PUT | Method::PATCH | Method::POST))
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    let manifests: Vec<&String> = writes
        .iter()
        .filter(|w| w.contains("/manifests/"))
        .collect();
    let expected: Vec<String> = children
        .iter()
        .map(|c| format!("PUT /v2/octo/dst/manifests/{}", c.digest()))
        .chain(["PUT /v2/octo/dst/manifests/v2".to_owned()])
        .collect();
    assert_eq!(manifests, expected.iter().collect::<Vec<_>>(), "{writes:?}");
    let first_manifest = writes.iter().position(|w| w.contains("/manifests/"));
    let last_blob = writes.iter().rposition(|w| w.contains("/blobs/"));
    assert!(last_blob < first_manifest, "{writes:?}");
    assert_eq!(
        fake.store()
            .manifest("octo/dst", "v2")
            .map(|(bytes, _)| bytes),
        Some(index.bytes().clone())
    );
}

/// Where the registry serves the referrers API and answers `OCI-Subject`,
/// no fallback tag is written, and the API's own filter is trusted.
#[tokio::test]
async fn referrers_come_from_the_api_where_the_registry_serves_it() {
    let fake = fake(Profile::Generic).await;
    let client = support::fake_client(&fake, USER, TOKEN).build().unwrap();
    let subject = reference(&fake, "octo/app:v1");
    let image = client
        .push_image(
            &subject,
            ImageParts::new(&br#"{"os":"linux","architecture":"amd64"}"#[..])
                .layer(MediaType::OciLayerGzip, BlobSource::bytes(data(1000, 6))),
            &TransferOptions::new(),
        )
        .await
        .unwrap();
    let mut pushed = Vec::new();
    for kind in ["application/spdx+json", "application/vnd.in-toto+json"] {
        let artifact = ImageParts::artifact(kind.parse().unwrap())
            .layer(
                kind.parse().unwrap(),
                BlobSource::bytes(kind.as_bytes().to_vec()),
            )
            .subject(image.manifest.descriptor());
        let report = client
            .push_image(
                &reference(&fake, "octo/app"),
                artifact,
                &TransferOptions::new(),
            )
            .await
            .unwrap();
        pushed.push(report.digest);
    }
    let all = client.referrers(&subject, None).await.unwrap();
    assert_eq!(all.source, ReferrersSource::Api);
    let mut found: Vec<Digest> = all
        .descriptors
        .iter()
        .map(|d| Digest::try_from(d.digest()).unwrap())
        .collect();
    found.sort();
    pushed.sort();
    assert_eq!(found, pushed);
    let sboms = client
        .referrers(&subject, Some("application/spdx+json"))
        .await
        .unwrap();
    assert_eq!(sboms.descriptors.len(), 1);
    assert!(
        !fake
            .store()
            .tags("octo/app")
            .contains(&image.digest.referrers_tag()),
        "the registry noted the subject: no fallback tag"
    );
}
