//! Cleanup of a package holding a multi-arch image, a signed image with an
//! SBOM and an attestation, and 50 untagged leftovers (plus the two
//! outdated copies of the referrers index): the plan keeps
//! exactly what the kept images reach, each manifest is read once, deletes
//! are paced, every kept tag still pulls, and a re-run deletes nothing.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use ghcr_packages::{Decision, KeepReason, Link, Outcome, RetentionPolicy, VersionState};
use ghcr_sim::attest::{Attachment, Envelope, VulnFormat};
use ghcr_types::{Digest, Owner};
use http::Method;
use tokio::time::Instant;

use crate::support::{self, ORG};

const REPOSITORY: &str = "octo-org/app";

/// What the scenario pushed.
struct Seeded {
    kept: BTreeSet<Digest>,
    /// The kept manifests the plan must read: the tagged ones (what they
    /// are is known only once read). The image manifests an index or the
    /// referrers index names list nothing, so they are not read.
    read: BTreeSet<Digest>,
    leftovers: BTreeSet<Digest>,
    referrers_tag: String,
}

fn seed(env: &support::Env) -> Seeded {
    let store = env.fake.store();
    let multi = store
        .push_index(REPOSITORY, "v2", &["linux/amd64", "linux/arm64"])
        .unwrap();
    let signed = store
        .push_image(
            REPOSITORY,
            Some("v1"),
            &[bytes::Bytes::from_static(b"signed")],
        )
        .unwrap();
    let mut kept: BTreeSet<Digest> = [multi.index.clone(), signed.manifest.clone()].into();
    kept.extend(
        multi
            .children
            .iter()
            .map(|(_, image)| image.manifest.clone()),
    );
    for attachment in [
        Attachment::Signature,
        Attachment::Sbom,
        Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::Dsse),
    ] {
        kept.insert(
            store
                .attach(REPOSITORY, &signed.manifest, &attachment)
                .unwrap()
                .manifest,
        );
    }
    let referrers_tag = signed.manifest.referrers_tag();
    let (index, _) = store.manifest(REPOSITORY, &referrers_tag).unwrap();
    kept.insert(Digest::sha256_of(&index));
    let read = [
        multi.index.clone(),
        signed.manifest.clone(),
        Digest::sha256_of(&index),
    ]
    .into();
    let pushed = env.push_untagged(REPOSITORY, 50);
    // Each attachment rewrote the referrers index: the two earlier copies
    // lost the tag and are untagged leftovers too, as on ghcr.io.
    let leftovers: BTreeSet<Digest> = store
        .versions(REPOSITORY)
        .into_iter()
        .map(|version| version.digest)
        .filter(|digest| !kept.contains(digest))
        .collect();
    assert_eq!(leftovers.len(), 52);
    assert!(pushed.iter().all(|digest| leftovers.contains(digest)));
    Seeded {
        kept,
        read,
        leftovers,
        referrers_tag,
    }
}

/// Successful manifest GETs by digest path (what GitHub counts as downloads).
pub(crate) fn manifest_gets(env: &support::Env) -> HashMap<String, usize> {
    let mut gets = HashMap::new();
    for entry in env.fake.log().entries() {
        // A 401 challenge answered before the token is no download.
        if entry.method == Method::GET
            && entry.status == http::StatusCode::OK
            && entry.path.contains("/manifests/sha256:")
        {
            *gets.entry(entry.path).or_insert(0) += 1;
        }
    }
    gets
}

