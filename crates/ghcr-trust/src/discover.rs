//! Finding an image's cosign signatures in its repository and checking
//! each one: the legacy `.sig` tag, then referrers of cosign's signature
//! artifact type.

use ghcr_registry::RegistryClient;
use ghcr_types::{Digest, Manifest, Reference};

use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::report::{Checked, Source, Verification};
use crate::verify::{MAX_PAYLOAD_SIZE, SIMPLE_SIGNING_MEDIA_TYPE, verify_layer};

/// The `artifactType` of a cosign signature attached as a referrer
/// (`cosign sign --registry-referrers-mode=oci-1-1`).
pub const COSIGN_SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

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
    let digest = client.resolve_digest(image).await?;
    let repository = image.without_tag_or_digest();
    let mut manifests: Vec<(Manifest, Source)> = Vec::new();

    let tag = format!("{}.sig", digest.referrers_tag());
    match client.get_manifest(&repository.with_tag(&tag)?).await {
        Ok(manifest) => manifests.push((manifest, Source::SigTag { tag })),
        Err(error) if error.is_not_found() => {
            tracing::debug!(%tag, "no legacy signature tag");
        }
        Err(error) => return Err(error.into()),
    }

    let subject = repository.with_digest(digest.clone());
    let referrers = client
        .referrers(&subject, Some(COSIGN_SIGNATURE_ARTIFACT_TYPE))
        .await?;
    for descriptor in &referrers.descriptors {
        let Ok(found) = Digest::parse(descriptor.digest().as_ref()) else {
            tracing::debug!(digest = %descriptor.digest(), "a referrer with an invalid digest");
            continue;
        };
        if manifests.iter().any(|(m, _)| *m.digest() == found) {
            continue;
        }
        let manifest = client.get_manifest(&repository.with_digest(found)).await?;
        manifests.push((
            manifest,
            Source::Referrer {
                via: referrers.source,
            },
        ));
    }

    let mut checked = Vec::new();
    for (manifest, source) in manifests {
        check_manifest(
            client,
            &repository,
            &manifest,
            &source,
            &digest,
            policy,
            &mut checked,
        )
        .await;
    }
    Ok(Verification {
        image: digest,
        checked,
    })
}

/// Checks each layer of one signature manifest into `checked`.
async fn check_manifest(
    client: &RegistryClient,
    repository: &Reference,
    manifest: &Manifest,
    source: &Source,
    image: &Digest,
    policy: &Policy,
    checked: &mut Vec<Checked>,
) {
    for layer in manifest.layers() {
        let layer_digest = Digest::parse(layer.digest().as_ref()).ok();
        // Refused before a byte is read: another kind of layer, a payload
        // over the limit, a digest that cannot be checked.
        let outcome = match &layer_digest {
            None => Err(Error::MalformedSignature {
                reason: format!("the layer's digest `{}` is invalid", layer.digest()),
            }),
            Some(digest) if layer.media_type().to_string() != SIMPLE_SIGNING_MEDIA_TYPE => {
                Err(Error::NotSimpleSigning {
                    layer: digest.clone(),
                    media_type: layer.media_type().to_string(),
                })
            }
            Some(_) if layer.size() > MAX_PAYLOAD_SIZE as u64 => Err(Error::PayloadTooLarge {
                size: layer.size(),
                limit: MAX_PAYLOAD_SIZE,
            }),
            Some(digest) => client
                .get_blob_bytes(repository, digest, MAX_PAYLOAD_SIZE)
                .await
                .map_err(Error::from)
                .and_then(|payload| verify_layer(layer, &payload, image, policy)),
        };
        checked.push(Checked {
            manifest: manifest.digest().clone(),
            layer: layer_digest,
            source: source.clone(),
            outcome,
        });
    }
}
