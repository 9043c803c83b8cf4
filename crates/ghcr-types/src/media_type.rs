//! Media types of manifests, configs, layers and artifacts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

macro_rules! media_types {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// A media type, with the well-known OCI and Docker types named.
        ///
        /// Known types are recognised case-insensitively and without their
        /// parameters; any other type is kept verbatim, parameters included, in
        /// [`MediaType::Other`].
        ///
        /// ```
        /// use ghcr_types::MediaType;
        ///
        /// let oci: MediaType = "application/vnd.oci.image.index.v1+json".parse()?;
        /// assert_eq!(oci, MediaType::OciIndex);
        /// assert!(oci.is_index());
        ///
        /// let bundle: MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json; version=0.3".parse()?;
        /// assert_eq!(bundle.as_str(), "application/vnd.dev.sigstore.bundle.v0.3+json; version=0.3");
        /// assert_eq!(bundle.parameter("version"), Some("0.3"));
        /// assert!("not a media type".parse::<MediaType>().is_err());
        /// # Ok::<(), ghcr_types::Error>(())
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum MediaType {
            $( $(#[$doc])* $variant, )*
            /// Any other media type, kept as written.
            Other(String),
        }

        impl MediaType {
            /// The media type as text.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }

            fn known(essence: &str) -> Option<Self> {
                $( if essence.eq_ignore_ascii_case($text) { return Some(Self::$variant); } )*
                None
            }
        }
    };
}

media_types! {
    /// An OCI image manifest.
    OciManifest => "application/vnd.oci.image.manifest.v1+json",
    /// An OCI image index.
    OciIndex => "application/vnd.oci.image.index.v1+json",
    /// An OCI image configuration.
    OciConfig => "application/vnd.oci.image.config.v1+json",
    /// An uncompressed OCI layer.
    OciLayerTar => "application/vnd.oci.image.layer.v1.tar",
    /// A gzip-compressed OCI layer.
    OciLayerGzip => "application/vnd.oci.image.layer.v1.tar+gzip",
    /// A zstd-compressed OCI layer.
    OciLayerZstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    /// An uncompressed foreign (non-distributable) OCI layer.
    OciForeignLayerTar => "application/vnd.oci.image.layer.nondistributable.v1.tar",
    /// A gzip-compressed foreign (non-distributable) OCI layer.
    OciForeignLayerGzip => "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    /// A zstd-compressed foreign (non-distributable) OCI layer.
    OciForeignLayerZstd => "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    /// The OCI empty JSON descriptor (`{}`), used as an artifact's config.
    OciEmptyJson => "application/vnd.oci.empty.v1+json",
    /// A Docker image manifest, schema 2.
    DockerManifest => "application/vnd.docker.distribution.manifest.v2+json",
    /// A Docker manifest list (multi-arch), schema 2.
    DockerManifestList => "application/vnd.docker.distribution.manifest.list.v2+json",
    /// A Docker container configuration.
    DockerConfig => "application/vnd.docker.container.image.v1+json",
    /// A gzip-compressed Docker layer.
    DockerLayerGzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
    /// A foreign (Windows base) Docker layer.
    DockerForeignLayerGzip => "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    /// A Docker schema 1 manifest: refused, it cannot be verified by digest.
    DockerSchema1Manifest => "application/vnd.docker.distribution.manifest.v1+json",
    /// A signed Docker schema 1 manifest: refused like the unsigned one.
    DockerSchema1SignedManifest => "application/vnd.docker.distribution.manifest.v1+prettyjws",
}

/// Artifact and layer types of the supply-chain tools whose attachments
/// ghcr.io stores next to images.
pub mod artifact_types {
    /// A DSSE envelope (cosign attestations in the legacy `.att` layout).
    pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
    /// An in-toto statement.
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";
    /// The prefix of Sigstore bundle media types (`…bundle.v0.3+json` or `…bundle+json;version=0.x`).
    pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
    /// A cosign simple signing payload.
    pub const COSIGN_SIGNATURE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    /// An SPDX document in JSON.
    pub const SPDX_JSON: &str = "application/spdx+json";
    /// A CycloneDX document in JSON.
    pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";
    /// A SARIF log.
    pub const SARIF_JSON: &str = "application/sarif+json";
}

impl MediaType {
    /// Parses a media type.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMediaType`] when the text is not `type/subtype[; parameters]`.
    pub fn parse(input: &str) -> Result<Self> {
        let essence = essence_of(input);
        let valid = essence
            .split_once('/')
            .is_some_and(|(kind, subtype)| is_restricted_name(kind) && is_restricted_name(subtype));
        if !valid {
            return Err(Error::InvalidMediaType {
                input: input.to_owned(),
            });
        }
        Ok(Self::known(essence).unwrap_or_else(|| Self::Other(input.trim().to_owned())))
    }

    /// The type without parameters, such as `application/vnd.oci.image.manifest.v1+json`.
    pub fn essence(&self) -> &str {
        essence_of(self.as_str())
    }

    /// The value of a parameter (`version` in `…;version=0.3`), when present.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        let (_, parameters) = self.as_str().split_once(';')?;
        parameters.split(';').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().trim_matches('"'))
        })
    }

    /// An image manifest (OCI or Docker schema 2).
    pub fn is_image_manifest(&self) -> bool {
        matches!(self, Self::OciManifest | Self::DockerManifest)
    }

    /// An index of manifests (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        matches!(self, Self::OciIndex | Self::DockerManifestList)
    }

    /// Either kind of manifest this crate can read.
    pub fn is_manifest(&self) -> bool {
        self.is_image_manifest() || self.is_index()
    }

    /// A Docker schema 1 manifest.
    pub fn is_schema1(&self) -> bool {
        matches!(
            self,
            Self::DockerSchema1Manifest | Self::DockerSchema1SignedManifest
        )
    }

    /// A filesystem layer, distributable or foreign.
    pub fn is_layer(&self) -> bool {
        matches!(
            self,
            Self::OciLayerTar
                | Self::OciLayerGzip
                | Self::OciLayerZstd
                | Self::OciForeignLayerTar
                | Self::OciForeignLayerGzip
                | Self::OciForeignLayerZstd
                | Self::DockerLayerGzip
                | Self::DockerForeignLayerGzip
        )
    }

    /// A foreign layer, which registries may refuse to store and clients
    /// fetch from the descriptor's `urls`.
    pub fn is_foreign_layer(&self) -> bool {
        matches!(
            self,
            Self::OciForeignLayerTar
                | Self::OciForeignLayerGzip
                | Self::OciForeignLayerZstd
                | Self::DockerForeignLayerGzip
        )
    }

    /// The Accept header value a client sends to get any manifest this crate reads.
    pub fn manifest_accept_header() -> &'static str {
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
         application/vnd.docker.distribution.manifest.list.v2+json, \
         application/vnd.docker.distribution.manifest.v2+json"
    }
}

