//! `artifact push|attach|pull`: ORAS-style artifacts, files as layers
//! named by their title annotation.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ghcr::registry::{ArtifactFile, ArtifactPush, TransferOptions};
use ghcr::types::{Digest, Manifest, MediaType, Reference};
use serde_json::{Value, json};

use super::push::{pushed_json, pushed_text};
use crate::cli::{ArtifactCommand, ArtifactFiles};
use crate::context::{Context, Setup};
use crate::exit::usage;
use crate::output::bytes;
use crate::progress;

/// The annotation a layer's file name is in.
const TITLE: &str = "org.opencontainers.image.title";

pub(crate) async fn run(setup: Setup, command: ArtifactCommand) -> anyhow::Result<()> {
    match command {
        ArtifactCommand::Push {
            reference,
            files,
            artifact_type,
            subject,
        } => {
            let target = setup.reference(&reference)?;
            let subject = subject.map(|text| setup.reference(&text)).transpose()?;
            if let Some(subject) = &subject
                && subject.without_tag_or_digest() != target.without_tag_or_digest()
            {
                return Err(usage(format!(
                    "the subject {subject} is not in {}; a referrer must be pushed to its subject's repository",
                    target.without_tag_or_digest()
                )));
            }
            let artifact = artifact(&files, &artifact_type)?;
            let context = setup.connect(&[target.registry()])?;
            push(context, &target, artifact, subject.as_ref()).await
        }
        ArtifactCommand::Attach {
            subject,
            files,
            artifact_type,
        } => {
            let subject = setup.reference(&subject)?;
            let artifact = artifact(&files, &artifact_type)?;
            let context = setup.connect(&[subject.registry()])?;
            let repository = subject.without_tag_or_digest();
            push(context, &repository, artifact, Some(&subject)).await
        }
        ArtifactCommand::Pull { reference, dir } => pull(setup, &reference, &dir).await,
    }
}

/// `FILE` or `FILE:MEDIATYPE`: an argument naming a file that exists is
/// taken whole, else the part after the last `:` is the media type.
fn split_file(text: &str) -> (PathBuf, Option<&str>) {
    if Path::new(text).exists() {
        return (PathBuf::from(text), None);
    }
    match text.rsplit_once(':') {
        Some((path, media_type)) if !path.is_empty() && !media_type.is_empty() => {
            (PathBuf::from(path), Some(media_type))
        }
        _ => (PathBuf::from(text), None),
    }
}

/// The artifact the arguments describe.
fn artifact(files: &ArtifactFiles, artifact_type: &str) -> anyhow::Result<ArtifactPush> {
    let parse = |text: &str, what: &str| {
        text.parse::<MediaType>().map_err(|_| {
            usage(format!(
                "{what}: `{text}` is not a media type (TYPE/SUBTYPE)"
            ))
        })
    };
    let mut push = ArtifactPush::new().artifact_type(parse(artifact_type, "--artifact-type")?);
    for text in &files.files {
        let (path, media_type) = split_file(text);
        let mut file = ArtifactFile::new(path);
        if let Some(media_type) = media_type {
            file = file.media_type(parse(media_type, text)?);
        }
        push = push.file(file);
    }
    for text in &files.annotation {
        let (key, value) = text
            .split_once('=')
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| usage(format!("--annotation `{text}` is not KEY=VALUE")))?;
        push = push.annotation(key, value);
    }
    Ok(push)
}

/// Pushes `artifact` to `target`, with the descriptor of `subject` when given.
async fn push(
    context: Context,
    target: &Reference,
    mut artifact: ArtifactPush,
    subject: Option<&Reference>,
) -> anyhow::Result<()> {
    let registry = context.client.registry();
    if let Some(subject) = subject {
        artifact = artifact.subject(registry.manifest_descriptor(subject).await?);
    }
    let options = TransferOptions::new().progress(progress::bars());
    let report = registry.push_artifact(target, artifact, &options).await?;
    // Attached by digest: the digest alone, for scripts.
    let attached = target.tag().is_none() && subject.is_some();
    context.out.result(
        || {
            if attached {
                report.digest.to_string()
            } else {
                pushed_text(target, &report)
            }
        },
        || {
            let mut json = pushed_json(target, &report);
            json["artifact_type"] = json!(report.manifest.artifact_type().map(|t| t.to_string()));
            json["subject"] = json!(report.manifest.subject().map(|s| s.digest().to_string()));
            json["files"] = files_json(&report.manifest);
            json
        },
    );
    context.finish()
}

