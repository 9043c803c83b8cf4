//! `verify REF --key FILE...`: an image's cosign signatures, each verified
//! or refused with its reason; exit 8 when none verified.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use ghcr::trust::{Policy, PublicKey, Signer, Verification, verify_image};
use serde_json::json;

use crate::context::Setup;
use crate::exit::{Code, reported};

pub(crate) async fn run(setup: Setup, reference: &str, keys: &[PathBuf]) -> anyhow::Result<()> {
    let policy = policy(keys)?;
    let reference = setup.reference(reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let found = verify_image(context.client.registry(), &reference, &policy).await?;
    context
        .out
        .result(|| text(&reference.to_string(), &found), || value(&found));
    context.finish()?;
    if found.is_verified() {
        Ok(())
    } else {
        Err(reported(
            Code::NotVerified,
            format!(
                "no signature of {reference} ({}) verified with the given key(s); {} candidate(s) found",
                found.image,
                found.checked.len()
            ),
        ))
    }
}

/// The keys, read from their files.
fn policy(files: &[PathBuf]) -> anyhow::Result<Policy> {
    let mut keys = Vec::new();
    for file in files {
        let pem = std::fs::read_to_string(file)
            .with_context(|| format!("reading the key {}", file.display()))?;
        keys.push(PublicKey::from_pem(&pem, &file.display().to_string())?);
    }
    Ok(Policy::keys(keys))
}

fn signer(signer: &Signer) -> String {
    match signer {
        Signer::Key { fingerprint } => format!("key {fingerprint}"),
        other => format!("{other:?}"),
    }
}

fn text(reference: &str, found: &Verification) -> String {
    let verified = found.verified().count();
    let mut text = format!(
        "{verified} of {} signature(s) of {reference} ({}) verified",
        found.checked.len(),
        found.image
    );
    for checked in &found.checked {
        let what = checked
            .layer
            .as_ref()
            .map_or_else(|| checked.manifest.to_string(), ToString::to_string);
        let from = checked.source.as_str();
        let _ = match &checked.outcome {
            Ok(ok) => write!(text, "\nverified  {}  {what} ({from})", signer(&ok.signer)),
            Err(error) => write!(text, "\nrefused   {what} ({from}): {}", chain(error)),
        };
    }
    text
}

fn value(found: &Verification) -> serde_json::Value {
    let checked: Vec<serde_json::Value> = found
        .checked
        .iter()
        .map(|checked| {
            let mut entry = json!({
                "manifest": checked.manifest.as_str(),
                "layer": checked.layer.as_ref().map(|d| d.as_str().to_owned()),
                "source": checked.source.as_str(),
            });
            match &checked.outcome {
                Ok(ok) => {
                    entry["verified"] = json!(true);
                    entry["signer"] = json!(ok.signer);
                    entry["payload"] = json!(ok.payload);
                }
                Err(error) => {
                    entry["verified"] = json!(false);
                    entry["reason"] = json!(chain(error));
                }
            }
            entry
        })
        .collect();
    json!({
        "image": found.image.as_str(),
        "verified": found.is_verified(),
        "signatures": checked,
    })
}

/// An error and its causes, as one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let _ = write!(text, ": {next}");
        cause = next.source();
    }
    text
}
