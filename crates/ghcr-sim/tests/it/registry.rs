//! The distribution API driven with raw HTTP: the upload state machine,
//! digest verification, manifests and tag pagination, on both profiles.

use bytes::Bytes;
use ghcr_sim::fake::Profile;
use ghcr_types::Digest;

use crate::support::{Reply, authed, bearer, fake, send, start_upload};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest(layer: &[u8]) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
        Digest::sha256_of(b"{}"),
        Digest::sha256_of(layer),
        layer.len()
    )
}

/// Resolves an upload `Location` (relative on ghcr, absolute on generic).
fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{base}{location}")
    }
}

fn with_digest(location: &str, digest: &Digest) -> String {
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}digest={digest}")
}

async fn upload_chunked(profile: Profile) {
    let fake = fake(profile).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let headers = [("authorization", auth.as_str())];
    let started = start_upload(&base, &auth).await;
    assert_eq!(started.status, 202, "{}", started.text());
    assert_eq!(started.header("range"), Some("0-0"));
    let uuid = started.header("docker-upload-uuid").unwrap().to_owned();
    let mut location = absolute(&base, started.header("location").unwrap());
    assert!(location.contains(&uuid));
    let blob: Vec<u8> = (0..3000u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let digest = Digest::sha256_of(&blob);
    let mut offset = 0;
    for chunk in blob.chunks(1000) {
        let range = format!("{}-{}", offset, offset + chunk.len() - 1);
        let patched = send(
            "PATCH",
            &location,
            &[
                headers[0],
                ("content-range", &range),
                ("content-type", "application/octet-stream"),
            ],
            Bytes::copy_from_slice(chunk),
        )
        .await;
        assert_eq!(patched.status, 202, "{}", patched.text());
        offset += chunk.len();
        assert_eq!(
            patched.header("range"),
            Some(format!("0-{}", offset - 1).as_str())
        );
        location = absolute(&base, patched.header("location").unwrap());
    }
    // The status of the session says where it is.
    let status = send("GET", &location, &headers, Bytes::new()).await;
    assert_eq!(status.status, 204);
    assert_eq!(status.header("range"), Some("0-2999"));
    // An out-of-order chunk is refused with the current range.
    let wrong = send(
        "PATCH",
        &location,
        &[headers[0], ("content-range", "10-19")],
        vec![0u8; 10],
    )
    .await;
    assert_eq!(wrong.status, 416);
    assert_eq!(wrong.header("range"), Some("0-2999"));
    let closed = send(
        "PUT",
        &with_digest(&location, &digest),
        &headers,
        Bytes::new(),
    )
    .await;
    assert_eq!(closed.status, 201, "{}", closed.text());
    assert_eq!(
        closed.header("docker-content-digest"),
        Some(digest.as_str())
    );
    let head = send(
        "HEAD",
        &format!("{base}/v2/octo/app/blobs/{digest}"),
        &headers,
        Bytes::new(),
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("3000"));
    assert_eq!(fake.store().blob(&digest).unwrap(), blob);
}

#[tokio::test]
async fn chunked_upload_on_ghcr() {
    upload_chunked(Profile::Ghcr).await;
}

#[tokio::test]
async fn chunked_upload_on_generic_follows_each_location() {
    upload_chunked(Profile::Generic).await;
    // A stale location (the state before the last PATCH) is refused.
    let fake = fake(Profile::Generic).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let headers = [("authorization", auth.as_str())];
    let started = start_upload(&base, &auth).await;
    let first = started.header("location").unwrap().to_owned();
    assert!(first.starts_with("http://"), "{first}");
    let patched = send("PATCH", &first, &headers, vec![1u8; 5]).await;
    assert_eq!(patched.status, 202);
    let stale = send("PATCH", &first, &headers, vec![1u8; 5]).await;
    assert_eq!(stale.status, 400);
    assert_eq!(stale.code(), "BLOB_UPLOAD_INVALID");
}

/// A chunk sent again after its answer was lost goes to the Location the
/// client had (stale on the generic profile): the spec's answer to a chunk
/// out of order is 416 with the current `Range` and `Location`, not 400.
#[tokio::test]
async fn a_chunk_sent_again_is_416_with_the_current_range_on_both_profiles() {
    for profile in [Profile::Ghcr, Profile::Generic] {
        let fake = fake(profile).await;
        let base = fake.registry_url();
        let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
        let started = start_upload(&base, &auth).await;
        let first = absolute(&base, started.header("location").unwrap());
        let chunk = [("authorization", auth.as_str()), ("content-range", "0-999")];
        let patched = send("PATCH", &first, &chunk, vec![7u8; 1000]).await;
        assert_eq!(patched.status, 202, "{profile:?}: {}", patched.text());
        let current = patched.header("location").unwrap().to_owned();
        let again = send("PATCH", &first, &chunk, vec![7u8; 1000]).await;
        assert_eq!(again.status, 416, "{profile:?}: {}", again.text());
        assert_eq!(again.header("range"), Some("0-999"), "{profile:?}");
        assert_eq!(
            again.header("location"),
            Some(current.as_str()),
            "{profile:?}"
        );
    }
}

#[tokio::test]
async fn monolithic_and_one_shot_uploads_verify_digests() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let headers = [("authorization", auth.as_str())];
    let blob = b"monolithic blob".to_vec();
    let digest = Digest::sha256_of(&blob);
    let wrong = Digest::sha256_of(b"something else");
    // POST ?digest= with the whole body.
    let bad = send(
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/?digest={wrong}"),
        &headers,
        blob.clone(),
    )
    .await;
    assert_eq!((bad.status, bad.code().as_str()), (400, "DIGEST_INVALID"));
    let good = send(
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/?digest={digest}"),
        &headers,
        blob.clone(),
    )
    .await;
    assert_eq!(good.status, 201, "{}", good.text());
    assert_eq!(
        good.header("location"),
        Some(format!("/v2/octo/app/blobs/{digest}").as_str())
    );
    // POST then PUT with the body.
    let started = start_upload(&base, &auth).await;
    let location = format!("{base}{}", started.header("location").unwrap());
    let bad = send(
        "PUT",
        &with_digest(&location, &wrong),
        &headers,
        blob.clone(),
    )
    .await;
    assert_eq!((bad.status, bad.code().as_str()), (400, "DIGEST_INVALID"));
    // A failed close ends the session.
    let gone = send(
        "PUT",
        &with_digest(&location, &digest),
        &headers,
        blob.clone(),
    )
    .await;
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (404, "BLOB_UPLOAD_UNKNOWN")
    );
    // Malformed digests and a missing digest are refused too.
    for query in ["?digest=sha256:abc", "?digest=md5:abc", ""] {
        let started = start_upload(&base, &auth).await;
        let location = format!("{base}{}{query}", started.header("location").unwrap());
        let refused = send("PUT", &location, &headers, blob.clone()).await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (400, "DIGEST_INVALID"),
            "{query}"
        );
    }
    // The krustlet bug: `&digest=` without `?` is not an upload URL.
    let started = start_upload(&base, &auth).await;
    let location = format!(
        "{base}{}&digest={digest}",
        started.header("location").unwrap()
    );
    assert_eq!(send("PUT", &location, &headers, blob).await.status, 404);
}

