//! Keyless-signed scans under an identity policy: a clean scan signed by
//! the fake's test Sigstore instance (a Fulcio-like certificate for a
//! GitHub Actions run of `octo/app`, a Rekor entry with its inclusion
//! proof) verifies against that instance's trusted root and names its
//! workflow; under another owner, or against the public-good root, it is
//! ignored with the reason.

use bytes::Bytes;
use ghcr_packages::{Error, PackagesClient, security_gate};
use ghcr_sim::attest::{
    Attachment, Envelope, KEYLESS_IDENTITY, KEYLESS_ISSUER, VulnFormat, keyless_world,
};
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_trust::{IdentityPolicy, Policy, TrustedRoot};
use ghcr_types::{Owner, ReportSigner, Severity};

use crate::support::{self, Env, TOKEN, USER};

fn world_root() -> TrustedRoot {
    TrustedRoot::from_json(keyless_world().unwrap().trusted_root_json().as_bytes()).unwrap()
}

fn client(env: &Env, policy: Policy) -> PackagesClient {
    let transport = support::transport(&env.fake, USER, TOKEN).build().unwrap();
    PackagesClient::builder(transport)
        .api_base(&env.fake.api_base())
        .registry_host(env.fake.registry_host())
        .verify_with(policy)
        .build()
        .unwrap()
}

/// Why each scan of `image` was ignored; panics when one verified.
async fn refusals(client: &PackagesClient, image: &ghcr_types::Digest) -> Vec<String> {
    match client
        .vulnerability_scans(&Owner::user(USER), "app", image)
        .await
    {
        Err(Error::ScansNotVerified { ignored, .. }) => {
            ignored.into_iter().map(|entry| entry.reason).collect()
        }
        other => panic!("expected ScansNotVerified, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_keyless_scan_verifies_under_its_owner_and_its_root_only() {
    for profile in [Profile::Ghcr, Profile::Generic] {
        let env = support::start(FakeGhcr::builder().profile(profile).user(USER, TOKEN)).await;
        let store = env.fake.store();
        let image = store
            .push_image("octo/app", Some("keyless"), &[Bytes::from_static(b"k")])
            .unwrap()
            .manifest;
        store
            .attach(
                "octo/app",
                &image,
                &Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, Envelope::KeylessBundle),
            )
            .unwrap();

        let octo = Policy::identities([IdentityPolicy::new().owner("octo")])
            .with_trusted_root(world_root());
        let scans = client(&env, octo)
            .vulnerability_scans(&Owner::user(USER), "app", &image)
            .await
            .unwrap_or_else(|error| panic!("{profile:?}: {error}"));
        assert!(!scans.reports.is_empty(), "{profile:?} {scans:?}");
        assert_eq!(scans.ignored, [], "{profile:?}");
        for report in &scans.reports {
            assert!(report.source.signature_verified, "{profile:?}");
            assert!(security_gate(report, Severity::Low).is_passed());
            match &report.source.signer {
                Some(ReportSigner::Certificate {
                    repository,
                    workflow,
                    identity,
                    issuer,
                }) => {
                    assert_eq!(repository.as_deref(), Some("octo/app"));
                    assert_eq!(
                        workflow.as_deref(),
                        Some("octo/app/.github/workflows/release.yml@refs/heads/main")
                    );
                    assert_eq!(identity, KEYLESS_IDENTITY);
                    assert_eq!(issuer, KEYLESS_ISSUER);
                }
                other => panic!("{profile:?}: signer {other:?}"),
            }
        }

        // The exact identity with its issuer, as cosign's flags ask, too.
        let exact = Policy::identities([IdentityPolicy::new()
            .identity(KEYLESS_IDENTITY)
            .issuer(KEYLESS_ISSUER)])
        .with_trusted_root(world_root());
        let scans = client(&env, exact)
            .vulnerability_scans(&Owner::user(USER), "app", &image)
            .await
            .unwrap();
        assert!(scans.reports.iter().all(|r| r.source.signature_verified));

        let evil = Policy::identities([IdentityPolicy::new().owner("evil")])
            .with_trusted_root(world_root());
        let reasons = refusals(&client(&env, evil), &image).await;
        assert!(!reasons.is_empty());
        assert!(
            reasons.iter().all(|r| r.contains("evil")),
            "{profile:?} {reasons:?}"
        );

        // The shipped public-good root does not know the test CA or log.
        let public = Policy::identities([IdentityPolicy::new().owner("octo")]);
        let reasons = refusals(&client(&env, public), &image).await;
        assert!(!reasons.is_empty());
        assert!(
            reasons
                .iter()
                .all(|r| r.contains("not in the trusted root") || r.contains("CA")),
            "{profile:?} {reasons:?}"
        );
    }
}
