//! The cleanup journal: a file of JSON lines that survives a crash, so a
//! run killed at any point can be resumed or undone with nothing lost and
//! nothing deleted twice.
//!
//! The first line is the plan (owner, package, policy, the versions it
//! deletes). Before each DELETE an `intent` line is written and synced to
//! disk; after it, an `outcome` line (deleted, already gone, failed with
//! the reason, or may have been deleted). Reading it back
//! ([`JournalSummary::read`]) sorts the planned versions into certainly
//! deleted, possibly deleted (an intent without an outcome: the run died
//! while the DELETE was on its way; or an answer that was lost), refused,
//! and not attempted.
//!
//! A crash can cut only the last line short: that line is ignored (its
//! intent was never followed by a DELETE, since the DELETE waits for the
//! sync). Anything else malformed is refused, naming the line.
//!
//! ```
//! use ghcr_packages::{Journal, JournalSummary};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("cleanup.jsonl");
//! # std::fs::write(&path, concat!(
//! #     r#"{"type":"plan","format":1,"owner":"octo","owner_kind":"user","package":"app","policy":"--only-untagged","planned_at":"2026-12-01T10:00:00Z","delete":[7,8,9]}"#, "\n",
//! #     r#"{"type":"intent","id":7,"digest":"sha256:aa","at":"2026-12-01T10:00:01Z"}"#, "\n",
//! #     r#"{"type":"outcome","id":7,"result":"deleted","at":"2026-12-01T10:00:01Z"}"#, "\n",
//! #     r#"{"type":"intent","id":8,"digest":"sha256:bb","at":"2026-12-01T10:00:02Z"}"#, "\n",
//! #     r#"{"type":"outc"#,
//! # ))?;
//! // A run killed while deleting version 8, in the middle of writing its outcome.
//! let summary = JournalSummary::read(&path)?;
//! assert_eq!(summary.deleted, [ghcr_types::PackageVersionId(7)]);
//! assert_eq!(summary.possibly_deleted, [ghcr_types::PackageVersionId(8)]);
//! assert_eq!(summary.not_attempted, [ghcr_types::PackageVersionId(9)]);
//! assert!(summary.torn_tail);
//! # let _ = Journal::path;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod line;
mod read;
mod write;

pub use read::JournalSummary;
pub use write::Journal;

#[cfg(test)]
mod tests;
