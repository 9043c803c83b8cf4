//! How a body is written into a cassette: inline JSON, text or base64 when
//! small, a side file named by its sha256 when large.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ghcr_types::Digest;
use serde::{Deserialize, Serialize};

use super::json::OrderedJson;
use crate::error::{Error, Result};

/// The folder of side files, inside a cassette folder.
pub const BODIES_DIR: &str = "bodies";

/// Bodies above this size go to a side file. Default of the recorder.
pub const DEFAULT_BODY_THRESHOLD: usize = 16 * 1024;

/// A body as the cassette file holds it: exactly one of the forms is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct BodyFile {
    /// Compact JSON whose bytes re-serialise exactly; shown pretty-printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) json: Option<OrderedJson>,
    /// UTF-8 text, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    /// Small binary content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base64: Option<String>,
    /// A side file, `bodies/sha256-<hex>`, verified by its name on load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
    /// The size of a side file's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<u64>,
    /// The body was not read to its end when it was recorded (the server
    /// answered first); the replayer does not match on it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) partial: bool,
}

/// Encodes `bytes`, adding large ones to `side_files`.
pub(crate) fn encode(
    bytes: &Bytes,
    partial: bool,
    threshold: usize,
    side_files: &mut BTreeMap<String, Bytes>,
) -> Option<BodyFile> {
    if bytes.is_empty() && !partial {
        return None;
    }
    let mut body = BodyFile {
        partial,
        ..BodyFile::default()
    };
    if bytes.len() > threshold {
        let digest = Digest::sha256_of(bytes);
        let name = format!("{BODIES_DIR}/{}", digest.referrers_tag());
        side_files.insert(name.clone(), bytes.clone());
        body.file = Some(name);
        body.size = Some(bytes.len() as u64);
    } else if let Some(json) = OrderedJson::lossless(bytes) {
        body.json = Some(json);
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        body.text = Some(text.to_owned());
    } else {
        body.base64 = Some(STANDARD.encode(bytes));
    }
    Some(body)
}

/// Decodes a body, reading and verifying a side file under `dir`.
pub(crate) fn decode(body: Option<&BodyFile>, dir: &Path, cassette: &Path) -> Result<Bytes> {
    let Some(body) = body else {
        return Ok(Bytes::new());
    };
    let invalid = |reason: String| Error::InvalidCassette {
        path: cassette.to_owned(),
        reason,
        source: None,
    };
    let forms = [
        body.json.is_some(),
        body.text.is_some(),
        body.base64.is_some(),
        body.file.is_some(),
    ];
    if forms.iter().filter(|set| **set).count() > 1 {
        return Err(invalid(
            "a body sets more than one of json, text, base64 and file".into(),
        ));
    }
    if let Some(json) = &body.json {
        return Ok(Bytes::from(json.to_bytes()));
    }
    if let Some(text) = &body.text {
        return Ok(Bytes::from(text.clone()));
    }
    if let Some(encoded) = &body.base64 {
        return STANDARD
            .decode(encoded)
            .map(Bytes::from)
            .map_err(|err| invalid(format!("a base64 body does not decode: {err}")));
    }
    if let Some(file) = &body.file {
        return read_side_file(dir, file, body.size, cassette);
    }
    Ok(Bytes::new())
}

fn read_side_file(dir: &Path, file: &str, size: Option<u64>, cassette: &Path) -> Result<Bytes> {
    let invalid = |reason: String| Error::InvalidCassette {
        path: cassette.to_owned(),
        reason,
        source: None,
    };
    let expected = file
        .strip_prefix(BODIES_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|name| name.split_once('-'))
        .and_then(|(algorithm, hex)| Digest::parse(&format!("{algorithm}:{hex}")).ok())
        .ok_or_else(|| {
            invalid(format!(
                "side file `{file}` is not named {BODIES_DIR}/sha256-<hex>"
            ))
        })?;
    let path = dir.join(file);
    let bytes = Bytes::from(std::fs::read(&path).map_err(|err| Error::io(&path, err))?);
    let actual = Digest::sha256_of(&bytes);
    if actual != expected {
        return Err(Error::BodyHashMismatch {
            path,
            expected,
            actual,
        });
    }
    if let Some(size) = size
        && size != bytes.len() as u64
    {
        return Err(invalid(format!(
            "side file `{file}` holds {} bytes, the cassette says {size}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], threshold: usize, form: &str) {
        let mut side = BTreeMap::new();
        let bytes = Bytes::copy_from_slice(input);
        let body = encode(&bytes, false, threshold, &mut side).unwrap();
        let set = match (&body.json, &body.text, &body.base64, &body.file) {
            (Some(_), None, None, None) => "json",
            (None, Some(_), None, None) => "text",
            (None, None, Some(_), None) => "base64",
            (None, None, None, Some(_)) => "file",
            other => panic!("more than one form: {other:?}"),
        };
        assert_eq!(set, form, "{input:?}");
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in &side {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let back = decode(Some(&body), dir.path(), Path::new("cassette.json")).unwrap();
        assert_eq!(back, bytes);
    }

    #[test]
    fn each_form_round_trips() {
        check(br#"{"token":"x","b":[1,2]}"#, 64, "json");
        check(b"{ \"spaced\": true }", 64, "text");
        check(b"plain words", 64, "text");
        check(&[0, 159, 146, 150], 64, "base64");
        check(&[7u8; 65], 64, "file");
        assert!(encode(&Bytes::new(), false, 64, &mut BTreeMap::new()).is_none());
    }

    #[test]
    fn an_altered_side_file_is_refused() {
        let mut side = BTreeMap::new();
        let bytes = Bytes::from(vec![1u8; 100]);
        let body = encode(&bytes, false, 10, &mut side).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let name = side.keys().next().unwrap();
        std::fs::create_dir_all(dir.path().join(BODIES_DIR)).unwrap();
        std::fs::write(dir.path().join(name), vec![2u8; 100]).unwrap();
        let err = decode(Some(&body), dir.path(), Path::new("c.json")).unwrap_err();
        match err {
            Error::BodyHashMismatch {
                expected, actual, ..
            } => {
                assert_eq!(expected, Digest::sha256_of(&bytes));
                assert_eq!(actual, Digest::sha256_of(&[2u8; 100]));
            }
            other => panic!("expected a hash mismatch, got {other:?}"),
        }
    }

    #[test]
    fn two_forms_at_once_are_invalid() {
        let body = BodyFile {
            text: Some("a".into()),
            base64: Some("YQ==".into()),
            ..BodyFile::default()
        };
        let err = decode(Some(&body), Path::new("."), Path::new("c.json")).unwrap_err();
        assert!(err.to_string().contains("more than one"), "{err}");
    }
}