#[tokio::test]
async fn manifests_are_verified_and_referenced_content_must_exist() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let layer = b"layer bytes";
    let body = manifest(layer);
    let digest = Digest::sha256_of(body.as_bytes());
    let put = |reference: String, body: String| {
        let auth = auth.clone();
        let base = base.clone();
        async move {
            send(
                "PUT",
                &format!("{base}/v2/octo/app/manifests/{reference}"),
                &[
                    ("authorization", auth.as_str()),
                    ("content-type", OCI_MANIFEST),
                ],
                body,
            )
            .await
        }
    };
    let missing = put("v1".into(), body.clone()).await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );
    fake.store()
        .push_blob("octo/app", Bytes::from_static(layer))
        .unwrap();
    let wrong = put(Digest::sha256_of(b"x").to_string(), body.clone()).await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (400, "DIGEST_INVALID")
    );
    let invalid = put("v1".into(), "{\"schemaVersion\":1}".into()).await;
    assert_eq!(
        (invalid.status, invalid.code().as_str()),
        (400, "MANIFEST_INVALID")
    );
    let by_digest = put(digest.to_string(), body.clone()).await;
    assert_eq!(by_digest.status, 201, "{}", by_digest.text());
    let tagged = put("v1".into(), body.clone()).await;
    assert_eq!(tagged.status, 201);
    assert_eq!(
        tagged.header("docker-content-digest"),
        Some(digest.as_str())
    );
    assert_eq!(
        tagged.header("location"),
        Some(format!("/v2/octo/app/manifests/{digest}").as_str())
    );
    let got: Reply = authed("GET", &format!("{base}/v2/octo/app/manifests/v1"), &auth).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, body.as_bytes(), "the exact bytes come back");
    assert_eq!(got.header("content-type"), Some(OCI_MANIFEST));
    assert_eq!(got.header("docker-content-digest"), Some(digest.as_str()));
    let head = authed(
        "HEAD",
        &format!("{base}/v2/octo/app/manifests/{digest}"),
        &auth,
    )
    .await;
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(
        head.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    let unknown = authed("GET", &format!("{base}/v2/octo/app/manifests/v2"), &auth).await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
}