#[tokio::test(start_paused = true)]
async fn cleanup_keeps_exactly_what_kept_images_reach() {
    let env = support::start(support::accounts()).await;
    let seeded = seed(&env);
    let owner = Owner::org(ORG);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    env.fake.log().clear();

    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    let digest_of = |entry: &ghcr_packages::PlanEntry| entry.version.digest().unwrap();
    let to_delete: BTreeSet<Digest> = plan.to_delete().map(digest_of).collect();
    let to_keep: BTreeSet<Digest> = plan.to_keep().map(digest_of).collect();
    assert_eq!(to_delete, seeded.leftovers);
    assert_eq!(to_keep, seeded.kept);
    // Every kept part says why, down to the link that reaches it.
    let mut links: Vec<Link> = plan
        .entries
        .iter()
        .filter_map(|entry| match &entry.decision {
            Decision::Keep(KeepReason::Reachable { link, .. }) => Some(*link),
            _ => None,
        })
        .collect();
    links.sort_by_key(|link| format!("{link:?}"));
    assert_eq!(
        links,
        [
            Link::IndexChild,
            Link::IndexChild,
            Link::Referrer,
            Link::Referrer,
            Link::Referrer,
            Link::ReferrerIndex
        ]
    );
    assert!(plan.to_string().contains("delete 52, keep 8"), "{plan}");
    // The tagged kept manifests were read once each; leftovers never.
    let reads = manifest_gets(&env);
    let read: BTreeSet<String> = seeded
        .read
        .iter()
        .map(|digest| format!("/v2/{REPOSITORY}/manifests/{digest}"))
        .collect();
    assert_eq!(reads.keys().cloned().collect::<BTreeSet<_>>(), read);
    assert!(reads.values().all(|count| *count == 1), "{reads:?}");

    // Carry it out at GitHub's pace: 900 points a minute, 5 per delete.
    let transport = support::transport(&env.fake, support::USER, support::TOKEN)
        .build()
        .unwrap();
    let paced = support::client_with(&env.fake, transport, 900);
    let start = Instant::now();
    let report = paced.execute_cleanup(&plan).await;
    assert!(
        start.elapsed() >= Duration::from_millis(51 * 334),
        "{:?}",
        start.elapsed()
    );
    assert!(report.is_complete(), "{report}");
    let deleted: BTreeSet<Digest> = report
        .entries
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Deleted(_)))
        .map(|e| e.version.digest().unwrap())
        .collect();
    assert_eq!(deleted, seeded.leftovers);
    assert_eq!(report.restore_hint().ids.len(), 52);
    assert!(
        manifest_gets(&env).values().all(|count| *count == 1),
        "execution read nothing again"
    );

    // Every kept tag still pulls, with everything it references.
    for tag in ["v1", "v2", seeded.referrers_tag.as_str()] {
        env.pull(&env.reference(REPOSITORY).with_tag(tag).unwrap())
            .await
            .unwrap_or_else(|error| panic!("{tag}: {error}"));
    }
    let left = env
        .client
        .list_versions(&owner, "app", VersionState::Active)
        .await
        .unwrap();
    assert_eq!(left.len(), seeded.kept.len());

    // Safe to re-run: nothing more to delete.
    let again = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    assert_eq!(again.to_delete().count(), 0);
}

#[tokio::test]
async fn a_failed_run_is_finished_by_running_it_again() {
    let env = support::start(support::accounts()).await;
    let seeded = seed(&env);
    let owner = Owner::org(ORG);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();
    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    // Someone else deletes ten leftovers meanwhile; five deletes hit a 502.
    let some: Vec<_> = plan.to_delete().take(10).map(|e| e.version.id).collect();
    for id in &some {
        env.client.delete_version(&owner, "app", *id).await.unwrap();
    }
    let route = ghcr_sim::fake::Route::new(
        Method::DELETE,
        "/orgs/octo-org/packages/container/app/versions/*",
    );
    env.fake.faults().add(
        ghcr_sim::fake::Fault::fail(route, http::StatusCode::BAD_GATEWAY)
            .skip(20)
            .times(4),
    );
    let report = env.client.execute_cleanup(&plan).await;
    let already = report
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::AlreadyGone)
        .count();
    assert_eq!(already, 10);
    assert_eq!(report.failed().len(), 1, "{report}");
    assert_eq!(report.failed()[0].status, Some(502));
    assert!(!report.is_complete());
    let again = env.client.cleanup(&owner, "app", &policy).await.unwrap();
    assert_eq!(again.deleted().len(), 1, "{again}");
    assert!(again.is_complete());
    let left: BTreeSet<Digest> = env
        .client
        .list_versions(&owner, "app", VersionState::Active)
        .await
        .unwrap()
        .iter()
        .map(|v| v.digest().unwrap())
        .collect();
    assert_eq!(left, seeded.kept);
}

