//! Tags on a real registry: pagination, filters, tag, retag, delete.

use futures_util::StreamExt;
use ghcr_registry::{BlobSource, Error, ImageParts, RegistryClient, TransferOptions};
use ghcr_types::{Reference, Tag};

use crate::support::{self, Auth, listing};

support::in_both_modes!(
    listing_25_tags_two_at_a_time,
    tag_retag_and_delete_a_tag_keep_the_image
);

async fn image(client: &RegistryClient, target: &Reference, note: &str) -> ghcr_types::Digest {
    let parts = ImageParts::new(format!(r#"{{"note":"{note}"}}"#).into_bytes()).layer(
        ghcr_types::MediaType::OciLayerTar,
        BlobSource::bytes(note.as_bytes().to_vec()),
    );
    client
        .push_image(target, parts, &TransferOptions::new())
        .await
        .unwrap()
        .digest
}

fn tag(text: &str) -> Tag {
    Tag::parse(text).unwrap()
}

async fn listing_25_tags_two_at_a_time(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/many").unwrap();
    let digest = image(&client, &repository.with_tag("t00").unwrap(), "many").await;
    for i in 1..25 {
        client
            .tag(
                &repository.with_digest(digest.clone()),
                &tag(&format!("t{i:02}")),
            )
            .await
            .unwrap();
    }
    // docker-registry 2.8 ignores `n` and answers in storage order; the
    // paging itself is covered against a server that pages below.
    let mut paged: Vec<Tag> = client
        .tags(&repository, Some(2))
        .map(Result::unwrap)
        .collect()
        .await;
    paged.sort();
    let expected: Vec<Tag> = (0..25).map(|i| tag(&format!("t{i:02}"))).collect();
    assert_eq!(paged, expected);
    let mut listed = client.list_tags(&repository).await.unwrap();
    listed.sort();
    assert_eq!(listed, expected);
    let mut matching = client
        .list_tags_matching(&repository, r"^t1[0-4]$")
        .await
        .unwrap();
    matching.sort();
    assert_eq!(
        matching,
        (10..15).map(|i| tag(&format!("t{i}"))).collect::<Vec<_>>()
    );
    let error = client
        .list_tags_matching(&repository, "(")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidFilter { .. }), "{error}");
    let missing = client
        .list_tags(&registry.reference("team/none").unwrap())
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
}

async fn tag_retag_and_delete_a_tag_keep_the_image(auth: Auth) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let repository = registry.reference("team/tags").unwrap();
    let v1 = repository.with_tag("v1").unwrap();
    let digest = image(&client, &v1, "tags").await;

    assert_eq!(client.tag(&v1, &tag("stable")).await.unwrap(), digest);
    let stable = repository.with_tag("stable").unwrap();
    assert_eq!(
        client.get_manifest(&stable).await.unwrap().digest(),
        &digest
    );

    assert_eq!(
        client
            .retag(&repository, &tag("stable"), &tag("prod"))
            .await
            .unwrap(),
        digest
    );
    let mut tags = client.list_tags(&repository).await.unwrap();
    tags.sort();
    assert_eq!(tags, vec![tag("prod"), tag("v1")]);

    client
        .delete_tag(&repository.with_tag("prod").unwrap())
        .await
        .unwrap();
    assert_eq!(
        client.list_tags(&repository).await.unwrap(),
        vec![tag("v1")]
    );
    assert_eq!(
        client.resolve_digest(&v1).await.unwrap(),
        digest,
        "the image and its other tag stay"
    );
    let gone = client
        .delete_tag(&repository.with_tag("prod").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(gone, Error::ManifestNotFound { .. }), "{gone}");
    let by_digest = client
        .delete_tag(&repository.with_digest(digest))
        .await
        .unwrap_err();
    assert!(
        matches!(by_digest, Error::InvalidReference { .. }),
        "{by_digest}"
    );
}

