//! Seeded attestations are real OCI artifacts in the formats the tools
//! write: found through the `sha256-<hex>` tag on ghcr and the referrers
//! API on the generic profile, each layer decoding to the right predicate.

use base64::Engine as _;
use bytes::Bytes;
use ghcr_sim::attest::{
    Attachment, COSIGN_VULN_PREDICATE, COSIGN_VULN_PREDICATE_SCHEMELESS, Envelope,
    IN_TOTO_VULNS_PREDICATE, SAMPLE_VULNERABILITIES, SIGSTORE_BUNDLE_V03, SPDX_PREDICATE,
    VulnFormat,
};
use ghcr_sim::fake::{FakeGhcr, Profile};
use ghcr_types::{Digest, Manifest};
use serde_json::Value;

use crate::support::{authed, bearer, fake};

/// The artifact's single layer, parsed as JSON.
fn layer_json(fake: &FakeGhcr, artifact: &Digest) -> (Manifest, Value) {
    let (bytes, media_type) = fake
        .store()
        .manifest("octo/app", artifact.as_str())
        .unwrap();
    let manifest = Manifest::from_bytes(bytes, Some(&media_type)).unwrap();
    let layer = Digest::try_from(manifest.layers()[0].digest()).unwrap();
    let blob = fake.store().blob(&layer).unwrap();
    (manifest, serde_json::from_slice(&blob).unwrap())
}

