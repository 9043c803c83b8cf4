//! Finding the vulnerability attestations attached to an image digest in
//! the registry: the referrers API or the `sha256-<hex>` referrers tag
//! (what ghcr.io needs), and cosign's legacy `sha256-<hex>.att` tag.
//! Artifacts that announce another predicate (SBOM, provenance) or are
//! signatures are skipped before their layers are downloaded. Under a
//! verification policy each scan's layer goes through `verify.rs`.

use ghcr_types::artifact_types::{
    COSIGN_SIGNATURE, CYCLONEDX_JSON, DSSE_ENVELOPE, IN_TOTO, SIGSTORE_BUNDLE_PREFIX, SPDX_JSON,
};
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, Manifest, VulnerabilityReport};

use ghcr_trust::Policy;

use super::dsse::Statement;
use super::read::report_from_statement;
use super::scans::{IgnoredAttestation, Origin};
use super::verify::{Wrapping, verify_found};
use super::{bundle, cosign, dsse, intoto};
use crate::error::{Error, Result};
use crate::manifests::{ManifestCache, ManifestSource};

/// The largest attestation layer read.
const MAX_ATTESTATION: usize = 16 * 1024 * 1024;

/// Artifact types that are never vulnerability scans.
const NOT_SCANS: [&str; 5] = [
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    COSIGN_SIGNATURE,
    SPDX_JSON,
    CYCLONEDX_JSON,
    "application/vnd.cncf.notary.signature",
];

/// Annotations that announce a predicate type without reading the layer.
const PREDICATE_ANNOTATIONS: [&str; 3] = [
    "predicateType",
    "dev.sigstore.bundle.predicateType",
    "in-toto.io/predicate-type",
];

/// Where to look for a subject's attestations.
#[derive(Clone, Debug)]
pub(crate) enum Attached {
    /// The versions carrying its referrer tags, known from the version list.
    Known(Vec<Digest>),
    /// Unknown: ask the registry (referrers API, then the fallback tag) and
    /// try cosign's `.att` tag.
    LookUp,
}

/// What a search found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Reports, newest scan first.
    pub(crate) reports: Vec<VulnerabilityReport>,
    /// Attestations that could not be read.
    pub(crate) problems: Vec<Error>,
    /// Under a policy: attestations whose signatures did not verify.
    pub(crate) ignored: Vec<IgnoredAttestation>,
    /// Where the search looked, for [`Error::VulnDataNotAvailable`].
    pub(crate) looked: String,
}

fn is_vuln_predicate(predicate_type: &str) -> bool {
    cosign::is_predicate(predicate_type) || intoto::is_predicate(predicate_type)
}

/// Whether a descriptor announces something other than a scan.
fn announces_other(descriptor: &Descriptor) -> bool {
    let artifact_type = descriptor.artifact_type().as_ref().map(ToString::to_string);
    if artifact_type.is_some_and(|t| NOT_SCANS.iter().any(|n| t.eq_ignore_ascii_case(n))) {
        return true;
    }
    descriptor
        .annotations()
        .as_ref()
        .is_some_and(|annotations| {
            PREDICATE_ANNOTATIONS
                .iter()
                .filter_map(|key| annotations.get(*key))
                .any(|predicate| !is_vuln_predicate(predicate))
        })
}

/// The artifact manifests to open: index entries, or the manifest itself.
fn artifacts_of(manifest: &Manifest) -> Vec<(Digest, Option<Descriptor>)> {
    if manifest.is_index() {
        manifest
            .children()
            .iter()
            .filter(|child| !announces_other(child))
            .filter_map(|child| Some((Digest::try_from(child.digest()).ok()?, Some(child.clone()))))
            .collect()
    } else {
        vec![(manifest.digest().clone(), None)]
    }
}

/// One layer's attestation: the statement as read (unverified), how it
/// is wrapped, and its bytes for verification.
struct Layer {
    digest: Digest,
    statement: Statement,
    wrapping: Wrapping,
    bytes: bytes::Bytes,
}

/// The statement in one layer, by its media type; `Ok(None)` for a layer
/// that is no attestation or announces another predicate.
async fn layer_statement(
    cache: &ManifestCache,
    layer: &Descriptor,
) -> std::result::Result<Option<Layer>, Error> {
    if announces_other(layer) {
        return Ok(None);
    }
    let media_type = layer.media_type().to_string();
    let wrapping = if media_type.eq_ignore_ascii_case(DSSE_ENVELOPE) {
        Wrapping::Envelope
    } else if media_type.starts_with(SIGSTORE_BUNDLE_PREFIX) {
        Wrapping::Bundle
    } else if media_type.eq_ignore_ascii_case(IN_TOTO) {
        Wrapping::Statement
    } else {
        return Ok(None);
    };
    let digest = Digest::try_from(layer.digest())?;
    let bytes = cache.blob(&digest, MAX_ATTESTATION).await?;
    let statement = match wrapping {
        Wrapping::Envelope => dsse::envelope(&bytes).map(Some),
        Wrapping::Bundle => bundle::from_bytes(&bytes),
        Wrapping::Statement => dsse::statement(&bytes).map(Some),
    };
    match statement {
        Ok(Some(statement)) => Ok(Some(Layer {
            digest,
            statement,
            wrapping,
            bytes,
        })),
        Ok(None) => Ok(None),
        Err(reason) => Err(Error::InvalidAttestation {
            attestation: digest,
            reason,
        }),
    }
}

