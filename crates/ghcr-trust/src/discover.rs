//! Finding an image's cosign signatures or attestations in its repository
//! and checking each one: the legacy `.sig` / `.att` tag, then referrers
//! of cosign's signature / attestation artifact type.

use ghcr_registry::RegistryClient;
use ghcr_types::oci::Descriptor;
use ghcr_types::{Digest, Manifest, Reference};

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
    artifact_type: &'static str,
    /// The layers' media type, and the refusal for any other.
    media_type: &'static str,
    other_layer: fn(Digest, String) -> Error,
    /// The largest layer read.
    limit: usize,
}

const SIGNATURES: Kind = Kind {
    suffix: ".sig",
    tag_source: |tag| Source::SigTag { tag },
    artifact_type: COSIGN_SIGNATURE_ARTIFACT_TYPE,
    media_type: SIMPLE_SIGNING_MEDIA_TYPE,
    other_layer: |layer, media_type| Error::NotSimpleSigning { layer, media_type },
    limit: MAX_PAYLOAD_SIZE,
};

const ATTESTATIONS: Kind = Kind {
    suffix: ".att",
    tag_source: |tag| Source::AttTag { tag },
    artifact_type: COSIGN_ATTESTATION_ARTIFACT_TYPE,
    media_type: DSSE_MEDIA_TYPE,
    other_layer: |layer, media_type| Error::NotDsse { layer, media_type },
    limit: MAX_ENVELOPE_SIZE,
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

/// Finds every keyed cosign attestation of `image` (`cosign attest
/// --key`: DSSE envelopes in the `sha256-<hex>.att` tag, and referrers of
/// [`COSIGN_ATTESTATION_ARTIFACT_TYPE`]) and verifies each under `policy`,
/// keeping only `predicate_type`'s when given (the others are refused
/// with [`Error::OtherPredicateType`]).
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
        verify_attestation_layer(layer, bytes, digest, policy, predicate_type)
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
    let referrers = client.referrers(&subject, Some(kind.artifact_type)).await?;
    for descriptor in &referrers.descriptors {
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
    let digest = crate::verify::layer_of_type(layer, kind.media_type, kind.other_layer)?;
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
