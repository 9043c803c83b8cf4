//! `--platform` for sync: an index narrowed to the chosen platforms (and
//! the BuildKit attestation manifests of the children kept), written as a
//! new index beside the same children. Its digest is not the source's, so
//! the plan compares the target with the narrowed digest.

use bytes::Bytes;
use ghcr_types::{Digest, Manifest, Platform};
use serde_json::Value;

/// The annotations BuildKit puts on an attestation manifest's descriptor.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

/// `index` with only the children for `wanted` (and their attestations),
/// every other field as it was; `None` when no child is for `wanted`.
pub(crate) fn narrow_index(index: &Manifest, wanted: &[Platform]) -> Option<Bytes> {
    let kept: Vec<Digest> = index
        .children_with_platforms()
        .filter(|(_, platform)| {
            platform.is_some_and(|offered| wanted.iter().any(|w| w.matches(offered)))
        })
        .filter_map(|(child, _)| Digest::try_from(child.digest()).ok())
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut json: Value = serde_json::from_slice(index.bytes()).ok()?;
    let manifests = json.get_mut("manifests")?.as_array_mut()?;
    manifests.retain(|child| {
        let digest = child.get("digest").and_then(Value::as_str);
        let annotation =
            |key: &str| child.pointer(&format!("/annotations/{}", key.replace('/', "~1")));
        let attests = annotation(REFERENCE_TYPE).and_then(Value::as_str)
            == Some("attestation-manifest")
            && annotation(REFERENCE_DIGEST)
                .and_then(Value::as_str)
                .is_some_and(|of| kept.iter().any(|d| d.as_str() == of));
        attests || digest.is_some_and(|digest| kept.iter().any(|d| d.as_str() == digest))
    });
    serde_json::to_vec(&json).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_index_keeps_the_chosen_platforms_and_their_attestations() {
        let d = |n: u8| Digest::sha256_of(&[n]).to_string();
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(1), "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(2), "size": 1, "platform": {"os": "linux", "architecture": "arm64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(3), "size": 1, "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d(1)}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d(4), "size": 1, "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d(2)}},
            ],
            "annotations": {"org.opencontainers.image.created": "2026-12-03T00:00:00Z"},
        });
        let index = Manifest::from_bytes(serde_json::to_vec(&index).unwrap(), None).unwrap();
        let amd64 = Platform::parse("linux/amd64").unwrap();
        let narrowed = narrow_index(&index, &[amd64]).unwrap();
        let narrowed = Manifest::from_bytes(narrowed, None).unwrap();
        let kept: Vec<String> = narrowed
            .children()
            .iter()
            .map(|c| c.digest().to_string())
            .collect();
        assert_eq!(kept, [d(1), d(3)], "amd64 and its attestation");
        assert_eq!(
            narrowed.annotations().unwrap()["org.opencontainers.image.created"],
            "2026-12-03T00:00:00Z"
        );
        let s390x = Platform::parse("linux/s390x").unwrap();
        assert!(narrow_index(&index, &[s390x]).is_none());
    }
}