/// A registry that pages the way the spec allows: `n` at most, sometimes
/// fewer, always with a relative `Link` while more remain.
#[tokio::test]
async fn pages_are_followed_by_link_even_when_short() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let addr =
        listing::paging_tag_server((0..25).map(|i| format!("t{i:02}")).collect(), seen.clone())
            .await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/many")).unwrap();
    let tags: Vec<Tag> = client
        .tags(&repository, Some(2))
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(
        tags,
        (0..25)
            .map(|i| tag(&format!("t{i:02}")))
            .collect::<Vec<_>>()
    );
    let queries = seen.lock().unwrap().clone();
    assert_eq!(queries.first().map(String::as_str), Some("n=2"));
    assert!(
        queries.len() > 13,
        "short pages mean more requests: {queries:?}"
    );
    assert!(
        queries[1..].iter().all(|q| q.starts_with("n=2&last=t")),
        "{queries:?}"
    );
    let first_page: Vec<Tag> = client
        .tags(&repository, None)
        .take(3)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(first_page, vec![tag("t00"), tag("t01"), tag("t02")]);
}

/// A registry whose Links go round in circles: the listing stops with an
/// error instead of running (and growing) for ever.
#[tokio::test]
async fn a_link_back_to_a_page_already_read_ends_the_listing() {
    let addr = listing::looping_tag_server().await;
    let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
    let repository = Reference::parse(&format!("{addr}/team/loop")).unwrap();
    let listed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client.list_tags(&repository),
    )
    .await
    .expect("the listing went round in circles");
    let error = listed.unwrap_err();
    assert!(matches!(error, Error::Protocol { .. }), "{error}");
    assert!(error.to_string().contains("loops"), "{error}");
    let streamed: Vec<_> = client.tags(&repository, Some(2)).collect().await;
    let tags: Vec<&str> = streamed
        .iter()
        .filter_map(|t| t.as_ref().ok())
        .map(Tag::as_str)
        .collect();
    assert_eq!(tags, ["a", "b", "c", "d"], "each page's tags once");
    assert!(streamed.last().is_some_and(Result::is_err));
}

/// A registry that pages for ever without repeating a Link: the listing
/// stops at the tag cap, or at the page cap when the pages are empty.
#[tokio::test]
async fn endless_paging_stops_at_a_named_limit() {
    for (per_page, expected) in [
        (10_000, "more than 1000000 tags"),
        (0, "more than 10000 tag list pages"),
    ] {
        let addr = listing::endless_tag_server(per_page).await;
        let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
        let repository = Reference::parse(&format!("{addr}/team/endless")).unwrap();
        let error = client.list_tags(&repository).await.unwrap_err();
        assert!(matches!(error, Error::LimitExceeded { .. }), "{error}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

/// A page that is not a tag list (bytes that are not UTF-8, not JSON, the
/// wrong JSON, a name that cannot be a tag) is a clear error, never a
/// panic or a short list; escaped names still decode.
#[tokio::test]
async fn a_page_that_is_not_a_tag_list_is_an_error() {
    async fn list(body: &'static [u8]) -> Result<Vec<Tag>, Error> {
        let addr = listing::tag_body_server(body).await;
        let client = RegistryClient::new(support::transport(&[&addr.to_string()], None));
        client
            .list_tags(&Reference::parse(&format!("{addr}/team/x")).unwrap())
            .await
    }
    for (body, says) in [
        (
            &b"{\"name\":\"team/x\",\"tags\":[\"v1\xff\"]}"[..],
            "not a tag list",
        ),
        (b"<html>rate limited</html>", "not a tag list"),
        (b"{\"name\":\"team/x\",\"tags\":\"v1\"}", "not a tag list"),
        (
            b"{\"name\":\"team/x\",\"tags\":[\"no spaces\"]}",
            "no spaces",
        ),
    ] {
        let error = list(body).await.unwrap_err();
        assert!(error.to_string().contains(says), "{body:?}: {error}");
    }
    assert_eq!(
        list(b"{\"name\":\"team/x\",\"tags\":[\"v\\u0031\",\"v2\"]}")
            .await
            .unwrap(),
        vec![tag("v1"), tag("v2")]
    );
}
