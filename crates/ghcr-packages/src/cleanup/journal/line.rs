//! The journal's line format: one JSON object a line, told apart by `type`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The format this client writes and reads.
pub(super) const FORMAT: u32 = 1;

/// Which kind of account the journal's owner is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum OwnerKind {
    AuthenticatedUser,
    User,
    Org,
}

/// What one DELETE (or the look after a crash) ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Recorded {
    /// GitHub answered the DELETE with success.
    Deleted,
    /// The answer was lost, then GitHub said the version is gone.
    LikelyDeleted,
    /// Gone before this DELETE (a 404 on the first attempt).
    AlreadyGone,
    /// Refused: nothing changed.
    Failed,
    /// The answer was lost and what happened is unknown.
    MayHaveApplied,
    /// A resumed run looked: the version is gone, so the DELETE went through.
    GoneWhenChecked,
    /// A resumed run looked: the version is still there, the DELETE never arrived.
    LiveWhenChecked,
}

/// One line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Line {
    /// The first line: what the run is about.
    Plan {
        format: u32,
        owner: String,
        owner_kind: OwnerKind,
        package: String,
        policy: String,
        #[serde(with = "time::serde::rfc3339")]
        planned_at: OffsetDateTime,
        /// The versions the plan deletes, in plan order.
        delete: Vec<u64>,
    },
    /// Written and synced before the DELETE of `id` is sent.
    Intent {
        id: u64,
        digest: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Written and synced once the DELETE of `id` ended.
    Outcome {
        id: u64,
        result: Recorded,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}
