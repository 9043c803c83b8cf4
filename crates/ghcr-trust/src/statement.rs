//! The in-toto Statement an attestation signs: which artifacts
//! (`subject`, by digest) the `predicate` of `predicateType` is about.
//!
//! ```json
//! {"_type":"https://in-toto.io/Statement/v1",
//!  "subject":[{"name":"ghcr.io/octo/app","digest":{"sha256":"…"}}],
//!  "predicateType":"https://slsa.dev/provenance/v1","predicate":{…}}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The `_type`s accepted: in-toto Statement v0.1 (cosign's default) and v1.
pub const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v0.1",
    "https://in-toto.io/Statement/v1",
];

/// A parsed in-toto Statement. Only a statement whose envelope verified
/// is handed out (in [`crate::Attested`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Statement {
    /// `_type`, one of [`STATEMENT_TYPES`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// `predicateType`: the kind of claim (a URI).
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The claim itself, not interpreted here.
    #[serde(default)]
    pub predicate: serde_json::Value,
}

/// One artifact a statement is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subject {
    /// Its name (for an image, its repository; not checked).
    #[serde(default)]
    pub name: String,
    /// Its digests by algorithm (`sha256` → lowercase hex).
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Parses the exact payload bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidStatement`] when it is not a Statement, and
    /// [`Error::WrongStatementType`] for another `_type`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let statement: Self =
            serde_json::from_slice(bytes).map_err(|source| Error::InvalidStatement { source })?;
        if !STATEMENT_TYPES.contains(&statement.statement_type.as_str()) {
            return Err(Error::WrongStatementType {
                found: statement.statement_type,
            });
        }
        Ok(statement)
    }

    /// Whether a subject's digest is `digest` (`sha256:<hex>`, or of
    /// another algorithm the subjects name, `sha512:<hex>`).
    pub fn names(&self, digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|subject| {
            subject
                .digest
                .get(algorithm)
                .is_some_and(|value| value.eq_ignore_ascii_case(hex))
        })
    }

    /// The subjects' digests, as `<algorithm>:<hex>`, for errors.
    pub(crate) fn subject_digests(&self) -> String {
        let digests: Vec<String> = self
            .subject
            .iter()
            .flat_map(|subject| subject.digest.iter())
            .map(|(algorithm, hex)| format!("{algorithm}:{hex}"))
            .collect();
        if digests.is_empty() {
            "no digest".to_owned()
        } else {
            digests.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(kind: &str, hex: &str) -> String {
        format!(
            r#"{{"_type":"{kind}","subject":[{{"name":"a","digest":{{"sha256":"{hex}"}}}}],"predicateType":"https://example.com/p","predicate":{{"k":1}}}}"#
        )
    }

    #[test]
    fn statements() {
        for kind in STATEMENT_TYPES {
            let ok = Statement::parse(statement(kind, "ab").as_bytes()).unwrap();
            assert!(ok.names("sha256:ab"));
            assert!(ok.names("sha256:AB"));
            assert!(!ok.names("sha256:abc"));
            assert!(!ok.names("sha512:ab"));
            assert!(!ok.names("ab"));
            assert_eq!(ok.predicate["k"], 1);
        }
        let error = Statement::parse(statement("https://in-toto.io/Statement/v9", "ab").as_bytes())
            .unwrap_err();
        assert!(matches!(error, Error::WrongStatementType { .. }), "{error}");
        for input in ["{}", "not json", r#"{"_type":"x","subject":{}}"#] {
            let error = Statement::parse(input.as_bytes()).unwrap_err();
            assert!(matches!(error, Error::InvalidStatement { .. }), "{error}");
        }
    }
}
