//! Vulnerability reports from attestations seeded in the fake: every
//! supported predicate, result format and envelope reads into the same
//! report; provenance is recorded and never claims a verified signature;
//! no data is an error for one version and a list entry in a listing.

use bytes::Bytes;
use ghcr_packages::{Error, GateResult};
use ghcr_sim::attest::{Attachment, Envelope, SAMPLE_VULNERABILITIES, VulnFormat};
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_types::{OwnerType, Severity, VulnerabilityReport};

use crate::cleanup::manifest_gets;
use crate::support::{self, Env, ORG, USER};

/// What every seeded report must say: id, severity, fix, package, installed.
type Finding = (
    String,
    Severity,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn expected() -> Vec<Finding> {
    SAMPLE_VULNERABILITIES
        .iter()
        .map(|v| {
            (
                v.id.to_owned(),
                Severity::parse(v.severity).unwrap(),
                v.fixed.map(str::to_owned),
                Some(v.package.to_owned()),
                Some(v.installed.to_owned()),
            )
        })
        .collect()
}

fn findings(report: &VulnerabilityReport) -> Vec<Finding> {
    report
        .vulnerabilities
        .iter()
        .map(|v| {
            let package = v.package.as_ref();
            (
                v.id.clone(),
                v.severity,
                v.fixed_in.clone(),
                package.map(|p| p.name.clone()),
                package.and_then(|p| p.installed_version.clone()),
            )
        })
        .collect()
}

fn attach_sbom_and_signature(
    store: &ghcr_sim::fake::Store,
    repository: &str,
    subject: &ghcr_types::Digest,
) {
    for attachment in [Attachment::Sbom, Attachment::Signature] {
        store.attach(repository, subject, &attachment).unwrap();
    }
}

const FORMATS: [(VulnFormat, &str, &str); 4] = [
    (
        VulnFormat::CosignTrivy,
        "https://cosign.sigstore.dev/attestation/vuln/v1",
        "trivy",
    ),
    (
        VulnFormat::CosignTrivySchemeless,
        "cosign.sigstore.dev/attestation/vuln/v1",
        "trivy",
    ),
    (
        VulnFormat::CosignSarif,
        "https://cosign.sigstore.dev/attestation/vuln/v1",
        "sarif",
    ),
    (
        VulnFormat::InTotoVulns,
        "https://in-toto.io/attestation/vulns/v0.1",
        "in-toto-vulns",
    ),
];

async fn each_format_on(env: &Env) {
    let store = env.fake.store();
    let repository = format!("{ORG}/scanned");
    for (n, (format, predicate, result)) in FORMATS.iter().enumerate() {
        for envelope in [Envelope::Dsse, Envelope::SigstoreBundle] {
            let case = format!("{format:?} in {envelope:?}");
            let image = store
                .push_image(
                    &repository,
                    Some(&format!("v{n}-{envelope:?}").to_lowercase()),
                    &[Bytes::from(case.clone())],
                )
                .unwrap();
            // An SBOM and a signature beside the scan must not confuse the reader.
            attach_sbom_and_signature(&store, &repository, &image.manifest);
            let attached = store
                .attach(
                    &repository,
                    &image.manifest,
                    &Attachment::Vulnerabilities(*format, envelope),
                )
                .unwrap();
            let id = store.version_id(&repository, &image.manifest).unwrap();

            let report = env
                .client
                .get_vulnerabilities(ORG, "scanned", id, OwnerType::Organization)
                .await
                .unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(findings(&report), expected(), "{case}");
            assert_eq!(report.subject, image.manifest, "{case}");
            assert_eq!(report.package_version_id, Some(id), "{case}");
            let source = &report.source;
            assert_eq!(source.predicate_type, *predicate, "{case}");
            assert_eq!(source.format, *result, "{case}");
            assert_eq!(source.scanner.as_deref(), Some("trivy"), "{case}");
            assert_eq!(source.scanner_version.as_deref(), Some("0.50.1"), "{case}");
            assert_eq!(source.database_version.as_deref(), Some("2"), "{case}");
            assert!(source.scanned_at.is_some(), "{case}");
            assert_eq!(
                source.attestation.as_ref(),
                Some(&attached.manifest),
                "{case}"
            );
            assert!(!source.signature_verified, "{case}");
            assert_eq!(report.max_severity(), Some(Severity::Critical), "{case}");
        }
    }
}

/// Reads of the `sha256-<hex>` fallback tag (not cosign's legacy `.att` tag).
fn fallback_tag_reads(env: &Env) -> usize {
    env.fake.log().count_where(|e| {
        e.path.contains("/manifests/sha256-") && !e.path.to_ascii_lowercase().ends_with(".att")
    })
}

#[tokio::test]
async fn every_format_and_envelope_reads_into_the_same_report_on_ghcr() {
    let env = support::start(support::accounts()).await;
    each_format_on(&env).await;
    // ghcr.io has no referrers API: the fallback tag was read.
    assert_eq!(fallback_tag_reads(&env), 8);
}

#[tokio::test]
async fn every_format_reads_through_the_referrers_api_of_a_generic_registry() {
    let env = support::start(support::accounts().profile(Profile::Generic)).await;
    each_format_on(&env).await;
    // The referrers API answered, so the fallback tag was not read.
    assert_eq!(fallback_tag_reads(&env), 0);
    let api = env
        .fake
        .log()
        .count_where(|e| e.path.contains("/referrers/") && e.status == http::StatusCode::OK);
    assert_eq!(api, 8);
}

#[tokio::test]
async fn no_scan_is_vuln_data_not_available() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let repository = format!("{USER}/app");
    let bare = store
        .push_image(&repository, Some("bare"), &[Bytes::from_static(b"bare")])
        .unwrap();
    let sbom_only = store
        .push_image(&repository, Some("sbom"), &[Bytes::from_static(b"sbom")])
        .unwrap();
    attach_sbom_and_signature(&store, &repository, &sbom_only.manifest);
    for image in [&bare, &sbom_only] {
        let id = store.version_id(&repository, &image.manifest).unwrap();
        // The authenticated user's packages: the login comes from GET /user.
        let error = env
            .client
            .get_vulnerabilities("", "app", id, OwnerType::AuthenticatedUser)
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::VulnDataNotAvailable { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("cosign attest --type vuln"),
            "{error}"
        );
        let gate = env
            .client
            .security_gate(USER, "app", id, OwnerType::User, Severity::Critical)
            .await;
        assert!(
            matches!(gate, Err(Error::VulnDataNotAvailable { .. })),
            "a gate without data fails closed"
        );
    }
    // Neither the SBOM's nor the signature's layer was downloaded.
    assert_eq!(env.fake.log().storage_requests().len(), 0);
}

