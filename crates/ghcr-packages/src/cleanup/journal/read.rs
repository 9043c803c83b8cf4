//! Reading a journal back: where each planned version stands.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ghcr_types::{Owner, PackageVersionId};
use time::OffsetDateTime;

use super::line::{FORMAT, Line, OwnerKind, Recorded};
use crate::error::{Error, Result};
use crate::restore::{RestoreHint, VersionFailure};

/// Where one planned version stands after the lines read so far.
#[derive(Clone, Debug)]
enum Status {
    NotAttempted,
    /// An intent without an outcome: the DELETE may be on its way.
    Pending,
    Deleted,
    AlreadyGone,
    Failed {
        status: Option<u16>,
        reason: String,
    },
    /// The answer was lost.
    MayHaveApplied,
}

/// What a cleanup journal says: the run's plan, and each planned deletion
/// sorted by how far it got. Every planned version is in exactly one of
/// `deleted`, `possibly_deleted`, `failed`, `already_gone`, `not_attempted`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalSummary {
    /// The owner.
    pub owner: Owner,
    /// The package.
    pub package: String,
    /// The policy, as [`crate::RetentionPolicy`] displays it.
    pub policy: String,
    /// When the plan was made.
    pub planned_at: OffsetDateTime,
    /// The versions the plan deletes, in plan order.
    pub planned: Vec<PackageVersionId>,
    /// Certainly deleted by the run (GitHub said so, or a later look found
    /// the version gone after its DELETE was sent).
    pub deleted: Vec<PackageVersionId>,
    /// Possibly deleted: the run stopped while the DELETE was on its way
    /// (an intent without an outcome), or the answer was lost. Restoring
    /// one that was not deleted is harmless.
    pub possibly_deleted: Vec<PackageVersionId>,
    /// Refused (GitHub or the network said no; nothing changed), with why.
    pub failed: Vec<VersionFailure>,
    /// Already gone when the run came to them: deleted by someone else.
    pub already_gone: Vec<PackageVersionId>,
    /// Not attempted, or found still there after an interrupted attempt.
    pub not_attempted: Vec<PackageVersionId>,
    /// When the first DELETE was about to be sent: GitHub's 30-day restore
    /// window of the run's deletions runs from no earlier.
    pub first_attempt_at: Option<OffsetDateTime>,
    /// Whether the last line was cut short (by a crash) and left out.
    pub torn_tail: bool,
    /// The length of the complete lines, in bytes: where a resumed run appends.
    pub(super) complete_len: u64,
}

impl JournalSummary {
    /// Reads the journal at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::JournalIo`] when the file cannot be read;
    /// [`Error::JournalInvalid`], naming the line, when a line other than
    /// a cut-short last one is not a journal record, or records something
    /// impossible (a second DELETE of a deleted version).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::JournalIo {
            path: path.to_owned(),
            action: "read",
            advice: "check the path and its permissions",
            source,
        })?;
        Self::parse(&bytes, path)
    }

    /// Reads a journal's bytes; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`JournalSummary::read`], without the file's own errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        Parser::new(path).parse(bytes)
    }

    /// Every version the run may have deleted: the deleted and the possibly
    /// deleted ones.
    pub fn undo(&self) -> Vec<PackageVersionId> {
        self.deleted
            .iter()
            .chain(&self.possibly_deleted)
            .copied()
            .collect()
    }

    /// How to undo the run: [`JournalSummary::undo`], the possibly deleted
    /// ones named as uncertain, restorable for 30 days from the first attempt.
    pub fn restore_hint(&self) -> RestoreHint {
        let started = self.first_attempt_at.unwrap_or(self.planned_at);
        RestoreHint::new(
            self.owner.clone(),
            &self.package,
            self.deleted.clone(),
            started,
        )
        .with_uncertain(self.possibly_deleted.clone())
    }
}

/// The owner a plan line names.
fn owner_of(kind: OwnerKind, login: &str) -> Owner {
    match kind {
        OwnerKind::AuthenticatedUser => Owner::AuthenticatedUser,
        OwnerKind::User => Owner::user(login),
        OwnerKind::Org => Owner::org(login),
    }
}

struct Parser<'a> {
    path: &'a Path,
    header: Option<(Owner, String, String, OffsetDateTime, Vec<PackageVersionId>)>,
    status: HashMap<PackageVersionId, Status>,
    first_attempt_at: Option<OffsetDateTime>,
}

impl<'a> Parser<'a> {
    fn new(path: &'a Path) -> Self {
        Self {
            path,
            header: None,
            status: HashMap::new(),
            first_attempt_at: None,
        }
    }

    fn invalid(&self, line: usize, reason: impl Into<String>) -> Error {
        Error::JournalInvalid {
            path: PathBuf::from(self.path),
            line,
            reason: reason.into(),
        }
    }

