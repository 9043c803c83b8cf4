//! Finding an image's cosign signatures or attestations in its repository
//! and checking each one: the legacy `.sig` / `.att` tag, then referrers
//! of cosign's signature / attestation artifact type.

use ghcr_registry::RegistryClient;
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, Manifest, Reference};

use crate::bundle::{BUNDLE_MEDIA_TYPE_PREFIX, MAX_BUNDLE_SIZE, verify_bundle_layer};
use crate::dsse::{Attested, DSSE_MEDIA_TYPE, MAX_ENVELOPE_SIZE, verify_attestation_layer};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::report::{Checked, Source, Verification};
use crate::verify::{MAX_PAYLOAD_SIZE, SIMPLE_SIGNING_MEDIA_TYPE, verify_layer};

/// The `artifactType` of a cosign signature attached as a referrer
/// (`cosign sign --registry-referrers-mode=oci-1-1`).
pub const COSIGN_SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// The `artifactType` of a cosign attestation attached as a referrer.
pub const COSIGN_ATTESTATION_ARTIFACT_TYPE: &str =
    "application/vnd.dev.cosign.artifact.att.v1+json";

/// What is looked for: signatures or attestations.
struct Kind {
    /// The legacy tag's suffix (`.sig`, `.att`).
    suffix: &'static str,
    /// How a legacy tag is reported.
    tag_source: fn(String) -> Source,
    /// The referrers' `artifactType`, asked of the registry.
    artifact_type: &'static str,
    /// Whether other referrers are wanted too (Sigstore bundles), read
    /// from the unfiltered list.
    also: fn(&str) -> bool,
    /// The layers' media types, and the refusal for any other.
    media_type: fn(&str) -> bool,
    other_layer: fn(Digest, String) -> Error,
    /// The largest layer read.
    limit: usize,
}

const SIGNATURES: Kind = Kind {
    suffix: ".sig",
    tag_source: |tag| Source::SigTag { tag },
    artifact_type: COSIGN_SIGNATURE_ARTIFACT_TYPE,
    also: |_| false,
    media_type: |media_type| media_type == SIMPLE_SIGNING_MEDIA_TYPE,
    other_layer: |layer, media_type| Error::NotSimpleSigning { layer, media_type },
    limit: MAX_PAYLOAD_SIZE,
};

const ATTESTATIONS: Kind = Kind {
    suffix: ".att",
    tag_source: |tag| Source::AttTag { tag },
    artifact_type: COSIGN_ATTESTATION_ARTIFACT_TYPE,
    also: |artifact_type| artifact_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX),
    media_type: |media_type| {
        media_type == DSSE_MEDIA_TYPE || media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX)
    },
    other_layer: |layer, media_type| Error::NotDsse { layer, media_type },
    limit: if MAX_ENVELOPE_SIZE > MAX_BUNDLE_SIZE {
        MAX_ENVELOPE_SIZE
    } else {
        MAX_BUNDLE_SIZE
    },
};

/// Finds every cosign signature of `image` and verifies each under
/// `policy`.
///
/// The reference is resolved to a digest once; that digest is what every
/// payload must sign. Signatures live in the image's repository: the
/// `sha256-<hex>.sig` tag (each of its layers one signature), and
/// manifests of [`COSIGN_SIGNATURE_ARTIFACT_TYPE`] whose `subject` is the
/// image (the referrers API, or on ghcr.io its `sha256-<hex>` tag). A
/// manifest found both ways is checked once. A payload that cannot be
/// read (too large, altered in the registry) refuses that candidate only.
///
/// # Errors
///
/// [`crate::Error::Registry`] when the image does not exist or a lookup
/// fails (auth, network); no signature at all is an empty
/// [`Verification`], not an error.
pub async fn verify_image(
    client: &RegistryClient,
    image: &Reference,
    policy: &Policy,
) -> Result<Verification> {
    discover(client, image, &SIGNATURES, |layer, bytes, digest| {
        verify_layer(layer, bytes, digest, policy)
    })
    .await
}

