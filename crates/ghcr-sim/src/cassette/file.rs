//! The cassette file: its serde shape, reading with verification, and
//! writing through a temporary folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::body::{self, BodyFile};
use super::{
    Cassette, CassetteMeta, Headers, Interaction, RecordedError, RecordedRequest, RecordedResponse,
};
use crate::error::{Error, Result};

/// The cassette file inside a cassette folder.
pub(crate) const CASSETTE_FILE: &str = "cassette.json";

/// The format version this crate writes and reads.
pub(crate) const CASSETTE_VERSION: u64 = 1;

#[derive(Serialize, Deserialize)]
struct CassetteFile {
    version: u64,
    #[serde(default)]
    meta: CassetteMeta,
    #[serde(default)]
    interactions: Vec<InteractionFile>,
}

#[derive(Serialize, Deserialize)]
struct InteractionFile {
    request: RequestFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<ResponseFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<RecordedError>,
}

#[derive(Serialize, Deserialize)]
struct RequestFile {
    method: String,
    url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, HeaderValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<BodyFile>,
}

#[derive(Serialize, Deserialize)]
struct ResponseFile {
    status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, HeaderValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<BodyFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_error: Option<RecordedError>,
}

/// One value as a string, several as an array.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum HeaderValues {
    One(String),
    Many(Vec<String>),
}

fn headers_to_file(headers: &Headers) -> BTreeMap<String, HeaderValues> {
    headers
        .iter()
        .map(|(name, values)| {
            let values = match values.as_slice() {
                [one] => HeaderValues::One(one.clone()),
                many => HeaderValues::Many(many.to_vec()),
            };
            (name.clone(), values)
        })
        .collect()
}

fn headers_from_file(headers: BTreeMap<String, HeaderValues>) -> Headers {
    headers
        .into_iter()
        .map(|(name, values)| {
            let values = match values {
                HeaderValues::One(one) => vec![one],
                HeaderValues::Many(many) => many,
            };
            (name.to_ascii_lowercase(), values)
        })
        .collect()
}

pub(super) fn load(dir: &Path) -> Result<Cassette> {
    let path = dir.join(CASSETTE_FILE);
    let text = std::fs::read(&path).map_err(|err| Error::io(&path, err))?;
    let version = serde_json::from_slice::<serde_json::Value>(&text)
        .map_err(|source| Error::InvalidCassette {
            path: path.clone(),
            reason: "it is not JSON".into(),
            source: Some(source),
        })?
        .get("version")
        .and_then(serde_json::Value::as_u64);
    match version {
        Some(CASSETTE_VERSION) => {}
        Some(found) => {
            return Err(Error::UnsupportedVersion {
                path,
                found,
                supported: CASSETTE_VERSION,
            });
        }
        None => {
            return Err(Error::InvalidCassette {
                path,
                reason: "it has no numeric top-level `version`".into(),
                source: None,
            });
        }
    }
    let file: CassetteFile =
        serde_json::from_slice(&text).map_err(|source| Error::InvalidCassette {
            path: path.clone(),
            reason: "its shape is not the documented one".into(),
            source: Some(source),
        })?;
    let mut interactions = Vec::with_capacity(file.interactions.len());
    for entry in file.interactions {
        interactions.push(interaction_from_file(entry, dir, &path)?);
    }
    Ok(Cassette {
        meta: file.meta,
        interactions,
        body_threshold: body::DEFAULT_BODY_THRESHOLD,
    })
}

fn interaction_from_file(entry: InteractionFile, dir: &Path, path: &Path) -> Result<Interaction> {
    let request = RecordedRequest {
        body_complete: !entry.request.body.as_ref().is_some_and(|b| b.partial),
        body: body::decode(entry.request.body.as_ref(), dir, path)?,
        method: entry.request.method,
        url: entry.request.url,
        headers: headers_from_file(entry.request.headers),
    };
    let outcome = match (entry.response, entry.error) {
        (Some(response), None) => Ok(RecordedResponse {
            body_complete: !response.body.as_ref().is_some_and(|b| b.partial),
            status: response.status,
            body: body::decode(response.body.as_ref(), dir, path)?,
            headers: headers_from_file(response.headers),
            body_error: response.body_error,
        }),
        (None, Some(error)) => Err(error),
        _ => {
            return Err(Error::InvalidCassette {
                path: path.to_owned(),
                reason: format!(
                    "interaction `{} {}` needs exactly one of `response` and `error`",
                    request.method, request.url
                ),
                source: None,
            });
        }
    };
    Ok(Interaction { request, outcome })
}

pub(super) fn save(cassette: &Cassette, dir: &Path) -> Result<()> {
    let mut side_files = BTreeMap::new();
    let threshold = cassette.body_threshold;
    let interactions = cassette
        .interactions
        .iter()
        .map(|interaction| {
            let request = &interaction.request;
            let (response, error) = match &interaction.outcome {
                Ok(response) => (
                    Some(ResponseFile {
                        status: response.status,
                        headers: headers_to_file(&response.headers),
                        body: body::encode(
                            &response.body,
                            !response.body_complete,
                            threshold,
                            &mut side_files,
                        ),
                        body_error: response.body_error.clone(),
                    }),
                    None,
                ),
                Err(error) => (None, Some(error.clone())),
            };
            InteractionFile {
                request: RequestFile {
                    method: request.method.clone(),
                    url: request.url.clone(),
                    headers: headers_to_file(&request.headers),
                    body: body::encode(
                        &request.body,
                        !request.body_complete,
                        threshold,
                        &mut side_files,
                    ),
                },
                response,
                error,
            }
        })
        .collect();
    let file = CassetteFile {
        version: CASSETTE_VERSION,
        meta: cassette.meta.clone(),
        interactions,
    };
    let mut text =
        serde_json::to_string_pretty(&file).map_err(|source| Error::InvalidCassette {
            path: dir.join(CASSETTE_FILE),
            reason: "it could not be serialised".into(),
            source: Some(source),
        })?;
    text.push('\n');
    write_folder(dir, &text, &side_files)
}

/// Writes the folder next to `dir`, then swaps it in, so that a failed
/// write never leaves half a cassette.
fn write_folder(dir: &Path, text: &str, side_files: &BTreeMap<String, Bytes>) -> Result<()> {
    let parent = dir.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent).map_err(|err| Error::io(parent, err))?;
    let name = dir
        .file_name()
        .map_or_else(|| "cassette".into(), |n| n.to_string_lossy().into_owned());
    let temp: PathBuf = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if temp.exists() {
        std::fs::remove_dir_all(&temp).map_err(|err| Error::io(&temp, err))?;
    }
    std::fs::create_dir_all(temp.join(body::BODIES_DIR)).map_err(|err| Error::io(&temp, err))?;
    for (file, bytes) in side_files {
        let path = temp.join(file);
        std::fs::write(&path, bytes).map_err(|err| Error::io(&path, err))?;
    }
    if side_files.is_empty() {
        let bodies = temp.join(body::BODIES_DIR);
        std::fs::remove_dir(&bodies).map_err(|err| Error::io(&bodies, err))?;
    }
    let cassette = temp.join(CASSETTE_FILE);
    std::fs::write(&cassette, text).map_err(|err| Error::io(&cassette, err))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|err| Error::io(dir, err))?;
    }
    std::fs::rename(&temp, dir).map_err(|err| Error::io(dir, err))
}
