//! `push DIR|FILE[:TAG] REF`: an OCI image layout, or a tarball
//! (`docker save`, OCI layout tarball), to a registry.

use std::path::{Path, PathBuf};

use ghcr::registry::{BlobOutcome, PushReport, PushedBlob, TransferOptions};
use ghcr::types::Reference;
use serde_json::json;

use crate::context::{Setup, platform};
use crate::output::bytes;
use crate::progress;

/// `DIR`, `FILE`, `DIR:NAME` or `FILE:NAME`: a path that exists is taken
/// whole; else the first `:` after which the part before is a path that
/// exists (a docker archive's names are `repo:tag`); else the part after
/// the last `:` names the entry.
pub(crate) fn split_layout(text: &str) -> (PathBuf, Option<String>) {
    if Path::new(text).exists() {
        return (PathBuf::from(text), None);
    }
    for (at, _) in text.match_indices(':') {
        let (path, name) = (&text[..at], &text[at + 1..]);
        if !path.is_empty() && !name.is_empty() && Path::new(path).exists() {
            return (PathBuf::from(path), Some(name.to_owned()));
        }
    }
    match text.rsplit_once(':') {
        Some((dir, name)) if !dir.is_empty() && !name.is_empty() && !name.contains('/') => {
            (PathBuf::from(dir), Some(name.to_owned()))
        }
        _ => (PathBuf::from(text), None),
    }
}

/// How many blobs went each way, for the summary line.
pub(crate) fn blob_summary(blobs: &[PushedBlob]) -> String {
    let count = |outcome| blobs.iter().filter(|b| b.outcome == outcome).count();
    let sent: u64 = blobs
        .iter()
        .filter(|b| b.outcome == BlobOutcome::Uploaded)
        .map(|b| b.size)
        .sum();
    format!(
        "{} blob(s): {} uploaded ({}), {} already there, {} mounted",
        blobs.len(),
        count(BlobOutcome::Uploaded),
        bytes(sent),
        count(BlobOutcome::Existed),
        count(BlobOutcome::Mounted)
    )
}

/// Blobs as JSON.
pub(crate) fn blobs_json(blobs: &[PushedBlob]) -> serde_json::Value {
    let outcome = |outcome: BlobOutcome| match outcome {
        BlobOutcome::Uploaded => "uploaded",
        BlobOutcome::Existed => "existed",
        BlobOutcome::Mounted => "mounted",
        _ => "other",
    };
    blobs
        .iter()
        .map(
            |b| json!({"digest": b.digest.as_str(), "size": b.size, "outcome": outcome(b.outcome)}),
        )
        .collect()
}

pub(crate) async fn run(
    setup: Setup,
    layout: &str,
    reference: &str,
    platform_text: Option<&str>,
) -> anyhow::Result<()> {
    let (dir, name) = split_layout(layout);
    let mut target = setup.reference(reference)?;
    if let (None, None, Some(name)) = (target.tag(), target.digest(), &name) {
        // A docker archive's images are named `repo:tag`.
        target = target.with_tag(name.rsplit(':').next().unwrap_or(name))?;
    }
    let mut options = TransferOptions::new().progress(progress::bars());
    if let Some(platform) = platform(platform_text)? {
        options = options.platform(platform);
    }
    let context = setup.connect(&[target.registry()])?;
    let registry = context.client.registry();
    let report = if dir.is_file() {
        registry
            .push_archive(&dir, name.as_deref(), &target, &options)
            .await?
    } else {
        registry
            .push_layout(&dir, name.as_deref(), &target, &options)
            .await?
    };
    context.out.result(
        || pushed_text(&target, &report),
        || pushed_json(&target, &report),
    );
    context.finish()
}

/// A push's text result: the reference, its digest, the blobs' summary.
pub(crate) fn pushed_text(target: &Reference, report: &PushReport) -> String {
    format!(
        "pushed {target} {}\n{}",
        report.digest,
        blob_summary(&report.blobs)
    )
}

/// A push's JSON result.
pub(crate) fn pushed_json(target: &Reference, report: &PushReport) -> serde_json::Value {
    let pinned = target
        .without_tag_or_digest()
        .with_digest(report.digest.clone());
    json!({
        "reference": target.to_string(),
        "pinned": pinned.to_string(),
        "digest": report.digest.as_str(),
        "bytes_uploaded": report.bytes_uploaded(),
        "blobs": blobs_json(&report.blobs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_arguments_split_at_the_last_colon() {
        let here = std::env::temp_dir();
        let here_text = here.display().to_string();
        for (text, dir, name) in [
            ("./no-such-layout:v1", "./no-such-layout", Some("v1")),
            ("./no-such-layout", "./no-such-layout", None),
            ("./no-such:dir/x", "./no-such:dir/x", None),
            (":v1", ":v1", None),
            (here_text.as_str(), here_text.as_str(), None),
        ] {
            assert_eq!(
                split_layout(text),
                (PathBuf::from(dir), name.map(str::to_owned)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_tarball_that_exists_keeps_a_docker_name_whole() {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("image.tar");
        std::fs::write(&tar, b"").unwrap();
        let text = format!("{}:team/app:v1", tar.display());
        assert_eq!(split_layout(&text), (tar, Some("team/app:v1".to_owned())));
    }
}
