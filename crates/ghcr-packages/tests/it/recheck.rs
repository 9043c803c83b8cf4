//! A long run looks at the package again between deletions: a tag pushed
//! onto a planned digest, or a new index listing one, keeps it, even when
//! the version is far past the first page. Time is virtual: one deletion a
//! minute, and the package changes after the first.

use std::time::Duration;

use ghcr_packages::{KeepReason, Outcome, PackagesClient, RetentionPolicy};
use ghcr_types::{Digest, Owner};
use serde_json::json;

use crate::support::{self, TOKEN, USER};

const REPOSITORY: &str = "octo/app";

fn outcome<'a>(report: &'a ghcr_packages::CleanupReport, digest: &Digest) -> &'a Outcome {
    &report
        .entries
        .iter()
        .find(|e| e.version.digest().ok().as_ref() == Some(digest))
        .unwrap_or_else(|| panic!("{digest} not in the report"))
        .outcome
}

#[tokio::test(start_paused = true)]
async fn a_change_during_a_long_run_keeps_what_it_now_needs() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    store
        .push_image(REPOSITORY, Some("v1"), &[bytes::Bytes::from_static(b"v1")])
        .unwrap();
    // Oldest first: l[0] .. l[3].
    let leftovers = env.push_untagged(REPOSITORY, 4);
    // Two versions a page, one deletion a minute (5 points).
    let transport = support::transport(&env.fake, USER, TOKEN).build().unwrap();
    let client = PackagesClient::builder(transport)
        .api_base(&env.fake.api_base())
        .registry_host(env.fake.registry_host())
        .write_points_per_minute(5)
        .page_size(2)
        .build()
        .unwrap();
    let owner = Owner::user(USER);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = client.plan_cleanup(&owner, "app", &policy).await.unwrap();
    assert_eq!(plan.to_delete().count(), 4);

    // After the first deletion (the newest leftover): the oldest leftover
    // is tagged, and a new release lists the second oldest.
    let changes = {
        let store = store.clone();
        let leftovers = leftovers.clone();
        tokio::spawn(async move {
            while store
                .versions(REPOSITORY)
                .iter()
                .all(|v| v.deleted_at.is_none())
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            store.tag(REPOSITORY, "keep-me", &leftovers[0]).unwrap();
            let (child, media_type) = store.manifest(REPOSITORY, leftovers[1].as_str()).unwrap();
            let index = json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [{"mediaType": media_type, "digest": leftovers[1].as_str(), "size": child.len()}],
            });
            store
                .push_manifest(
                    REPOSITORY,
                    "v2",
                    bytes::Bytes::from(index.to_string()),
                    "application/vnd.oci.image.index.v1+json",
                )
                .unwrap();
        })
    };
    let report = client.execute_cleanup(&plan).await;
    changes.await.unwrap();

    assert!(
        matches!(outcome(&report, &leftovers[3]), Outcome::Deleted(_)),
        "{report}"
    );
    assert!(
        matches!(outcome(&report, &leftovers[2]), Outcome::Deleted(_)),
        "{report}"
    );
    assert!(
        matches!(
            outcome(&report, &leftovers[0]),
            Outcome::Kept(KeepReason::OutOfScope)
        ),
        "the newly tagged leftover stays: {report}"
    );
    assert!(
        matches!(
            outcome(&report, &leftovers[1]),
            Outcome::Kept(KeepReason::Reachable { .. })
        ),
        "the new release's child stays: {report}"
    );
    let live: Vec<Digest> = store
        .versions(REPOSITORY)
        .into_iter()
        .filter(|v| v.deleted_at.is_none())
        .map(|v| v.digest)
        .collect();
    assert!(live.contains(&leftovers[0]) && live.contains(&leftovers[1]));
    assert!(
        env.pull(&env.reference(REPOSITORY).with_tag("v2").unwrap())
            .await
            .is_ok()
    );
    assert!(
        env.pull(&env.reference(REPOSITORY).with_tag("keep-me").unwrap())
            .await
            .is_ok()
    );
}