/// Reads the reports one artifact manifest carries; under `policy`, only
/// from layers that verify, the others go to [`Found::ignored`].
async fn artifact_reports(
    cache: &ManifestCache,
    subject: &Digest,
    artifact: &Digest,
    policy: Option<&Policy>,
    found: &mut Found,
) -> Result<()> {
    let manifest = cache.manifest(artifact).await?;
    for layer in manifest.layers() {
        let layer = match layer_statement(cache, layer).await {
            Ok(Some(layer)) => layer,
            Ok(None) => continue,
            Err(error) => {
                found.problems.push(error);
                continue;
            }
        };
        if !is_vuln_predicate(&layer.statement.predicate_type) {
            continue;
        }
        let (statement, signer) = match policy {
            None => (layer.statement, None),
            Some(policy) => match verify_found(layer.wrapping, &layer.bytes, subject, policy) {
                Ok(verified) => (verified.statement, Some(verified.signer)),
                Err(refusal) => {
                    found.ignored.push(IgnoredAttestation {
                        origin: Origin::Registry,
                        attestation: Some(artifact.clone()),
                        envelope: layer.digest,
                        predicate_type: layer.statement.predicate_type,
                        reason: refusal.to_string(),
                    });
                    continue;
                }
            },
        };
        if !statement.subjects.is_empty()
            && !statement.subjects.iter().any(|s| s == subject.as_str())
        {
            found.problems.push(Error::InvalidAttestation {
                attestation: artifact.clone(),
                reason: format!(
                    "it is attached to {subject} but states it is about {}",
                    statement.subjects.join(", ")
                ),
            });
            continue;
        }
        match report_from_statement(&statement, subject, Some(artifact), signer) {
            Ok(Some(report)) => found.reports.push(report),
            Ok(None) => {}
            Err(reason) => found.problems.push(Error::InvalidAttestation {
                attestation: artifact.clone(),
                reason,
            }),
        }
    }
    Ok(())
}

/// Every vulnerability report attached to `subject` in the cache's repository.
///
/// # Errors
///
/// Registry failures while reading the referrers index itself; problems
/// with single attestations are collected in [`Found::problems`].
pub(crate) async fn find(
    cache: &ManifestCache,
    subject: &Digest,
    attached: &Attached,
    policy: Option<&Policy>,
) -> Result<Found> {
    let mut found = Found::default();
    let mut artifacts: Vec<(Digest, Option<Descriptor>)> = Vec::new();
    match attached {
        Attached::Known(versions) => {
            found.looked = format!(
                "the {} version(s) tagged {}…",
                versions.len(),
                subject.referrers_tag()
            );
            for version in versions {
                artifacts.extend(artifacts_of(&cache.manifest(version).await?));
            }
        }
        Attached::LookUp => {
            found.looked = format!(
                "the referrers API, the {} tag and cosign's .att tag",
                subject.referrers_tag()
            );
            let referrers = cache
                .registry()
                .referrers(&cache.repository().with_digest(subject.clone()), None)
                .await?;
            for descriptor in referrers.descriptors {
                if !announces_other(&descriptor) {
                    artifacts.push((Digest::try_from(descriptor.digest())?, Some(descriptor)));
                }
            }
            if let Some(legacy) = cache
                .by_tag(&format!("{}.att", subject.referrers_tag()))
                .await?
            {
                artifacts.extend(artifacts_of(&legacy));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (artifact, _) in artifacts {
        if seen.insert(artifact.clone())
            && let Err(error) =
                artifact_reports(cache, subject, &artifact, policy, &mut found).await
        {
            found.problems.push(error);
        }
    }
    found
        .reports
        .sort_by_key(|report| std::cmp::Reverse(report.source.scanned_at));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(json: serde_json::Value) -> Descriptor {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn announced_predicates_and_types_are_skipped_unread() {
        let digest = Digest::sha256_of(b"x");
        let base = |extra: serde_json::Value| {
            let mut value = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest.as_str(), "size": 1});
            if let (Some(object), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
                object.extend(extra.clone());
            }
            descriptor(value)
        };
        let table = [
            (serde_json::json!({}), false),
            (
                serde_json::json!({"artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"}),
                true,
            ),
            (
                serde_json::json!({"artifactType": "application/spdx+json"}),
                true,
            ),
            (
                serde_json::json!({"annotations": {"predicateType": "https://spdx.dev/Document"}}),
                true,
            ),
            (
                serde_json::json!({"annotations": {"predicateType": "cosign.sigstore.dev/attestation/vuln/v1"}}),
                false,
            ),
            (
                serde_json::json!({"annotations": {"dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"}}),
                true,
            ),
            (
                serde_json::json!({"artifactType": DSSE_ENVELOPE, "annotations": {"predicateType": "https://in-toto.io/attestation/vulns/v0.1"}}),
                false,
            ),
        ];
        for (extra, skipped) in table {
            assert_eq!(announces_other(&base(extra.clone())), skipped, "{extra}");
        }
    }
}
