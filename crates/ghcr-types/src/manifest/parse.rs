//! Validation of received manifest bytes.

use bytes::Bytes;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{MAX_MANIFEST_SIZE, Manifest, ManifestBody};
use crate::error::{Error, Result};
use crate::{Digest, MediaType, Platform};

/// An index's children, read only for their platforms.
#[derive(Deserialize)]
struct Children {
    manifests: Vec<Child>,
}

#[derive(Deserialize)]
struct Child {
    platform: Option<Platform>,
}

/// The few fields read before choosing which schema to parse with.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<serde_json::Value>,
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<IgnoredAny>,
    config: Option<IgnoredAny>,
    layers: Option<IgnoredAny>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Image,
    Index,
}

impl Kind {
    fn of(media_type: &MediaType) -> Option<Self> {
        if media_type.is_index() {
            Some(Self::Index)
        } else if media_type.is_image_manifest() {
            Some(Self::Image)
        } else {
            None
        }
    }
}

pub(super) fn parse(bytes: Bytes, content_type: Option<&str>) -> Result<Manifest> {
    if bytes.len() > MAX_MANIFEST_SIZE {
        return Err(Error::ManifestTooLarge {
            size: bytes.len() as u64,
            limit: MAX_MANIFEST_SIZE as u64,
        });
    }
    // A registry may answer `application/json` or nothing useful; only a
    // manifest type (or schema 1) in the header carries information.
    let header_type = content_type.and_then(|text| MediaType::parse(text).ok());
    if let Some(schema1) = header_type.as_ref().filter(|t| t.is_schema1()) {
        return Err(schema1_error(schema1.as_str()));
    }
    let probe: Probe = serde_json::from_slice(&bytes).map_err(|source| Error::InvalidManifest {
        reason: "the body is not a JSON object".into(),
        source: Some(source),
    })?;
    match probe
        .schema_version
        .as_ref()
        .and_then(serde_json::Value::as_u64)
    {
        Some(2) => {}
        Some(1) => return Err(schema1_error("schemaVersion 1")),
        Some(other) => {
            return Err(Error::manifest(format!(
                "schemaVersion is {other}, only 2 is defined"
            )));
        }
        None => return Err(Error::manifest("schemaVersion is missing or not a number")),
    }
    let body_type = match probe.media_type.as_deref() {
        Some(text) => Some(
            MediaType::parse(text)
                .map_err(|_| Error::manifest(format!("mediaType `{text}` is not a media type")))?,
        ),
        None => None,
    };
    if let Some(schema1) = body_type.as_ref().filter(|t| t.is_schema1()) {
        return Err(schema1_error(schema1.as_str()));
    }
    let kind = decide_kind(body_type.as_ref(), header_type.as_ref(), &probe)?;
    let media_type = [body_type, header_type]
        .into_iter()
        .flatten()
        .find(|t| Kind::of(t) == Some(kind))
        .unwrap_or(match kind {
            Kind::Image => MediaType::OciManifest,
            Kind::Index => MediaType::OciIndex,
        });
    let mut child_platforms = Vec::new();
    let body = match kind {
        Kind::Image => {
            let image: ImageManifest =
                serde_json::from_slice(&bytes).map_err(|source| Error::InvalidManifest {
                    reason: "the image manifest does not follow the OCI schema".into(),
                    source: Some(source),
                })?;
            validate_descriptor("config", image.config())?;
            for (i, layer) in image.layers().iter().enumerate() {
                validate_descriptor(&format!("layers[{i}]"), layer)?;
            }
            if let Some(subject) = image.subject() {
                validate_descriptor("subject", subject)?;
            }
            ManifestBody::Image(Box::new(image))
        }
        Kind::Index => {
            let index: ImageIndex =
                serde_json::from_slice(&bytes).map_err(|source| Error::InvalidManifest {
                    reason: "the index does not follow the OCI schema".into(),
                    source: Some(source),
                })?;
            for (i, child) in index.manifests().iter().enumerate() {
                validate_descriptor(&format!("manifests[{i}]"), child)?;
            }
            if let Some(subject) = index.subject() {
                validate_descriptor("subject", subject)?;
            }
            let children: Children =
                serde_json::from_slice(&bytes).map_err(|source| Error::InvalidManifest {
                    reason: "a child's platform is not os/architecture strings".into(),
                    source: Some(source),
                })?;
            child_platforms = children
                .manifests
                .into_iter()
                .map(|child| child.platform)
                .collect();
            ManifestBody::Index(Box::new(index))
        }
    };
    Ok(Manifest {
        digest: Digest::sha256_of(&bytes),
        bytes,
        media_type,
        body,
        child_platforms,
    })
}

fn decide_kind(
    body: Option<&MediaType>,
    header: Option<&MediaType>,
    probe: &Probe,
) -> Result<Kind> {
    let body_kind = match body {
        Some(media_type) => {
            Some(
                Kind::of(media_type).ok_or_else(|| Error::UnsupportedManifest {
                    media_type: media_type.to_string(),
                    reason: "this is not an image manifest or index".into(),
                })?,
            )
        }
        None => None,
    };
    let header_kind = header.and_then(Kind::of);
    match (body_kind, header_kind) {
        (Some(from_body), Some(from_header)) if from_body != from_header => {
            Err(Error::manifest(format!(
                "the content type says {} but the body's mediaType says {}",
                header.map(MediaType::as_str).unwrap_or_default(),
                body.map(MediaType::as_str).unwrap_or_default()
            )))
        }
        (Some(kind), _) | (None, Some(kind)) => Ok(kind),
        (None, None) => match (&probe.manifests, &probe.config, &probe.layers) {
            (Some(_), None, None) => Ok(Kind::Index),
            (None, Some(_), Some(_)) => Ok(Kind::Image),
            _ => Err(Error::manifest(
                "without a mediaType, a manifest needs either `manifests` or `config` and `layers`",
            )),
        },
    }
}

fn validate_descriptor(place: &str, descriptor: &Descriptor) -> Result<()> {
    Digest::parse(descriptor.digest().as_ref())
        .map_err(|err| Error::manifest(format!("{place}: {err}")))?;
    let media_type = descriptor.media_type().to_string();
    MediaType::parse(&media_type).map_err(|_| {
        Error::manifest(format!(
            "{place}: mediaType `{media_type}` is not a media type"
        ))
    })?;
    Ok(())
}

fn schema1_error(media_type: &str) -> Error {
    Error::UnsupportedManifest {
        media_type: media_type.to_owned(),
        reason: "Docker schema 1 manifests cannot be verified by digest; re-push the image with a current docker or buildx".into(),
    }
}