    fn parse(mut self, bytes: &[u8]) -> Result<JournalSummary> {
        let mut complete_len = 0;
        let mut torn_tail = false;
        let pieces = bytes.split_inclusive(|&b| b == b'\n');
        let mut number = 0;
        for piece in pieces {
            number += 1;
            let Some(text) = piece.strip_suffix(b"\n") else {
                // The last piece, without its newline: cut short by a crash,
                // unless it is whole.
                match serde_json::from_slice::<Line>(piece) {
                    Ok(line) => {
                        self.apply(number, line)?;
                        complete_len += piece.len();
                    }
                    Err(_) => torn_tail = true,
                }
                break;
            };
            let line = serde_json::from_slice::<Line>(text).map_err(|error| {
                let reason = if text.iter().all(u8::is_ascii_whitespace) {
                    "it is empty".to_owned()
                } else {
                    format!("it is not a journal record ({error})")
                };
                self.invalid(number, reason)
            })?;
            self.apply(number, line)?;
            complete_len += piece.len();
        }
        let Some((owner, package, policy, planned_at, planned)) = self.header.take() else {
            return Err(self.invalid(
                1,
                "the journal has no complete plan line (a run that stops there has deleted nothing)",
            ));
        };
        let mut summary = JournalSummary {
            owner,
            package,
            policy,
            planned_at,
            planned: planned.clone(),
            deleted: Vec::new(),
            possibly_deleted: Vec::new(),
            failed: Vec::new(),
            already_gone: Vec::new(),
            not_attempted: Vec::new(),
            first_attempt_at: self.first_attempt_at,
            torn_tail,
            complete_len: complete_len as u64,
        };
        for id in planned {
            match self.status.remove(&id).unwrap_or(Status::NotAttempted) {
                Status::NotAttempted => summary.not_attempted.push(id),
                Status::Pending | Status::MayHaveApplied => {
                    summary.possibly_deleted.push(id);
                }
                Status::Deleted => summary.deleted.push(id),
                Status::AlreadyGone => summary.already_gone.push(id),
                Status::Failed { status, reason } => summary.failed.push(VersionFailure {
                    id,
                    status,
                    reason,
                    may_have_applied: false,
                }),
            }
        }
        Ok(summary)
    }

    fn apply(&mut self, number: usize, line: Line) -> Result<()> {
        match line {
            Line::Plan {
                format,
                owner,
                owner_kind,
                package,
                policy,
                planned_at,
                delete,
            } => {
                if self.header.is_some() {
                    return Err(self.invalid(number, "a second plan line"));
                }
                if format != FORMAT {
                    return Err(self.invalid(
                        number,
                        format!("journal format {format}, this ghcr reads format {FORMAT}: use the ghcr that wrote it"),
                    ));
                }
                let planned: Vec<PackageVersionId> =
                    delete.into_iter().map(PackageVersionId).collect();
                for id in &planned {
                    if self.status.insert(*id, Status::NotAttempted).is_some() {
                        return Err(self.invalid(number, format!("version {id} is planned twice")));
                    }
                }
                self.header = Some((
                    owner_of(owner_kind, &owner),
                    package,
                    policy,
                    planned_at,
                    planned,
                ));
                Ok(())
            }
            _ if self.header.is_none() => Err(self.invalid(
                number,
                "the journal does not start with a plan line: it is not a cleanup journal",
            )),
            Line::Intent { id, at, .. } => {
                let id = PackageVersionId(id);
                match self.status.get(&id) {
                    None => Err(self.invalid(number, format!("version {id} is not in the plan"))),
                    Some(Status::NotAttempted | Status::Failed { .. }) => {
                        self.first_attempt_at.get_or_insert(at);
                        self.status.insert(id, Status::Pending);
                        Ok(())
                    }
                    Some(other) => Err(self.invalid(
                        number,
                        format!("a DELETE of version {id} after {}", describe(other)),
                    )),
                }
            }
            Line::Outcome {
                id,
                result,
                status,
                reason,
                ..
            } => {
                let id = PackageVersionId(id);
                let expected = match result {
                    Recorded::GoneWhenChecked | Recorded::LiveWhenChecked => matches!(
                        self.status.get(&id),
                        Some(Status::Pending | Status::MayHaveApplied)
                    ),
                    _ => matches!(self.status.get(&id), Some(Status::Pending)),
                };
                if !expected {
                    let before = self
                        .status
                        .get(&id)
                        .map_or("it is not in the plan", describe);
                    return Err(self.invalid(
                        number,
                        format!(
                            "an outcome for version {id} without a DELETE under way ({before})"
                        ),
                    ));
                }
                let reason = reason.unwrap_or_default();
                let next = match result {
                    Recorded::Deleted | Recorded::LikelyDeleted | Recorded::GoneWhenChecked => {
                        Status::Deleted
                    }
                    Recorded::AlreadyGone => Status::AlreadyGone,
                    Recorded::Failed => Status::Failed { status, reason },
                    Recorded::MayHaveApplied => Status::MayHaveApplied,
                    Recorded::LiveWhenChecked => Status::NotAttempted,
                };
                self.status.insert(id, next);
                Ok(())
            }
        }
    }
}

/// How a status reads in an error.
fn describe(status: &Status) -> &'static str {
    match status {
        Status::NotAttempted => "no DELETE was sent",
        Status::Pending => "a DELETE without an outcome",
        Status::Deleted => "it was deleted",
        Status::AlreadyGone => "it was found already gone",
        Status::Failed { .. } => "a refused DELETE",
        Status::MayHaveApplied => "a DELETE whose answer was lost",
    }
}
