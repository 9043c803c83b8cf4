//! Each ghcr.io quirk the reference notes record, and the generic profile's
//! spec behaviour where it differs, driven with raw HTTP.

use std::time::Duration;

use bytes::Bytes;
use ghcr_sim::fake::{Listener, Profile};
use ghcr_types::Digest;

use crate::support::{authed, basic, bearer, fake, send, start_upload};

#[tokio::test]
async fn ping_challenge_uses_the_placeholder_scope_and_v2_needs_its_slash() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let ping = send("GET", &format!("{base}/v2/"), &[], Bytes::new()).await;
    assert_eq!(ping.status, 401);
    assert_eq!(
        ping.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    assert!(ping.header("x-github-request-id").is_some());
    let challenge = ping.header("www-authenticate").unwrap();
    assert_eq!(
        challenge,
        format!(
            r#"Bearer realm="{}",service="{}",scope="repository:user/image:pull""#,
            fake.token_realm(),
            fake.registry_host()
        )
    );
    assert_eq!(ping.code(), "UNAUTHORIZED");
    // A real repository path challenges with its own scope.
    let repo = send(
        "GET",
        &format!("{base}/v2/octo/app/tags/list"),
        &[],
        Bytes::new(),
    )
    .await;
    assert!(
        repo.header("www-authenticate")
            .unwrap()
            .ends_with(r#"scope="repository:octo/app:pull""#)
    );
    let push = send(
        "POST",
        &format!("{base}/v2/octo/app/blobs/uploads/"),
        &[],
        Bytes::new(),
    )
    .await;
    assert!(
        push.header("www-authenticate")
            .unwrap()
            .ends_with(r#"scope="repository:octo/app:pull,push""#)
    );
    assert_eq!(
        send("GET", &format!("{base}/v2"), &[], Bytes::new())
            .await
            .status,
        404
    );
    // The placeholder scope yields a token with credentials, a denial without.
    let anonymous = send(
        "GET",
        &format!("{}?scope=repository:user/image:pull", fake.token_realm()),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(
        (anonymous.status, anonymous.code().as_str()),
        (403, "DENIED")
    );
    let token = bearer(&fake, "octo", "t-octo", "repository:user/image:pull").await;
    let authorized_ping = authed("GET", &format!("{base}/v2/"), &token).await;
    assert_eq!(authorized_ping.status, 200);
}

#[tokio::test]
async fn token_answers_have_no_expiry_and_refuse_a_bearer_pat() {
    let fake = fake(Profile::Ghcr).await;
    let realm = format!("{}?scope=repository:octo/app:pull", fake.token_realm());
    let answer = authed("GET", &realm, &basic("octo", "t-octo")).await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert!(body["token"].is_string());
    assert!(
        body.get("expires_in").is_none() && body.get("access_token").is_none(),
        "{body}"
    );
    let bearer_pat = authed("GET", &realm, "Bearer t-octo").await;
    assert_eq!(bearer_pat.status, 401);
    let wrong = authed("GET", &realm, &basic("octo", "nope")).await;
    assert_eq!(wrong.status, 401);
    let someone_elses = authed("GET", &realm, &basic("bob", "t-octo")).await;
    assert_eq!(someone_elses.status, 401);
    // The generic profile sends the spec's fields.
    let generic = fake_generic().await;
    let realm = format!("{}?scope=repository:octo/app:pull", generic.token_realm());
    let answer = authed("GET", &realm, &basic("octo", "t-octo")).await;
    let body = answer.json();
    assert_eq!(body["token"], body["access_token"]);
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].is_string());
}

async fn fake_generic() -> ghcr_sim::fake::FakeGhcr {
    fake(Profile::Generic).await
}

#[tokio::test]
async fn basic_credentials_sent_to_the_registry_are_denied() {
    let fake = fake(Profile::Ghcr).await;
    let url = format!("{}/v2/octo/app/tags/list", fake.registry_url());
    let denied = authed("GET", &url, &basic("octo", "t-octo")).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json()["errors"][0],
        serde_json::json!({"code": "DENIED", "message": "invalid token"})
    );
    assert!(denied.header("www-authenticate").is_none());
}