#[tokio::test]
async fn vulnerable_versions_and_the_gate() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let repository = format!("{ORG}/app");
    let scanned = store
        .push_image(&repository, Some("v1"), &[Bytes::from_static(b"one")])
        .unwrap();
    store
        .attach(
            &repository,
            &scanned.manifest,
            &Attachment::Vulnerabilities(VulnFormat::CosignSarif, Envelope::SigstoreBundle),
        )
        .unwrap();
    let unscanned = store
        .push_image(&repository, Some("v2"), &[Bytes::from_static(b"two")])
        .unwrap();
    env.push_untagged(&repository, 3);
    env.fake.log().clear();

    let listing = env
        .client
        .list_vulnerable_versions(ORG, "app", OwnerType::Organization, Severity::Critical)
        .await
        .unwrap();
    let scanned_id = store.version_id(&repository, &scanned.manifest).unwrap();
    assert_eq!(listing.vulnerable.len(), 1);
    assert_eq!(listing.vulnerable[0].version.id, scanned_id);
    assert_eq!(
        listing.vulnerable[0]
            .report
            .at_least(Severity::Critical)
            .count(),
        1
    );
    assert_eq!(
        listing.without_data,
        [store.version_id(&repository, &unscanned.manifest).unwrap()]
    );
    assert!(listing.unreadable.is_empty());
    assert!(
        manifest_gets(&env).values().all(|n| *n == 1),
        "each digest fetched once"
    );

    let blocked = env
        .client
        .security_gate(
            ORG,
            "app",
            scanned_id,
            OwnerType::Organization,
            Severity::Critical,
        )
        .await
        .unwrap();
    let GateResult::Blocked { findings } = blocked else {
        panic!("a critical finding must block");
    };
    assert_eq!(
        findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        ["CVE-2023-45853"]
    );
    assert!(!findings[0].fix_available());
    let high = env
        .client
        .security_gate(
            ORG,
            "app",
            scanned_id,
            OwnerType::Organization,
            Severity::High,
        )
        .await
        .unwrap();
    assert!(matches!(high, GateResult::Blocked { findings } if findings.len() == 3));
}