#[tokio::test]
async fn cross_repository_mount_needs_the_blob_and_read_access() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let digest = fake
        .store()
        .push_blob("octo-org/base", Bytes::from_static(b"shared layer"))
        .unwrap();
    let scope = "repository:octo/app:pull,push&scope=repository:octo-org/base:pull";
    let auth = bearer(&fake, "octo", "t-octo", scope).await;
    let headers = [("authorization", auth.as_str())];
    let mounted = send(
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/?mount={digest}&from=octo-org/base"),
        &headers,
        Bytes::new(),
    )
    .await;
    assert_eq!(mounted.status, 201, "{}", mounted.text());
    assert_eq!(
        mounted.header("location"),
        Some(format!("/v2/octo/app/blobs/{digest}").as_str())
    );
    // Not there: an upload session opens instead (202), as the spec says.
    let absent = Digest::sha256_of(b"absent");
    let fallback = send(
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/?mount={absent}&from=octo-org/base"),
        &headers,
        Bytes::new(),
    )
    .await;
    assert_eq!(fallback.status, 202);
    // Without pull on the source, no mount either.
    let narrow = bearer(&fake, "octo", "t-octo", "repository:octo/other:pull,push").await;
    let refused = authed(
        "POST",
        &format!("{base}/v2/octo/other/blobs/uploads/?mount={digest}&from=octo-org/base"),
        &narrow,
    )
    .await;
    assert_eq!(refused.status, 202);
}

#[tokio::test]
async fn tag_pagination_with_relative_link() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let image = fake
        .store()
        .push_image("octo/app", Some("a"), &[Bytes::from_static(b"l")])
        .unwrap();
    for tag in ["b", "c", "d", "e"] {
        fake.store().tag("octo/app", tag, &image.manifest).unwrap();
    }
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let mut url = format!("{base}/v2/octo/app/tags/list?n=2");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = authed("GET", &url, &auth).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.json()["name"], "octo/app");
        for tag in page.json()["tags"].as_array().unwrap() {
            seen.push(tag.as_str().unwrap().to_owned());
        }
        pages += 1;
        let Some(link) = page.header("link") else {
            break;
        };
        assert!(
            link.starts_with("</v2/octo/app/tags/list?n=2&last="),
            "{link}"
        );
        let target = link.trim_start_matches('<').split('>').next().unwrap();
        url = format!("{base}{target}");
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    assert_eq!(pages, 3);
    // ghcr.io pages at 100 without `n`.
    for i in 0..105 {
        fake.store()
            .tag("octo/app", &format!("t{i:03}"), &image.manifest)
            .unwrap();
    }
    let first = authed("GET", &format!("{base}/v2/octo/app/tags/list"), &auth).await;
    assert_eq!(first.json()["tags"].as_array().unwrap().len(), 100);
    assert!(first.header("link").unwrap().contains("n=100&last="));
    let all = authed(
        "GET",
        &format!("{base}/v2/octo/app/tags/list?n=10000"),
        &auth,
    )
    .await;
    assert_eq!(all.json()["tags"].as_array().unwrap().len(), 110);
    assert_eq!(all.header("link"), None);
}

#[tokio::test]
async fn chunk_min_length_is_announced_when_configured() {
    let fake = ghcr_sim::fake::FakeGhcr::builder()
        .user("octo", "t-octo")
        .chunk_min_length(5 * 1024 * 1024)
        .start()
        .await
        .unwrap();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let started = start_upload(&fake.registry_url(), &auth).await;
    assert_eq!(started.header("oci-chunk-min-length"), Some("5242880"));
    let plain = fake_default().await;
    let auth = bearer(&plain, "octo", "t-octo", "repository:octo/app:pull,push").await;
    assert_eq!(
        start_upload(&plain.registry_url(), &auth)
            .await
            .header("oci-chunk-min-length"),
        None
    );
}

async fn fake_default() -> ghcr_sim::fake::FakeGhcr {
    fake(Profile::Ghcr).await
}