/// The in-toto statement inside a DSSE envelope.
fn statement(envelope: &Value) -> Value {
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert!(envelope["signatures"][0]["sig"].is_string());
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

fn ids(values: impl Iterator<Item = Value>, key: &str) -> Vec<String> {
    values
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

/// The DSSE envelope of an attestation layer, checking how it is wrapped.
fn envelope_of(
    manifest: &Manifest,
    layer: Value,
    envelope: Envelope,
    predicate_type: &str,
) -> Value {
    let annotations = manifest.layers()[0].annotations().clone().unwrap();
    if envelope == Envelope::Dsse {
        assert_eq!(
            manifest.layers()[0].media_type().to_string(),
            "application/vnd.dsse.envelope.v1+json"
        );
        assert_eq!(annotations["predicateType"], predicate_type);
        return layer;
    }
    assert_eq!(layer["mediaType"], SIGSTORE_BUNDLE_V03);
    assert_eq!(
        manifest.artifact_type().unwrap().as_str(),
        SIGSTORE_BUNDLE_V03
    );
    assert_eq!(
        annotations["dev.sigstore.bundle.predicateType"],
        predicate_type
    );
    assert!(layer["verificationMaterial"]["tlogEntries"].is_array());
    layer["dsseEnvelope"].clone()
}

/// The advisory ids a predicate's scanner result reports, checking the
/// fields of its format.
fn findings(format: VulnFormat, scanner: &Value) -> Vec<String> {
    match format {
        VulnFormat::CosignSarif => {
            let run = &scanner["result"]["runs"][0];
            assert_eq!(scanner["result"]["version"], "2.1.0");
            assert_eq!(run["tool"]["driver"]["name"], "Trivy");
            let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
            assert_eq!(rules[0]["properties"]["security-severity"], "9.8");
            assert_eq!(run["results"][0]["level"], "error");
            ids(run["results"].as_array().unwrap().iter().cloned(), "ruleId")
        }
        VulnFormat::InTotoVulns => {
            assert!(scanner["db"]["lastUpdate"].is_string());
            let results = scanner["result"].as_array().unwrap();
            assert_eq!(
                results[0]["severity"][0],
                serde_json::json!({"method": "nvd", "score": "critical"})
            );
            ids(results.iter().cloned(), "id")
        }
        _ => {
            let report = &scanner["result"];
            assert_eq!(report["SchemaVersion"], 2);
            let vulnerabilities = report["Results"][0]["Vulnerabilities"].as_array().unwrap();
            let first = &vulnerabilities[0];
            for field in [
                "PkgName",
                "InstalledVersion",
                "Severity",
                "Title",
                "Description",
            ] {
                assert!(first[field].is_string(), "{field} in {first}");
            }
            assert!(first["References"].is_array());
            assert_eq!(vulnerabilities[1]["FixedVersion"], "2.36-9+deb12u7");
            assert!(first.get("FixedVersion").is_none(), "no fix for zlib");
            ids(vulnerabilities.iter().cloned(), "VulnerabilityID")
        }
    }
}

#[tokio::test]
async fn vulnerability_attestations_in_every_format() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let image = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    let expected: Vec<String> = SAMPLE_VULNERABILITIES
        .iter()
        .map(|v| v.id.to_owned())
        .collect();
    for (format, envelope, predicate_type) in [
        (
            VulnFormat::CosignTrivy,
            Envelope::Dsse,
            COSIGN_VULN_PREDICATE,
        ),
        (
            VulnFormat::CosignTrivySchemeless,
            Envelope::Dsse,
            COSIGN_VULN_PREDICATE_SCHEMELESS,
        ),
        (
            VulnFormat::CosignSarif,
            Envelope::Dsse,
            COSIGN_VULN_PREDICATE,
        ),
        (
            VulnFormat::InTotoVulns,
            Envelope::Dsse,
            IN_TOTO_VULNS_PREDICATE,
        ),
        (
            VulnFormat::CosignTrivy,
            Envelope::SigstoreBundle,
            COSIGN_VULN_PREDICATE,
        ),
        (
            VulnFormat::CosignSarif,
            Envelope::SigstoreBundle,
            COSIGN_VULN_PREDICATE,
        ),
    ] {
        let attached = store
            .attach(
                "octo/app",
                &image.manifest,
                &Attachment::Vulnerabilities(format, envelope),
            )
            .unwrap();
        assert_eq!(attached.predicate_type.as_deref(), Some(predicate_type));
        let (manifest, layer) = layer_json(&fake, &attached.manifest);
        assert_eq!(
            manifest.subject().unwrap().digest().as_ref(),
            image.manifest.as_str()
        );
        let dsse = envelope_of(&manifest, layer, envelope, predicate_type);
        let statement = statement(&dsse);
        assert_eq!(statement["predicateType"], predicate_type);
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"],
            image.manifest.encoded()
        );
        let scanner = &statement["predicate"]["scanner"];
        assert_eq!(scanner["version"], "0.50.1");
        let found = findings(format, scanner);
        assert_eq!(found, expected, "{format:?} {envelope:?}");
    }
    // All six are listed in the fallback tag's index, which ghcr clients read.
    let tag = image.manifest.referrers_tag();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let index = authed(
        "GET",
        &format!("{}/v2/octo/app/manifests/{tag}", fake.registry_url()),
        &auth,
    )
    .await;
    assert_eq!(index.status, 200);
    assert_eq!(
        index.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let listed = index.json()["manifests"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 6);
    assert!(listed.iter().all(|d| d["artifactType"].is_string()));
}

#[tokio::test]
async fn a_signed_image_with_an_sbom_and_an_attestation() {
    let fake = fake(Profile::Ghcr).await;
    let store = fake.store();
    let image = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    let signature = store
        .attach("octo/app", &image.manifest, &Attachment::Signature)
        .unwrap();
    let sbom = store
        .attach("octo/app", &image.manifest, &Attachment::Sbom)
        .unwrap();
    let vulns = store
        .attach(
            "octo/app",
            &image.manifest,
            &Attachment::Vulnerabilities(VulnFormat::CosignTrivy, Envelope::Dsse),
        )
        .unwrap();
    let (manifest, payload) = layer_json(&fake, &signature.manifest);
    assert_eq!(
        manifest.layers()[0].media_type().to_string(),
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        image.manifest.as_str()
    );
    let (_, envelope) = layer_json(&fake, &sbom.manifest);
    let spdx = statement(&envelope);
    assert_eq!(spdx["predicateType"], SPDX_PREDICATE);
    assert_eq!(spdx["predicate"]["spdxVersion"], "SPDX-2.3");
    // On ghcr each artifact is an untagged version; each attach re-pushes the
    // fallback index, leaving the previous index behind untagged (as ghcr.io does).
    let versions = store.versions("octo/app");
    assert_eq!(versions.len(), 7);
    let tagged: Vec<&Vec<String>> = versions
        .iter()
        .map(|v| &v.tags)
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(
        tagged,
        [
            &vec!["v1".to_owned()],
            &vec![image.manifest.referrers_tag()]
        ]
    );
    let untagged: Vec<&Digest> = versions
        .iter()
        .filter(|v| v.tags.is_empty())
        .map(|v| &v.digest)
        .collect();
    for artifact in [&signature.manifest, &sbom.manifest, &vulns.manifest] {
        assert!(untagged.contains(&artifact));
    }
    assert_eq!(
        untagged.len(),
        5,
        "three artifacts and two superseded indexes"
    );
}

#[tokio::test]
async fn the_generic_profile_finds_attestations_through_the_referrers_api() {
    let fake = fake(Profile::Generic).await;
    let store = fake.store();
    let image = store
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    let attached = store
        .attach(
            "octo/app",
            &image.manifest,
            &Attachment::Vulnerabilities(VulnFormat::InTotoVulns, Envelope::SigstoreBundle),
        )
        .unwrap();
    store
        .attach("octo/app", &image.manifest, &Attachment::Signature)
        .unwrap();
    assert_eq!(attached.referrers_tag, None);
    assert!(
        store
            .manifest("octo/app", &image.manifest.referrers_tag())
            .is_none()
    );
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull").await;
    let url = format!(
        "{}/v2/octo/app/referrers/{}?artifactType={}",
        fake.registry_url(),
        image.manifest,
        // `+` must be escaped: registries read it as a space, as Go's url package does.
        SIGSTORE_BUNDLE_V03.replace('+', "%2B")
    );
    let listed = authed("GET", &url, &auth).await;
    let manifests = listed.json()["manifests"].as_array().unwrap().clone();
    assert_eq!(manifests.len(), 1);
    assert_eq!(manifests[0]["digest"], attached.manifest.as_str());
    assert_eq!(
        manifests[0]["annotations"]["dev.sigstore.bundle.predicateType"],
        IN_TOTO_VULNS_PREDICATE
    );
}