/// The titled layers of a manifest as JSON.
fn files_json(manifest: &Manifest) -> Value {
    manifest
        .layers()
        .iter()
        .filter_map(|layer| {
            let title = layer.annotations().as_ref()?.get(TITLE)?;
            Some(json!({
                "title": title,
                "digest": layer.digest().to_string(),
                "size": layer.size(),
                "media_type": layer.media_type().to_string(),
            }))
        })
        .collect()
}

async fn pull(setup: Setup, reference: &str, dir: &Path) -> anyhow::Result<()> {
    let reference = setup.reference(reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let options = TransferOptions::new().progress(progress::bars());
    let report = context
        .client
        .registry()
        .pull_artifact(&reference, dir, &options)
        .await?;
    context.out.result(
        || {
            let mut text = format!(
                "pulled {reference} {} into {}: {} file(s) verified ({})",
                report.digest,
                dir.display(),
                report.files.len(),
                bytes(report.bytes_downloaded())
            );
            for file in &report.files {
                let _ = write!(text, "\n{}  {}", file.title, bytes(file.size));
            }
            for digest in &report.skipped {
                let _ = write!(text, "\nskipped layer {digest}: it has no {TITLE}");
            }
            text
        },
        || {
            let files: Vec<Value> = report
                .files
                .iter()
                .map(|file| {
                    json!({
                        "title": file.title,
                        "path": file.path.display().to_string(),
                        "digest": file.digest.as_str(),
                        "size": file.size,
                        "media_type": file.media_type.as_str(),
                    })
                })
                .collect();
            json!({
                "reference": reference.to_string(),
                "digest": report.digest.as_str(),
                "dir": dir.display().to_string(),
                "files": files,
                "skipped": report.skipped.iter().map(Digest::as_str).collect::<Vec<_>>(),
                "bytes_downloaded": report.bytes_downloaded(),
            })
        },
    );
    context.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_arguments_split_at_the_last_colon_unless_the_file_exists() {
        let here = std::env::temp_dir();
        let here_text = here.display().to_string();
        for (text, path, media_type) in [
            (
                "sbom.json:application/spdx+json",
                "sbom.json",
                Some("application/spdx+json"),
            ),
            ("./a:b/c.txt:text/plain", "./a:b/c.txt", Some("text/plain")),
            ("notes.txt", "notes.txt", None),
            ("notes.txt:", "notes.txt:", None),
            (":text/plain", ":text/plain", None),
            (here_text.as_str(), here_text.as_str(), None),
        ] {
            assert_eq!(
                split_file(text),
                (PathBuf::from(path), media_type),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_media_types_and_annotations_are_usage_errors() {
        let files = |files: &[&str], annotations: &[&str]| ArtifactFiles {
            files: files.iter().map(|s| (*s).to_owned()).collect(),
            annotation: annotations.iter().map(|s| (*s).to_owned()).collect(),
        };
        assert!(artifact(&files(&["a:text/plain"], &["k=v=w"]), "application/x.y").is_ok());
        for (files, artifact_type, expected) in [
            (files(&["a"], &[]), "nope", "--artifact-type: `nope`"),
            (
                files(&["a:not a type"], &[]),
                "a/b",
                "a:not a type: `not a type`",
            ),
            (
                files(&["a"], &["novalue"]),
                "a/b",
                "`novalue` is not KEY=VALUE",
            ),
            (files(&["a"], &["=v"]), "a/b", "`=v` is not KEY=VALUE"),
        ] {
            let error = artifact(&files, artifact_type).unwrap_err();
            assert_eq!(crate::exit::classify(&error), crate::exit::Code::Usage);
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
