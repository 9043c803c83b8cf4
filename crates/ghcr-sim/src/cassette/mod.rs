//! Cassettes: recorded interactions on disk, versioned, with stable key order.
//!
//! The format is documented in the crate docs ("Cassette format").

mod body;
mod file;
mod json;

pub use body::{BODIES_DIR, DEFAULT_BODY_THRESHOLD};
pub(crate) use file::CASSETTE_FILE;

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Header values by lowercase name, in name order.
pub(crate) type Headers = BTreeMap<String, Vec<String>>;

/// What the cassette says about where and how it was recorded; the fixture
/// helper uses it to give a replayed test the same hosts and names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CassetteMeta {
    /// The fixture name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The package whose test recorded it (`CARGO_PKG_NAME` of the test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// What was recorded against: `fake ghcr profile`, or a registry URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The registry host the requests went to (`127.0.0.1:PORT`, `ghcr.io`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The base URL of the GitHub REST API the requests went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The owner namespace the test pushed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The user name credentials were given for (never the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether the registry was reached over plain HTTP (a loopback fake).
    #[serde(default)]
    pub plain_http: bool,
}

/// An error instead of a response: the connection failed or broke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordedError {
    /// `std::io::ErrorKind` in snake case when the error was an I/O error
    /// (`connection_reset`, `unexpected_eof`), else `other`.
    pub(crate) kind: String,
    /// The error's message chain.
    pub(crate) message: String,
}

/// The io error kinds a recording keeps, by their cassette names.
const ERROR_KINDS: [(&str, std::io::ErrorKind); 6] = [
    ("connection_reset", std::io::ErrorKind::ConnectionReset),
    ("connection_aborted", std::io::ErrorKind::ConnectionAborted),
    ("connection_refused", std::io::ErrorKind::ConnectionRefused),
    ("broken_pipe", std::io::ErrorKind::BrokenPipe),
    ("timed_out", std::io::ErrorKind::TimedOut),
    ("unexpected_eof", std::io::ErrorKind::UnexpectedEof),
];

impl RecordedError {
    /// Keeps an error's kind and message chain.
    pub(crate) fn from_error(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut kind = "other";
        let mut messages = Vec::new();
        let mut current = Some(error);
        while let Some(err) = current {
            messages.push(err.to_string());
            if kind == "other" {
                if let Some(io) = err.downcast_ref::<std::io::Error>() {
                    kind = ERROR_KINDS
                        .iter()
                        .find(|(_, k)| *k == io.kind())
                        .map_or("other", |(name, _)| name);
                } else if let Some(hyper) = err.downcast_ref::<hyper::Error>() {
                    if hyper.is_incomplete_message() {
                        kind = "unexpected_eof";
                    } else if hyper.is_closed() || hyper.is_canceled() {
                        kind = "connection_reset";
                    }
                }
            }
            current = err.source();
        }
        Self {
            kind: kind.to_owned(),
            message: messages.join(": "),
        }
    }

    /// The error to hand back on replay: an io error of the recorded kind,
    /// so that retry decisions made on the kind come out the same.
    pub(crate) fn to_io_error(&self) -> std::io::Error {
        let kind = ERROR_KINDS
            .iter()
            .find(|(name, _)| *name == self.kind)
            .map_or(std::io::ErrorKind::Other, |(_, kind)| *kind);
        std::io::Error::new(kind, format!("replayed: {}", self.message))
    }
}

/// A request as recorded, after redaction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecordedRequest {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Headers,
    pub(crate) body: Bytes,
    /// False when the body was not read to its end.
    pub(crate) body_complete: bool,
}

/// A response as recorded, after redaction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecordedResponse {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: Bytes,
    /// False when the client stopped reading before the end.
    pub(crate) body_complete: bool,
    /// The body broke after `body`'s bytes.
    pub(crate) body_error: Option<RecordedError>,
}

