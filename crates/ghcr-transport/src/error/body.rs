//! Error bodies: the registry's `{"errors":[…]}` and GitHub's `{"message", "documentation_url"}`.

use std::fmt;

use serde::Deserialize;

/// One entry of an OCI registry error body.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RegistryErrorEntry {
    /// `MANIFEST_UNKNOWN`, `DIGEST_INVALID`, `DENIED`, …
    #[serde(default)]
    pub code: String,
    /// The registry's message.
    #[serde(default)]
    pub message: String,
    /// Extra detail, as sent.
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

/// What a server said about an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// An OCI distribution error list.
    Registry(Vec<RegistryErrorEntry>),
    /// A GitHub REST error, kept whole.
    GitHub {
        /// GitHub's message.
        message: String,
        /// The documentation page GitHub points to.
        documentation_url: Option<String>,
    },
    /// Plain text (truncated).
    Text(String),
    /// Nothing.
    Empty,
}

#[derive(Deserialize)]
struct RegistryShape {
    errors: Vec<RegistryErrorEntry>,
}

#[derive(Deserialize)]
struct GitHubShape {
    message: String,
    documentation_url: Option<String>,
}

impl ErrorBody {
    /// Parses whichever shape the body has.
    pub fn parse(bytes: &[u8]) -> Self {
        if let Ok(registry) = serde_json::from_slice::<RegistryShape>(bytes) {
            return Self::Registry(registry.errors);
        }
        if let Ok(github) = serde_json::from_slice::<GitHubShape>(bytes) {
            return Self::GitHub {
                message: github.message,
                documentation_url: github.documentation_url,
            };
        }
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        if text.is_empty() {
            Self::Empty
        } else {
            Self::Text(text.chars().take(300).collect())
        }
    }

    /// The first registry error code.
    pub fn first_code(&self) -> Option<&str> {
        match self {
            Self::Registry(entries) => entries
                .first()
                .map(|e| e.code.as_str())
                .filter(|c| !c.is_empty()),
            _ => None,
        }
    }

    /// The message of whichever shape.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Registry(entries) => entries.first().map(|e| e.message.as_str()),
            Self::GitHub { message, .. } => Some(message),
            Self::Text(text) => Some(text),
            Self::Empty => None,
        }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry(entries) if entries.is_empty() => f.write_str("no details"),
            Self::Registry(entries) => {
                for (i, entry) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    match (entry.code.is_empty(), entry.message.is_empty()) {
                        (false, false) => write!(f, "{}: {}", entry.code, entry.message)?,
                        (false, true) => f.write_str(&entry.code)?,
                        _ => f.write_str(&entry.message)?,
                    }
                }
                Ok(())
            }
            Self::GitHub {
                message,
                documentation_url: Some(url),
            } => write!(f, "{message} (see {url})"),
            Self::GitHub { message, .. } => f.write_str(message),
            Self::Text(text) => f.write_str(text),
            Self::Empty => f.write_str("no details"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let registry = ErrorBody::parse(
            br#"{"errors":[{"code":"DENIED","message":"no"},{"code":"X","message":""}]}"#,
        );
        assert_eq!(registry.to_string(), "DENIED: no; X");
        assert_eq!(registry.first_code(), Some("DENIED"));
        let github =
            ErrorBody::parse(br#"{"message":"Not Found","documentation_url":"https://docs"}"#);
        assert_eq!(github.message(), Some("Not Found"));
        assert_eq!(ErrorBody::parse(b"  ").to_string(), "no details");
        assert_eq!(ErrorBody::parse(b"oops").to_string(), "oops");
        assert_eq!(ErrorBody::parse(&[b'x'; 1000]).to_string().len(), 300);
    }
}