#[tokio::test]
async fn permissions_and_scopes_decide_what_a_token_grants() {
    let fake = fake(Profile::Ghcr).await;
    fake.store()
        .push_image("octo-org/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    let base = fake.registry_url();
    // bob has no access to a private package: the token grants nothing; pushing is denied.
    let token = bearer(&fake, "bob", "t-bob", "repository:octo-org/app:pull,push").await;
    let pull = authed(
        "GET",
        &format!("{base}/v2/octo-org/app/manifests/v1"),
        &token,
    )
    .await;
    assert_eq!(pull.status, 403, "{}", pull.text());
    fake.store()
        .grant("bob", "octo-org/app", ghcr_sim::fake::Permission::Write);
    let token = bearer(&fake, "bob", "t-bob", "repository:octo-org/app:pull,push").await;
    let pull = authed(
        "GET",
        &format!("{base}/v2/octo-org/app/manifests/v1"),
        &token,
    )
    .await;
    assert_eq!(pull.status, 200);
    // bob's PAT has read:packages only, so no push even with a write grant.
    let push = authed(
        "POST",
        &format!("{base}/v2/octo-org/app/blobs/uploads/"),
        &token,
    )
    .await;
    assert_eq!(push.status, 403);
    assert_eq!(
        push.json()["errors"][0]["message"],
        "permission_denied: write_package"
    );
    // A public package pulls with an anonymous token, and only pulls.
    fake.store()
        .set_visibility("octo-org/app", ghcr_types::Visibility::Public)
        .unwrap();
    let anonymous = send(
        "GET",
        &format!("{}?scope=repository:octo-org/app:pull", fake.token_realm()),
        &[],
        Bytes::new(),
    )
    .await;
    let token = format!("Bearer {}", anonymous.json()["token"].as_str().unwrap());
    let pull = authed(
        "GET",
        &format!("{base}/v2/octo-org/app/manifests/v1"),
        &token,
    )
    .await;
    assert_eq!(pull.status, 200);
    let push = send(
        "GET",
        &format!("{}?scope=repository:octo-org/app:push", fake.token_realm()),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(push.status, 403);
    // A token for one repository does not open another: challenge for the right scope.
    let other = authed("GET", &format!("{base}/v2/octo/app/tags/list"), &token).await;
    assert_eq!(other.status, 401);
}

#[tokio::test]
async fn deletes_are_unsupported_on_ghcr_and_work_on_generic() {
    for profile in [Profile::Ghcr, Profile::Generic] {
        let fake = fake(profile).await;
        let image = fake
            .store()
            .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
            .unwrap();
        let auth = bearer(
            &fake,
            "octo",
            "t-octo",
            "repository:octo/app:pull,push,delete",
        )
        .await;
        let url = format!(
            "{}/v2/octo/app/manifests/{}",
            fake.registry_url(),
            image.manifest
        );
        let deleted = authed("DELETE", &url, &auth).await;
        if profile == Profile::Ghcr {
            assert_eq!(deleted.status, 405);
            assert_eq!(
                deleted.json()["errors"][0],
                serde_json::json!({"code": "UNSUPPORTED", "message": "The operation is unsupported."})
            );
            assert!(fake.store().manifest("octo/app", "v1").is_some());
        } else {
            assert_eq!(deleted.status, 202);
            assert!(fake.store().manifest("octo/app", "v1").is_none());
            assert!(
                fake.store().tags("octo/app").is_empty(),
                "its tags went with it"
            );
        }
    }
}

#[tokio::test]
async fn content_range_patches_over_the_cap_get_ghcrs_416() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let started = start_upload(&base, &auth).await;
    let location = format!("{base}{}", started.header("location").unwrap());
    let too_big = vec![0u8; 4 * 1024 * 1024 + 1];
    let range = format!("0-{}", too_big.len() - 1);
    let refused = send(
        "PATCH",
        &location,
        &[("authorization", &auth), ("content-range", &range)],
        too_big.clone(),
    )
    .await;
    assert_eq!(refused.status, 416);
    assert_eq!(
        refused.text(),
        r#"{"errors":[{"code":"REQUESTED_RANGE_NOT_SATISFIABLE","message":"the request body is too large and exceeds the maximum permissible limit of 4.00MiB"}]}"#
    );
    // Exactly 4 MiB passes, and a streamed PATCH without Content-Range has no cap.
    let exact = vec![0u8; 4 * 1024 * 1024];
    let range = format!("0-{}", exact.len() - 1);
    let ok = send(
        "PATCH",
        &location,
        &[("authorization", &auth), ("content-range", &range)],
        exact,
    )
    .await;
    assert_eq!(ok.status, 202);
    let streamed = send("PATCH", &location, &[("authorization", &auth)], too_big).await;
    assert_eq!(streamed.status, 202);
}

#[tokio::test]
async fn referrers_and_catalog_are_unsupported_on_ghcr() {
    let fake = fake(Profile::Ghcr).await;
    let image = fake
        .store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let base = fake.registry_url();
    let referrers = authed(
        "GET",
        &format!("{base}/v2/octo/app/referrers/{}", image.manifest),
        &auth,
    )
    .await;
    assert_eq!(
        (referrers.status, referrers.code().as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
    let catalog = authed("GET", &format!("{base}/v2/_catalog"), &auth).await;
    assert_eq!(
        (catalog.status, catalog.code().as_str()),
        (404, "UNSUPPORTED")
    );
}

#[tokio::test]
async fn blob_gets_redirect_to_a_storage_host_that_refuses_authorization() {
    let fake = fake(Profile::Ghcr).await;
    let layer = Bytes::from(vec![9u8; 1000]);
    let image = fake
        .store()
        .push_image("octo/app", Some("v1"), std::slice::from_ref(&layer))
        .unwrap();
    let digest = &image.layers[0];
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let url = format!("{}/v2/octo/app/blobs/{digest}", fake.registry_url());
    let redirect = authed("GET", &url, &auth).await;
    assert_eq!(redirect.status, 307);
    let location = redirect.header("location").unwrap().to_owned();
    assert!(
        location.starts_with(&format!(
            "http://{}/blobs/{digest}?expires=",
            fake.storage_host()
        )),
        "{location}"
    );
    assert!(location.contains("&sig="));
    // Following with the token, as a careless client would: refused.
    let leaked = authed("GET", &location, &auth).await;
    assert_eq!(leaked.status, 400);
    assert!(leaked.text().contains("Only one auth mechanism allowed"));
    let fetched = send("GET", &location, &[], Bytes::new()).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, layer);
    let ranged = send("GET", &location, &[("range", "bytes=10-19")], Bytes::new()).await;
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.header("content-range"), Some("bytes 10-19/1000"));
    assert_eq!(ranged.body.len(), 10);
    // A tampered signature and an expired URL are refused.
    let tampered = location.replace("&sig=", "&sig=00");
    assert_eq!(send("GET", &tampered, &[], Bytes::new()).await.status, 403);
    fake.clock().advance(Duration::from_secs(301));
    let expired = send("GET", &location, &[], Bytes::new()).await;
    assert_eq!(expired.status, 403);
    assert!(expired.text().contains("Request has expired"));
    let storage = fake.log().storage_requests();
    assert_eq!(storage.len(), 5);
    assert!(storage[0].has_authorization() && !storage[1].has_authorization());
    assert!(
        storage
            .iter()
            .all(|entry| entry.listener == Listener::Storage)
    );
}

#[tokio::test]
async fn generic_profile_serves_blobs_and_referrers_with_subject() {
    let fake = fake(Profile::Generic).await;
    let store = fake.store();
    let image = store
        .push_image("octo/app", Some("v1"), &[Bytes::from(vec![1u8; 64])])
        .unwrap();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let base = fake.registry_url();
    let blob = authed(
        "GET",
        &format!("{base}/v2/octo/app/blobs/{}", image.layers[0]),
        &auth,
    )
    .await;
    assert_eq!((blob.status, blob.body.len()), (200, 64));
    // An artifact with a subject: OCI-Subject on push, then found by the referrers API.
    let empty = store
        .push_blob("octo/app", Bytes::from_static(b"{}"))
        .unwrap();
    let artifact = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}},"layers":[],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{}}}}}"#,
        image.manifest,
        image.bytes.len()
    );
    let digest = Digest::sha256_of(artifact.as_bytes());
    let pushed = send(
        "PUT",
        &format!("{base}/v2/octo/app/manifests/{digest}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/vnd.oci.image.manifest.v1+json"),
        ],
        artifact,
    )
    .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text());
    assert_eq!(pushed.header("oci-subject"), Some(image.manifest.as_str()));
    let referrers = format!("{base}/v2/octo/app/referrers/{}", image.manifest);
    let listed = authed("GET", &referrers, &auth).await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let manifests = listed.json()["manifests"].clone();
    assert_eq!(manifests.as_array().unwrap().len(), 1);
    assert_eq!(manifests[0]["digest"], digest.as_str());
    assert_eq!(manifests[0]["artifactType"], "application/vnd.example.sbom");
    let filtered = authed(
        "GET",
        &format!("{referrers}?artifactType=application/vnd.other"),
        &auth,
    )
    .await;
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    assert!(filtered.json()["manifests"].as_array().unwrap().is_empty());
}
