//! Journal tests: what is written reads back the same, a crash's cut-short
//! last line is left out (at every byte it can be cut at), and anything
//! else malformed is refused with its line number.

use std::path::{Path, PathBuf};

use ghcr_types::{Owner, PackageVersion, PackageVersionId};
use serde_json::json;

use super::line::{FORMAT, Line, OwnerKind};
use super::{Journal, JournalSummary};
use crate::cleanup::{DeleteReason, Outcome};
use crate::error::Error;
use crate::restore::VersionFailure;

fn version(id: u64) -> PackageVersion {
    serde_json::from_value(json!({
        "id": id,
        "name": format!("sha256:{id:064x}"),
        "created_at": "2026-12-01T10:00:00Z",
        "updated_at": "2026-12-01T10:00:00Z",
        "metadata": {"package_type": "container", "container": {"tags": []}},
    }))
    .unwrap()
}

fn ids(ids: &[u64]) -> Vec<PackageVersionId> {
    ids.iter().copied().map(PackageVersionId).collect()
}

/// A new journal at `dir/cleanup.jsonl` planning to delete `planned`.
fn start(dir: &Path, planned: &[u64]) -> (Journal, PathBuf) {
    let path = dir.join("cleanup.jsonl");
    let plan = Line::Plan {
        format: FORMAT,
        owner: "octo-org".into(),
        owner_kind: OwnerKind::Org,
        package: "app".into(),
        policy: "--only-untagged".into(),
        planned_at: time::macros::datetime!(2026-12-01 10:00 UTC),
        delete: planned.to_vec(),
    };
    (Journal::start(&path, &plan).unwrap(), path)
}

fn refused(id: u64, may_have_applied: bool) -> Outcome {
    Outcome::Failed(VersionFailure {
        id: PackageVersionId(id),
        status: Some(if may_have_applied { 502 } else { 400 }),
        reason: format!("GitHub said no to {id}"),
        may_have_applied,
    })
}

/// Versions 1 to 7: deleted, likely deleted, already gone, refused, answer
/// lost, DELETE under way when the run died, not attempted.
fn every_outcome(journal: &mut Journal) {
    let outcomes = [
        Outcome::Deleted(DeleteReason::Untagged),
        Outcome::LikelyDeleted(DeleteReason::Untagged),
        Outcome::AlreadyGone,
        refused(4, false),
        refused(5, true),
    ];
    for (id, outcome) in (1..).zip(&outcomes) {
        journal.intent(&version(id)).unwrap();
        journal.outcome(PackageVersionId(id), outcome).unwrap();
    }
    journal.intent(&version(6)).unwrap();
}

#[test]
fn what_is_written_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, path) = start(dir.path(), &[1, 2, 3, 4, 5, 6, 7]);
    every_outcome(&mut journal);
    let summary = JournalSummary::read(&path).unwrap();
    assert_eq!(summary.owner, Owner::org("octo-org"));
    assert_eq!(summary.package, "app");
    assert_eq!(summary.policy, "--only-untagged");
    assert_eq!(summary.planned, ids(&[1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(summary.deleted, ids(&[1, 2]));
    assert_eq!(summary.possibly_deleted, ids(&[5, 6]));
    assert_eq!(summary.already_gone, ids(&[3]));
    assert_eq!(summary.not_attempted, ids(&[7]));
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].id, PackageVersionId(4));
    assert_eq!(summary.failed[0].status, Some(400));
    assert_eq!(summary.failed[0].reason, "GitHub said no to 4");
    assert!(!summary.torn_tail);
    assert!(summary.first_attempt_at.is_some());
    assert_eq!(summary.undo(), ids(&[1, 2, 5, 6]));
    let hint = summary.restore_hint();
    assert_eq!(hint.ids, ids(&[1, 2, 5, 6]));
    assert_eq!(hint.uncertain, ids(&[5, 6]));
}

#[test]
fn an_intent_without_an_outcome_is_possibly_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, path) = start(dir.path(), &[10, 11]);
    journal.intent(&version(10)).unwrap();
    let summary = JournalSummary::read(&path).unwrap();
    assert_eq!(summary.possibly_deleted, ids(&[10]));
    assert!(summary.deleted.is_empty());
    assert_eq!(summary.not_attempted, ids(&[11]));
    assert_eq!(summary.undo(), ids(&[10]));
    // A later look settles it either way.
    let (mut again, _) = Journal::reopen(&path).unwrap();
    again.checked(PackageVersionId(10), true).unwrap();
    assert_eq!(JournalSummary::read(&path).unwrap().deleted, ids(&[10]));
}

#[test]
fn a_version_found_still_there_can_be_deleted_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, path) = start(dir.path(), &[10]);
    journal.intent(&version(10)).unwrap();
    journal.checked(PackageVersionId(10), false).unwrap();
    assert_eq!(
        JournalSummary::read(&path).unwrap().not_attempted,
        ids(&[10])
    );
    journal.intent(&version(10)).unwrap();
    journal
        .outcome(
            PackageVersionId(10),
            &Outcome::Deleted(DeleteReason::Untagged),
        )
        .unwrap();
    assert_eq!(JournalSummary::read(&path).unwrap().deleted, ids(&[10]));
}