/// One request and what came back.
#[derive(Clone, Debug, PartialEq)]
pub struct Interaction {
    pub(crate) request: RecordedRequest,
    pub(crate) outcome: Result<RecordedResponse, RecordedError>,
}

impl Interaction {
    /// The request method.
    pub fn method(&self) -> &str {
        &self.request.method
    }

    /// The request URL, redacted.
    pub fn url(&self) -> &str {
        &self.request.url
    }

    /// `METHOD path?query`, as errors name requests.
    pub fn describe(&self) -> String {
        describe(&self.request.method, &self.request.url)
    }

    /// A request header as recorded (credentials read `<redacted:Scheme>`).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        first(&self.request.headers, name)
    }

    /// The request body (empty when there was none).
    pub fn request_body(&self) -> &Bytes {
        &self.request.body
    }

    /// The response status, `None` when the request failed.
    pub fn status(&self) -> Option<u16> {
        self.outcome.as_ref().ok().map(|response| response.status)
    }

    /// A response header as recorded.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.outcome
            .as_ref()
            .ok()
            .and_then(|response| first(&response.headers, name))
    }

    /// The response body, `None` when the request failed.
    pub fn response_body(&self) -> Option<&Bytes> {
        self.outcome.as_ref().ok().map(|response| &response.body)
    }

    /// The recorded failure, when the request failed or its body broke.
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Err(error) => Some(&error.message),
            Ok(response) => response.body_error.as_ref().map(|e| e.message.as_str()),
        }
    }
}

fn first<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .get(&name.to_ascii_lowercase())
        .and_then(|values| values.first())
        .map(String::as_str)
}

/// `METHOD path?query` of a URL.
pub(crate) fn describe(method: &str, url: &str) -> String {
    let path = url
        .find("://")
        .and_then(|start| {
            let rest = &url[start + 3..];
            rest.find('/').map(|slash| &rest[slash..])
        })
        .unwrap_or(url);
    format!("{method} {path}")
}

/// A recorded session: metadata and interactions in request order.
///
/// ```
/// use ghcr_sim::{Cassette, CassetteMeta};
///
/// let dir = tempfile::tempdir()?;
/// let mut meta = CassetteMeta::default();
/// meta.name = Some("empty".into());
/// Cassette::new(meta).save(dir.path())?;
/// let loaded = Cassette::load(dir.path())?;
/// assert_eq!(loaded.meta().name.as_deref(), Some("empty"));
/// assert!(loaded.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cassette {
    pub(crate) meta: CassetteMeta,
    pub(crate) interactions: Vec<Interaction>,
    pub(crate) body_threshold: usize,
}

impl Cassette {
    /// An empty cassette.
    pub fn new(meta: CassetteMeta) -> Self {
        Self {
            meta,
            interactions: Vec::new(),
            body_threshold: DEFAULT_BODY_THRESHOLD,
        }
    }

    /// Reads `dir/cassette.json` and every side file it names, verifying
    /// each side file against the sha256 in its name.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Io`] when a file cannot be read,
    /// [`crate::Error::InvalidCassette`] for malformed JSON,
    /// [`crate::Error::UnsupportedVersion`] for another format version,
    /// [`crate::Error::BodyHashMismatch`] for an altered side file.
    pub fn load(dir: &Path) -> Result<Self> {
        file::load(dir)
    }

    /// Writes the cassette to `dir` (replacing what was there), side files
    /// first, through a temporary folder renamed into place.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Io`] when the folder cannot be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        file::save(self, dir)
    }

    /// Where and how it was recorded.
    pub fn meta(&self) -> &CassetteMeta {
        &self.meta
    }

    /// The interactions, in the order their requests started.
    pub fn interactions(&self) -> &[Interaction] {
        &self.interactions
    }

    /// How many interactions it holds.
    pub fn len(&self) -> usize {
        self.interactions.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.interactions.is_empty()
    }
}