#[tokio::test]
async fn policies_apply_per_package() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    for n in 0..3 {
        let layer = bytes::Bytes::from(format!("app {n}"));
        store
            .push_image(REPOSITORY, Some(&format!("v{n}")), &[layer])
            .unwrap();
    }
    env.push_untagged("octo-org/web", 2);
    store
        .push_image(
            "octo-org/web",
            Some("v1"),
            &[bytes::Bytes::from_static(b"web")],
        )
        .unwrap();
    env.push_untagged("octo-org/other", 2);
    let owner = Owner::org(ORG);
    let own = RetentionPolicy::builder().keep_newest(1).build().unwrap();
    let default = RetentionPolicy::builder().only_untagged().build().unwrap();

    let only_app = ghcr_packages::PolicySet::new().package("app", own.clone());
    let plans = env.client.plan_cleanups(&owner, &only_app).await.unwrap();
    assert_eq!(plans.len(), 1, "packages without a policy are left alone");

    let set = ghcr_packages::PolicySet::new()
        .default_policy(default)
        .package("app", own);
    let plans = env.client.plan_cleanups(&owner, &set).await.unwrap();
    let deletes: HashMap<String, usize> = plans
        .into_iter()
        .map(|(name, plan)| (name, plan.unwrap().to_delete().count()))
        .collect();
    let expected: HashMap<String, usize> =
        [("app".into(), 2), ("web".into(), 2), ("other".into(), 1)].into();
    // `other` holds only untagged versions: GitHub refuses to delete the last one.
    assert_eq!(deletes, expected);
}

/// Sigstore bundles (a keyless one as GitHub's attest actions push it, and
/// a keyed one) listed only in a kept image's `sha256-<hex>` fallback
/// index are kept with that index, still verify afterwards, and the
/// index's outdated copies go.
#[tokio::test(flavor = "multi_thread")]
async fn cleanup_keeps_sigstore_bundles_listed_in_the_fallback_index() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let image = store
        .push_image(REPOSITORY, Some("v1"), &[bytes::Bytes::from_static(b"v1")])
        .unwrap()
        .manifest;
    let mut kept: BTreeSet<Digest> = [image.clone()].into();
    for envelope in [Envelope::SigstoreBundle, Envelope::KeyedBundle] {
        let scan = Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, envelope);
        let attached = store.attach(REPOSITORY, &image, &scan).unwrap();
        assert_eq!(
            attached.artifact_type,
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        kept.insert(attached.manifest);
    }
    let (index, _) = store.manifest(REPOSITORY, &image.referrers_tag()).unwrap();
    kept.insert(Digest::sha256_of(&index));
    let leftovers: BTreeSet<Digest> = env.push_untagged(REPOSITORY, 2).into_iter().collect();
    let owner = Owner::org(ORG);
    let policy = RetentionPolicy::builder().only_untagged().build().unwrap();

    let plan = env
        .client
        .plan_cleanup(&owner, "app", &policy)
        .await
        .unwrap();
    let digest_of = |entry: &ghcr_packages::PlanEntry| entry.version.digest().unwrap();
    let to_keep: BTreeSet<Digest> = plan.to_keep().map(digest_of).collect();
    assert_eq!(to_keep, kept, "{plan}");
    let to_delete: BTreeSet<Digest> = plan.to_delete().map(digest_of).collect();
    // The two leftovers and the index's first copy (before the second bundle).
    assert_eq!(to_delete.len(), 3, "{plan}");
    assert!(leftovers.is_subset(&to_delete));
    let report = env.client.execute_cleanup(&plan).await;
    assert!(report.is_complete(), "{report}");

    // The keyed bundle still verifies through the fallback index.
    let key = ghcr_sim::attest::attestation_key().unwrap();
    let transport = support::transport(&env.fake, support::USER, support::TOKEN)
        .build()
        .unwrap();
    let verifying = ghcr_packages::PackagesClient::builder(transport)
        .api_base(&env.fake.api_base())
        .registry_host(env.fake.registry_host())
        .verify_with(ghcr_trust::Policy::keys([ghcr_trust::PublicKey::from_pem(
            key.public_key_pem(),
            "fake.pub",
        )
        .unwrap()]))
        .build()
        .unwrap();
    let scans = verifying
        .vulnerability_scans(&owner, "app", &image)
        .await
        .unwrap();
    assert_eq!(scans.reports.len(), 1);
    assert!(scans.reports[0].source.signature_verified);
    assert_eq!(
        scans.ignored.len(),
        1,
        "the keyless bundle waits: {scans:?}"
    );
}
