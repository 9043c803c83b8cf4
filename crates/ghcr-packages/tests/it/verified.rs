//! Vulnerability scans under a verification policy: a clean scan signed
//! by the trusted key (by PyCA cryptography, or the fake's in-process
//! key) verifies, names its signer and passes the gate; clean scans signed
//! by another key, changed after signing, unsigned, or about another image
//! are ignored with their reasons and cannot pass it. Without a policy,
//! nothing changes. On docker-registry (the `sha256-<hex>` fallback index
//! kept by the client) and the fake ghcr.io (its ghcr profile).

use bytes::Bytes;
use ghcr_packages::{Error, GateResult, Origin, PackagesClient, security_gate};
use ghcr_sim::attest::{Attachment, Envelope, VulnFormat, attestation_key};
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_sim::peers::{Auth, DockerRegistry};
use ghcr_trust::{Policy, PublicKey};
use ghcr_types::{Owner, OwnerType, ReportSigner, Severity};

use crate::signing::{self, PyKey, attach, push_image, scan, with_payload};
use crate::support::{self, ORG};

fn ignored_reasons(error: &Error) -> Vec<String> {
    match error {
        Error::ScansNotVerified { ignored, .. } => {
            ignored.iter().map(|entry| entry.reason.clone()).collect()
        }
        other => panic!("expected ScansNotVerified, got {other}"),
    }
}

