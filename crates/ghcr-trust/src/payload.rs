//! cosign's simple-signing payload: the JSON document a keyed signature
//! signs, naming the image by its manifest digest.
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"ghcr.io/octo/app"},
//!   "image":{"docker-manifest-digest":"sha256:…"},
//!   "type":"cosign container image signature"},"optional":null}
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `critical.type` of an image signature.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// A parsed simple-signing payload. Only a payload whose signature
/// verified is handed out (in [`crate::Verified`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: the repository the signer
    /// named (not checked: cosign does not check it either by default).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the image signed.
    pub manifest_digest: String,
    /// `optional`: the signer's annotations (`cosign sign -a k=v`), if any.
    pub optional: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Wire {
    critical: Critical,
    #[serde(default)]
    optional: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    manifest_digest: String,
}

impl SimpleSigning {
    /// Parses the exact payload bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPayload`] when it is not the document above, and
    /// [`Error::WrongPayloadType`] for another `critical.type`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|source| Error::InvalidPayload { source })?;
        if wire.critical.kind != SIMPLE_SIGNING_TYPE {
            return Err(Error::WrongPayloadType {
                found: wire.critical.kind,
            });
        }
        Ok(Self {
            docker_reference: wire.critical.identity.docker_reference,
            manifest_digest: wire.critical.image.manifest_digest,
            optional: wire.optional,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(kind: &str, optional: &str) -> String {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"ghcr.io/octo/app"}},"image":{{"docker-manifest-digest":"sha256:ab"}},"type":"{kind}"}}{optional}}}"#
        )
    }

    #[test]
    fn payloads() {
        let ok =
            SimpleSigning::parse(payload(SIMPLE_SIGNING_TYPE, r#","optional":null"#).as_bytes())
                .unwrap();
        assert_eq!(ok.docker_reference, "ghcr.io/octo/app");
        assert_eq!(ok.manifest_digest, "sha256:ab");
        assert_eq!(ok.optional, None);
        let annotated = SimpleSigning::parse(
            payload(SIMPLE_SIGNING_TYPE, r#","optional":{"env":"prod"}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(annotated.optional.unwrap()["env"], "prod");
        assert!(SimpleSigning::parse(payload(SIMPLE_SIGNING_TYPE, "").as_bytes()).is_ok());

        for (input, wrong_type) in [
            (payload("cosign container image attestation", ""), true),
            ("{}".to_owned(), false),
            ("not json".to_owned(), false),
            (
                r#"{"critical":{"identity":{},"image":{},"type":"x"}}"#.to_owned(),
                false,
            ),
            (payload(SIMPLE_SIGNING_TYPE, r#","optional":7"#), false),
        ] {
            let error = SimpleSigning::parse(input.as_bytes()).unwrap_err();
            assert_eq!(
                matches!(error, Error::WrongPayloadType { .. }),
                wrong_type,
                "{input}: {error}"
            );
        }
    }
}