#[test]
fn a_last_line_cut_short_anywhere_is_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, path) = start(dir.path(), &[1, 2, 3, 4, 5, 6, 7]);
    every_outcome(&mut journal);
    let whole = std::fs::read(&path).unwrap();
    let before = JournalSummary::read(&path).unwrap();
    journal
        .outcome(
            PackageVersionId(6),
            &Outcome::Deleted(DeleteReason::Untagged),
        )
        .unwrap();
    let after = JournalSummary::read(&path).unwrap();
    assert_eq!(after.deleted, ids(&[1, 2, 6]));
    let last = std::fs::read(&path).unwrap()[whole.len()..].to_vec();
    // Every cut of the outcome line, newline excluded: the outcome is not
    // there, so version 6 is still possibly deleted.
    for cut in 1..last.len() - 1 {
        let mut bytes = whole.clone();
        bytes.extend_from_slice(&last[..cut]);
        let summary = JournalSummary::parse(&bytes, &path)
            .unwrap_or_else(|error| panic!("cut after {cut} bytes: {error}"));
        assert!(summary.torn_tail, "cut after {cut} bytes");
        assert_eq!(summary.possibly_deleted, before.possibly_deleted);
        assert_eq!(summary.deleted, before.deleted);
    }
    // Only the newline missing: the line is whole, and counts.
    let mut bytes = whole.clone();
    bytes.extend_from_slice(&last[..last.len() - 1]);
    let summary = JournalSummary::parse(&bytes, &path).unwrap();
    assert!(!summary.torn_tail);
    assert_eq!(summary.deleted, after.deleted);
}

#[test]
fn reopening_cuts_the_torn_line_off_before_appending() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, path) = start(dir.path(), &[1, 2]);
    journal.intent(&version(1)).unwrap();
    drop(journal);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"type":"outcome","id":1,"res"#);
    std::fs::write(&path, &bytes).unwrap();
    let (mut journal, summary) = Journal::reopen(&path).unwrap();
    assert!(summary.torn_tail);
    journal.checked(PackageVersionId(1), true).unwrap();
    journal.intent(&version(2)).unwrap();
    let summary = JournalSummary::read(&path).unwrap();
    assert!(!summary.torn_tail);
    assert_eq!(summary.deleted, ids(&[1]));
    assert_eq!(summary.possibly_deleted, ids(&[2]));
}

/// The error reading `bytes`, which must name `line`.
#[track_caller]
fn refused_at(bytes: &[u8], line: usize, reason: &str) {
    let error = JournalSummary::parse(bytes, Path::new("j.jsonl")).unwrap_err();
    let text = error.to_string();
    match error {
        Error::JournalInvalid { line: at, .. } => assert_eq!(at, line, "{text}"),
        other => panic!("not JournalInvalid: {other}"),
    }
    assert!(text.contains(&format!("line {line} ")), "{text}");
    assert!(text.contains(reason), "{text}");
}

#[test]
fn anything_else_malformed_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, path) = start(dir.path(), &[1, 2, 3]);
    journal.intent(&version(1)).unwrap();
    journal
        .outcome(
            PackageVersionId(1),
            &Outcome::Deleted(DeleteReason::Untagged),
        )
        .unwrap();
    journal.intent(&version(2)).unwrap();
    let good = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let with = |at: usize, extra: &str| {
        let mut lines = lines.clone();
        lines.insert(at, extra);
        format!("{}\n", lines.join("\n"))
    };
    refused_at(with(2, "garbage").as_bytes(), 3, "not a journal record");
    refused_at(with(1, "").as_bytes(), 2, "empty");
    refused_at(
        with(3, r#"{"type":"launch","id":1}"#).as_bytes(),
        4,
        "not a journal record",
    );
    // Whole lines that record the impossible, the last one included.
    let intent = |id: u64| {
        format!(r#"{{"type":"intent","id":{id},"digest":"sha256:00","at":"2026-12-01T10:00:00Z"}}"#)
    };
    refused_at(with(4, &intent(9)).as_bytes(), 5, "not in the plan");
    refused_at(with(4, &intent(1)).as_bytes(), 5, "after it was deleted");
    refused_at(
        with(
            4,
            r#"{"type":"outcome","id":3,"result":"deleted","at":"2026-12-01T10:00:00Z"}"#,
        )
        .as_bytes(),
        5,
        "without a DELETE under way",
    );
    refused_at(
        with(0, &intent(1)).as_bytes(),
        1,
        "does not start with a plan",
    );
    refused_at(with(4, lines[0]).as_bytes(), 5, "a second plan line");
    refused_at(b"", 1, "no complete plan line");
    refused_at(&good.as_bytes()[..20], 1, "no complete plan line");
}