fn essence_of(text: &str) -> &str {
    text.split(';').next().unwrap_or_default().trim()
}

/// RFC 6838 restricted-name: 1 to 127 of `[A-Za-z0-9!#$&^_.+-]`, starting alphanumeric.
fn is_restricted_name(name: &str) -> bool {
    name.len() <= 127
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl From<&oci_spec::image::MediaType> for MediaType {
    fn from(value: &oci_spec::image::MediaType) -> Self {
        let text = value.to_string();
        Self::parse(&text).unwrap_or(Self::Other(text))
    }
}

impl From<&MediaType> for oci_spec::image::MediaType {
    fn from(value: &MediaType) -> Self {
        Self::from(value.as_str())
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_round_trip_and_classify() {
        let table = [
            (MediaType::OciManifest, true, false, false),
            (MediaType::DockerManifest, true, false, false),
            (MediaType::OciIndex, false, true, false),
            (MediaType::DockerManifestList, false, true, false),
            (MediaType::OciLayerZstd, false, false, true),
            (MediaType::DockerForeignLayerGzip, false, false, true),
            (MediaType::OciConfig, false, false, false),
        ];
        for (media_type, image, index, layer) in table {
            assert_eq!(MediaType::parse(media_type.as_str()).unwrap(), media_type);
            assert_eq!(media_type.is_image_manifest(), image, "{media_type}");
            assert_eq!(media_type.is_index(), index, "{media_type}");
            assert_eq!(media_type.is_layer(), layer, "{media_type}");
        }
    }

    #[test]
    fn known_types_ignore_case_and_parameters() {
        let parsed =
            MediaType::parse("Application/VND.OCI.image.manifest.v1+JSON; charset=utf-8").unwrap();
        assert_eq!(parsed, MediaType::OciManifest);
    }

    #[test]
    fn other_types_keep_their_parameters() {
        let parsed =
            MediaType::parse("application/vnd.dev.sigstore.bundle+json;version=0.2").unwrap();
        assert_eq!(
            parsed.as_str(),
            "application/vnd.dev.sigstore.bundle+json;version=0.2"
        );
        assert_eq!(parsed.essence(), "application/vnd.dev.sigstore.bundle+json");
        assert_eq!(parsed.parameter("VERSION"), Some("0.2"));
        assert_eq!(parsed.parameter("charset"), None);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "application",
            "/json",
            "application/",
            "a b/c",
            "application/json/x",
            ";x=y",
        ] {
            assert!(MediaType::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn schema1_is_recognised() {
        assert!(
            MediaType::parse("application/vnd.docker.distribution.manifest.v1+prettyjws")
                .unwrap()
                .is_schema1()
        );
    }
}