#[tokio::test]
async fn a_report_parsed_from_downloaded_bytes_matches() {
    let fake = FakeGhcr::builder()
        .user(USER, support::TOKEN)
        .start()
        .await
        .unwrap();
    let store = fake.store();
    let repository = format!("{USER}/app");
    let image = store
        .push_image(&repository, Some("v1"), &[Bytes::from_static(b"x")])
        .unwrap();
    let attached = store
        .attach(
            &repository,
            &image.manifest,
            &Attachment::Vulnerabilities(VulnFormat::InTotoVulns, Envelope::Dsse),
        )
        .unwrap();
    let (manifest, _) = store
        .manifest(&repository, attached.manifest.as_str())
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let layer =
        ghcr_types::Digest::parse(manifest["layers"][0]["digest"].as_str().unwrap()).unwrap();
    let envelope = store.blob(&layer).unwrap();
    let report = ghcr_packages::parse_vulnerability_attestation(&envelope)
        .unwrap()
        .unwrap();
    assert_eq!(report.subject, image.manifest);
    assert_eq!(findings(&report), expected());
}

#[tokio::test]
async fn the_attestations_api_is_asked_only_when_configured() {
    let env = support::start(support::accounts()).await;
    let store = env.fake.store();
    let repository = format!("{ORG}/app");
    let image = store
        .push_image(&repository, Some("v1"), &[Bytes::from_static(b"one")])
        .unwrap();
    let asked = |env: &Env| {
        env.fake
            .log()
            .count_where(|e| e.path.contains("/attestations/"))
    };
    let listing = env
        .client
        .list_vulnerable_versions(ORG, "app", OwnerType::Organization, Severity::Low)
        .await
        .unwrap();
    assert_eq!(listing.without_data.len(), 1);
    assert_eq!(asked(&env), 0);

    let transport = support::transport(&env.fake, USER, support::TOKEN)
        .build()
        .unwrap();
    let consulting = ghcr_packages::PackagesClient::builder(transport)
        .api_base(&env.fake.api_base())
        .registry_host(env.fake.registry_host())
        .attestations_api(ghcr_packages::AttestationsApi::Consult)
        .build()
        .unwrap();
    let listing = consulting
        .list_vulnerable_versions(ORG, "app", OwnerType::Organization, Severity::Low)
        .await
        .unwrap();
    // No attestation there yet (GitHub's 404): still no data, not a failure.
    assert_eq!(listing.without_data.len(), 1);
    let path = format!("/orgs/{ORG}/attestations/{}", image.manifest);
    assert_eq!(env.fake.log().count_where(|e| e.path == path), 1);

    // A scan attested by actions/attest without push-to-registry lives only
    // in the API: found when consulting it, invisible otherwise.
    store
        .attest_on_github(&repository, &image.manifest, VulnFormat::InTotoVulns)
        .unwrap();
    let listing = consulting
        .list_vulnerable_versions(ORG, "app", OwnerType::Organization, Severity::Low)
        .await
        .unwrap();
    assert!(listing.without_data.is_empty(), "{listing:?}");
    assert_eq!(listing.vulnerable.len(), 1);
    let report = &listing.vulnerable[0].report;
    assert_eq!(report.subject, image.manifest);
    assert_eq!(findings(report), expected());
    assert_eq!(
        report.source.predicate_type,
        "https://in-toto.io/attestation/vulns/v0.1"
    );
    assert_eq!(env.fake.log().count_where(|e| e.path == path), 2);
    let skipping = env
        .client
        .list_vulnerable_versions(ORG, "app", OwnerType::Organization, Severity::Low)
        .await
        .unwrap();
    assert_eq!(skipping.without_data.len(), 1);
}