/// `octo/app:signed` with a trusted clean scan beside an unsigned one;
/// `octo/app:forged` with only clean scans that must not verify.
async fn scenario(registry: &ghcr_registry::RegistryClient, host: &str) {
    let trusted = PyKey::generate();
    let stranger = PyKey::generate();
    let repository = ghcr_types::Reference::new(host, "octo/app").unwrap();
    let owner = Owner::user("octo");
    let (signed, signed_descriptor) = push_image(registry, &repository, "signed").await;
    let (forged, forged_descriptor) = push_image(registry, &repository, "forged").await;

    let (good, fingerprint) = trusted.sign(&scan(&signed, false));
    let (unsigned_clean, _) = trusted.sign(&scan(&signed, false));
    let mut unsigned_clean = unsigned_clean;
    unsigned_clean["signatures"] = serde_json::json!([]);
    attach(
        registry,
        &repository,
        &signed_descriptor,
        &[&unsigned_clean, &good],
    )
    .await;

    let (by_stranger, _) = stranger.sign(&scan(&forged, false));
    let (critical, _) = trusted.sign(&scan(&forged, true));
    let tampered = with_payload(&critical, &scan(&forged, false));
    let mut unsigned = critical.clone();
    unsigned["signatures"] = serde_json::json!([]);
    // Validly signed, but about the other image.
    let (moved, _) = trusted.sign(&scan(&signed, false));
    attach(
        registry,
        &repository,
        &forged_descriptor,
        &[&by_stranger, &tampered, &unsigned, &moved],
    )
    .await;

    // Without a policy: today's behaviour, every scan read unverified.
    let plain = signing::packages_client(registry, host, None);
    let reports = plain
        .vulnerability_reports(&owner, "app", &forged)
        .await
        .unwrap();
    assert!(!reports.is_empty());
    assert!(
        reports
            .iter()
            .all(|r| !r.source.signature_verified && r.source.signer.is_none())
    );

    let verifying = signing::packages_client(registry, host, Some(trusted.policy()));
    let scans = verifying
        .vulnerability_scans(&owner, "app", &signed)
        .await
        .unwrap();
    assert_eq!(scans.reports.len(), 1, "{scans:?}");
    let report = &scans.reports[0];
    assert!(report.source.signature_verified);
    assert_eq!(
        report.source.signer,
        Some(ReportSigner::Key { fingerprint })
    );
    assert_eq!(security_gate(report, Severity::Low), GateResult::Passed);
    assert_eq!(scans.ignored.len(), 1, "{scans:?}");
    assert_eq!(scans.ignored[0].origin, Origin::Registry);
    assert!(
        scans.ignored[0].reason.contains("no signatures"),
        "{:?}",
        scans.ignored[0]
    );

    let error = verifying
        .vulnerability_scans(&owner, "app", &forged)
        .await
        .unwrap_err();
    let mut reasons = ignored_reasons(&error);
    reasons.sort();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    let expected = [
        "about another image",
        "no signatures",
        "does not verify with the policy's key",
        "does not verify with the policy's key",
    ];
    for wanted in expected {
        assert!(
            reasons.iter().any(|reason| reason.contains(wanted)),
            "{wanted}: {reasons:?}"
        );
    }
    let message = error.to_string();
    assert!(
        message.contains(forged.as_str()) && message.contains("4 ignored"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_signed_scans_on_docker_registry() {
    support::trace::init();
    let registry = DockerRegistry::start(Auth::None)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let client = signing::registry_client(registry.host(), registry.credentials());
    scenario(&client, registry.host()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_signed_scans_on_the_fake_ghcr() {
    let env = support::start(support::accounts()).await;
    let host = env.fake.registry_host().to_owned();
    scenario(&env.registry, &host).await;
}

fn fake_policy() -> Policy {
    let key = attestation_key().unwrap();
    Policy::keys([PublicKey::from_pem(key.public_key_pem(), "fake.pub").unwrap()])
}

fn verifying(env: &support::Env) -> PackagesClient {
    let transport = support::transport(&env.fake, support::USER, support::TOKEN)
        .build()
        .unwrap();
    PackagesClient::builder(transport)
        .api_base(&env.fake.api_base())
        .registry_host(env.fake.registry_host())
        .verify_with(fake_policy())
        .build()
        .unwrap()
}

/// The fake's own material: a scan signed with its key passes, a forged
/// clean scan (placeholder signature) and a keyless bundle are ignored; a
/// keyed Sigstore bundle verifies too.
#[tokio::test(flavor = "multi_thread")]
async fn the_fakes_signed_scans_pass_and_its_forged_ones_do_not() {
    for profile in [Profile::Ghcr, Profile::Generic] {
        let env = support::start(
            FakeGhcr::builder()
                .profile(profile)
                .user(support::USER, support::TOKEN)
                .org(ORG, &[support::USER]),
        )
        .await;
        let store = env.fake.store();
        let repository = format!("{ORG}/app");
        let push = |tag: &str| {
            store
                .push_image(&repository, Some(tag), &[Bytes::from(tag.to_owned())])
                .unwrap()
                .manifest
        };
        let (signed, forged, bundled) = (push("signed"), push("forged"), push("bundled"));
        let clean = |envelope| Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, envelope);
        store
            .attach(&repository, &signed, &clean(Envelope::SignedDsse))
            .unwrap();
        store
            .attach(&repository, &forged, &clean(Envelope::Dsse))
            .unwrap();
        store
            .attach(&repository, &forged, &clean(Envelope::SigstoreBundle))
            .unwrap();
        store
            .attach(&repository, &bundled, &clean(Envelope::KeyedBundle))
            .unwrap();
        let client = verifying(&env);
        let owner = Owner::org(ORG);
        let fingerprint = attestation_key().unwrap().fingerprint().to_owned();

        for image in [&signed, &bundled] {
            let id = store.version_id(&repository, image).unwrap();
            let result = client
                .security_gate(ORG, "app", id, OwnerType::Organization, Severity::Low)
                .await
                .unwrap_or_else(|error| panic!("{profile:?} {image}: {error}"));
            assert!(result.is_passed(), "{profile:?}");
            let report = client
                .get_vulnerabilities(ORG, "app", id, OwnerType::Organization)
                .await
                .unwrap();
            assert_eq!(
                report.source.signer,
                Some(ReportSigner::Key {
                    fingerprint: fingerprint.clone()
                })
            );
        }
        let id = store.version_id(&repository, &forged).unwrap();
        let error = client
            .security_gate(ORG, "app", id, OwnerType::Organization, Severity::Low)
            .await
            .unwrap_err();
        let reasons = ignored_reasons(&error);
        assert_eq!(reasons.len(), 2, "{profile:?} {reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("ASN.1 DER")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.contains("names no keyless identity")),
            "{reasons:?}"
        );

        // Without a policy the forged scan passes: what issue 13 is about.
        let plain = env
            .client
            .vulnerability_reports(&owner, "app", &forged)
            .await
            .unwrap();
        assert!(security_gate(&plain[0], Severity::Low).is_passed());
        assert!(!plain[0].source.signature_verified);
    }
}

/// A listing under a policy names versions whose scans all failed to verify.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_names_unverified_versions() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let repository = format!("{ORG}/app");
    let signed = store
        .push_image(&repository, Some("signed"), &[Bytes::from_static(b"s")])
        .unwrap()
        .manifest;
    let forged = store
        .push_image(&repository, Some("forged"), &[Bytes::from_static(b"f")])
        .unwrap()
        .manifest;
    store
        .attach(
            &repository,
            &signed,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::SignedDsse),
        )
        .unwrap();
    store
        .attach(
            &repository,
            &forged,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivyClean, Envelope::Dsse),
        )
        .unwrap();
    let listing = verifying(&env)
        .list_vulnerable_versions(ORG, "app", OwnerType::Organization, Severity::Low)
        .await
        .unwrap();
    let signed_id = store.version_id(&repository, &signed).unwrap();
    let forged_id = store.version_id(&repository, &forged).unwrap();
    assert_eq!(listing.vulnerable.len(), 1);
    assert_eq!(listing.vulnerable[0].version.id, signed_id);
    assert!(listing.vulnerable[0].report.source.signature_verified);
    assert_eq!(listing.unverified, [forged_id]);
}