/// Finds every attestation of `image` and verifies each under `policy`,
/// keeping only `predicate_type`'s when given (the others are refused
/// with [`Error::OtherPredicateType`]): keyed cosign attestations
/// (`cosign attest --key`: DSSE envelopes in the `sha256-<hex>.att` tag,
/// and referrers of [`COSIGN_ATTESTATION_ARTIFACT_TYPE`]), verified with
/// the policy's keys, and keyless Sigstore bundles attached as referrers
/// (`actions/attest`, `cosign attest` with the bundle format: an
/// `artifactType` and layer of [`crate::BUNDLE_MEDIA_TYPE_PREFIX`]),
/// verified with [`crate::verify_bundle_layer`] under the policy's
/// identities and trusted root.
///
/// # Errors
///
/// As [`verify_image`].
pub async fn verify_attestations(
    client: &RegistryClient,
    image: &Reference,
    policy: &Policy,
    predicate_type: Option<&str>,
) -> Result<Verification<Attested>> {
    discover(client, image, &ATTESTATIONS, |layer, bytes, digest| {
        if layer.media_type().to_string() == DSSE_MEDIA_TYPE {
            verify_attestation_layer(layer, bytes, digest, policy, predicate_type)
        } else {
            verify_bundle_layer(layer, bytes, digest, policy, predicate_type)
        }
    })
    .await
}

async fn discover<T>(
    client: &RegistryClient,
    image: &Reference,
    kind: &Kind,
    verify: impl Fn(&Descriptor, &[u8], &Digest) -> Result<T>,
) -> Result<Verification<T>> {
    let digest = client.resolve_digest(image).await?;
    let repository = image.without_tag_or_digest();
    let mut manifests: Vec<(Manifest, Source)> = Vec::new();

    let tag = format!("{}{}", digest.referrers_tag(), kind.suffix);
    match client.get_manifest(&repository.with_tag(&tag)?).await {
        Ok(manifest) => manifests.push((manifest, (kind.tag_source)(tag))),
        Err(error) if error.is_not_found() => {
            tracing::debug!(%tag, "no legacy tag");
        }
        Err(error) => return Err(error.into()),
    }

    let subject = repository.with_digest(digest.clone());
    let referrers = client.referrers(&subject, None).await?;
    let wanted = |descriptor: &Descriptor| {
        descriptor.artifact_type().as_ref().is_some_and(|found| {
            let found = found.to_string();
            found == kind.artifact_type || (kind.also)(&found)
        })
    };
    for descriptor in referrers.descriptors.iter().filter(|d| wanted(d)) {
        let Ok(found) = Digest::parse(descriptor.digest().as_ref()) else {
            tracing::debug!(digest = %descriptor.digest(), "a referrer with an invalid digest");
            continue;
        };
        if manifests.iter().any(|(m, _)| *m.digest() == found) {
            continue;
        }
        let manifest = client.get_manifest(&repository.with_digest(found)).await?;
        let source = Source::Referrer {
            via: referrers.source,
        };
        manifests.push((manifest, source));
    }

    let mut checked = Vec::new();
    for (manifest, source) in manifests {
        for layer in manifest.layers() {
            let outcome = check_layer(client, &repository, layer, kind, |bytes| {
                verify(layer, bytes, &digest)
            })
            .await;
            checked.push(Checked {
                manifest: manifest.digest().clone(),
                layer: Digest::parse(layer.digest().as_ref()).ok(),
                source: source.clone(),
                outcome,
            });
        }
    }
    Ok(Verification {
        image: digest,
        checked,
    })
}

/// One layer: refused from its descriptor before a byte is read (a
/// digest that cannot be checked, another kind of layer, over the limit),
/// else downloaded and verified.
async fn check_layer<T>(
    client: &RegistryClient,
    repository: &Reference,
    layer: &Descriptor,
    kind: &Kind,
    verify: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<T> {
    let digest = crate::verify::layer_digest(layer)?;
    let media_type = layer.media_type().to_string();
    if !(kind.media_type)(&media_type) {
        return Err((kind.other_layer)(digest, media_type));
    }
    if layer.size() > kind.limit as u64 {
        return Err(Error::PayloadTooLarge {
            size: layer.size(),
            limit: kind.limit,
        });
    }
    let bytes = client
        .get_blob_bytes(repository, &digest, kind.limit)
        .await?;
    verify(&bytes)
}
