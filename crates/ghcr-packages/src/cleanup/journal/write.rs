//! Writing a journal: each line whole, then synced, before the run goes on.
//!
//! The writes are small and synchronous (one line and one `fsync` per
//! deletion, at most 180 deletions a minute under GitHub's secondary
//! limit), so they run in place rather than on a blocking thread.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ghcr_types::{Owner, PackageVersion, PackageVersionId};
use time::OffsetDateTime;

use super::line::{FORMAT, Line, OwnerKind, Recorded};
use super::read::JournalSummary;
use crate::cleanup::{CleanupPlan, Outcome};
use crate::error::{Error, Result};

/// An open cleanup journal, written as a run deletes; see the module docs
/// of the format.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

const WRITE_ADVICE: &str = "nothing more is deleted without it: free space or fix permissions, then resume the run from the journal";

impl Journal {
    /// Creates the journal of `plan` at `path` (a new file: an existing one
    /// is never overwritten) and writes the plan line, synced with its
    /// folder, before any deletion.
    ///
    /// # Errors
    ///
    /// [`Error::JournalIo`] when the file exists or cannot be written.
    pub fn create(path: &Path, plan: &CleanupPlan) -> Result<Self> {
        let (owner_kind, owner) = match &plan.owner {
            Owner::User(login) => (OwnerKind::User, login.clone()),
            Owner::Org(login) => (OwnerKind::Org, login.clone()),
            _ => (OwnerKind::AuthenticatedUser, String::new()),
        };
        Self::start(
            path,
            &Line::Plan {
                format: FORMAT,
                owner,
                owner_kind,
                package: plan.package.clone(),
                policy: plan.policy.to_string(),
                planned_at: plan.planned_at,
                delete: plan.to_delete().map(|e| e.version.id.0).collect(),
            },
        )
    }

    /// Creates the file and writes its plan line.
    pub(super) fn start(path: &Path, plan: &Line) -> Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|source| Error::JournalIo {
                path: path.to_owned(),
                action: "created",
                advice: "a journal is never overwritten: resume an existing one, or name a new file",
                source,
            })?;
        let mut journal = Self {
            path: path.to_owned(),
            file,
        };
        journal.append(plan)?;
        // The new name must survive a crash too.
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(folder)
                .and_then(|folder| folder.sync_all())
                .map_err(|source| journal.io_error(source))?;
        }
        Ok(journal)
    }

    /// Opens an existing journal to go on with it: reads it, cuts off a
    /// last line a crash left incomplete, and appends after the rest.
    ///
    /// # Errors
    ///
    /// As [`JournalSummary::read`], and [`Error::JournalIo`] when the file
    /// cannot be written.
    pub fn reopen(path: &Path) -> Result<(Self, JournalSummary)> {
        let summary = JournalSummary::read(path)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| Error::JournalIo {
                path: path.to_owned(),
                action: "opened for writing",
                advice: "check its permissions",
                source,
            })?;
        let journal = Self {
            path: path.to_owned(),
            file,
        };
        // Appending goes to the new end.
        let cut = journal
            .file
            .set_len(summary.complete_len)
            .and_then(|()| journal.file.sync_data());
        cut.map_err(|source| journal.io_error(source))?;
        Ok((journal, summary))
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that the DELETE of `version` is about to be sent.
    pub(crate) fn intent(&mut self, version: &PackageVersion) -> Result<()> {
        self.append(&Line::Intent {
            id: version.id.0,
            digest: version.name.clone(),
            at: OffsetDateTime::now_utc(),
        })
    }

    /// Records how the DELETE of `id` ended.
    pub(crate) fn outcome(&mut self, id: PackageVersionId, outcome: &Outcome) -> Result<()> {
        let (result, status, reason) = match outcome {
            Outcome::Deleted(_) => (Recorded::Deleted, None, None),
            Outcome::LikelyDeleted(_) => (Recorded::LikelyDeleted, None, None),
            Outcome::Failed(failure) => {
                let result = if failure.may_have_applied {
                    Recorded::MayHaveApplied
                } else {
                    Recorded::Failed
                };
                (result, failure.status, Some(failure.reason.clone()))
            }
            // Already gone, or an outcome no DELETE ends with.
            _ => (Recorded::AlreadyGone, None, None),
        };
        self.append(&Line::Outcome {
            id: id.0,
            result,
            status,
            reason,
            at: OffsetDateTime::now_utc(),
        })
    }

    /// Records what a look after an interrupted run found: `gone` or still there.
    pub(crate) fn checked(&mut self, id: PackageVersionId, gone: bool) -> Result<()> {
        let result = if gone {
            Recorded::GoneWhenChecked
        } else {
            Recorded::LiveWhenChecked
        };
        self.append(&Line::Outcome {
            id: id.0,
            result,
            status: None,
            reason: None,
            at: OffsetDateTime::now_utc(),
        })
    }

    /// Writes one whole line and syncs it.
    fn append(&mut self, line: &Line) -> Result<()> {
        let mut text = serde_json::to_vec(line).map_err(|error| {
            self.io_error(std::io::Error::new(std::io::ErrorKind::InvalidData, error))
        })?;
        text.push(b'\n');
        let written = self
            .file
            .write_all(&text)
            .and_then(|()| self.file.sync_data());
        written.map_err(|source| self.io_error(source))
    }

    fn io_error(&self, source: std::io::Error) -> Error {
        Error::JournalIo {
            path: self.path.clone(),
            action: "written",
            advice: WRITE_ADVICE,
            source,
        }
    }
}
