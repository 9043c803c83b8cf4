//! `verify REF (--key FILE... | IDENTITY FLAGS) [--type attestation
//! [--predicate-type URI]]`: an image's cosign signatures or attestations
//! (keyed, or keyless Sigstore bundles), each verified or refused with its
//! reason; exit 8 when none verified.

use std::fmt::Write as _;

use ghcr::trust::{Attested, Signer, Verification, Verified, verify_attestations, verify_image};
use serde_json::json;

use crate::cli::{PolicyArgs, VerifyType};
use crate::context::Setup;
use crate::exit::{Code, reported, usage};

pub(crate) async fn run(
    setup: Setup,
    reference: &str,
    args: &PolicyArgs,
    kind: VerifyType,
    predicate_type: Option<&str>,
) -> anyhow::Result<()> {
    if predicate_type.is_some() && kind != VerifyType::Attestation {
        return Err(usage("--predicate-type needs --type attestation"));
    }
    if args.is_keyless() && kind != VerifyType::Attestation {
        return Err(usage(
            "keyless signatures are Sigstore bundles: verify them with --type attestation (cosign's keyless image signatures are bundles of predicate type https://sigstore.dev/cosign/sign/v1)",
        ));
    }
    let policy = args.required()?;
    let reference = setup.reference(reference)?;
    let context = setup.connect(&[reference.registry()])?;
    let registry = context.client.registry();
    let name = reference.to_string();
    let (what, verified, image, candidates) = match kind {
        VerifyType::Signature => {
            let found = verify_image(registry, &reference, &policy).await?;
            context.out.result(
                || text(&name, &found, "signature", signature_text),
                || value(&found, "signatures", signature_value),
            );
            summary("signature", &found)
        }
        VerifyType::Attestation => {
            let found = verify_attestations(registry, &reference, &policy, predicate_type).await?;
            context.out.result(
                || text(&name, &found, "attestation", attestation_text),
                || value(&found, "attestations", attestation_value),
            );
            summary("attestation", &found)
        }
    };
    context.finish()?;
    if verified {
        Ok(())
    } else {
        Err(reported(
            Code::NotVerified,
            format!(
                "no {what} of {reference} ({image}) verified under the given policy; {candidates} candidate(s) found"
            ),
        ))
    }
}

fn summary<T>(what: &'static str, found: &Verification<T>) -> (&'static str, bool, String, usize) {
    (
        what,
        found.is_verified(),
        found.image.to_string(),
        found.checked.len(),
    )
}

fn signature_text(ok: &Verified) -> String {
    signer(&ok.signer)
}

fn attestation_text(ok: &Attested) -> String {
    format!("{}  {}", signer(&ok.signer), ok.statement.predicate_type)
}

fn signature_value(ok: &Verified) -> serde_json::Value {
    json!({"signer": ok.signer, "payload": ok.payload})
}

fn attestation_value(ok: &Attested) -> serde_json::Value {
    json!({
        "signer": ok.signer,
        "predicate_type": ok.statement.predicate_type,
        "statement": ok.statement,
    })
}

fn signer(signer: &Signer) -> String {
    match signer {
        Signer::Key { fingerprint } => format!("key {fingerprint}"),
        Signer::Keyless(id) => {
            let mut text = format!("identity {} (issuer {}", id.identity, id.issuer);
            if let Some(repository) = id.repository() {
                let _ = write!(text, ", repository {repository}");
            }
            if let Some(workflow) = id.workflow() {
                let _ = write!(text, ", workflow {workflow}");
            }
            text.push(')');
            text
        }
        other => format!("{other:?}"),
    }
}

fn text<T>(
    reference: &str,
    found: &Verification<T>,
    what: &str,
    describe: fn(&T) -> String,
) -> String {
    let verified = found.verified().count();
    let mut text = format!(
        "{verified} of {} {what}(s) of {reference} ({}) verified",
        found.checked.len(),
        found.image
    );
    for checked in &found.checked {
        let item = checked
            .layer
            .as_ref()
            .map_or_else(|| checked.manifest.to_string(), ToString::to_string);
        let from = checked.source.as_str();
        let _ = match &checked.outcome {
            Ok(ok) => write!(text, "\nverified  {}  {item} ({from})", describe(ok)),
            Err(error) => write!(text, "\nrefused   {item} ({from}): {}", chain(error)),
        };
    }
    text
}

fn value<T>(
    found: &Verification<T>,
    key: &str,
    describe: fn(&T) -> serde_json::Value,
) -> serde_json::Value {
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
                    if let (Some(object), serde_json::Value::Object(fields)) =
                        (entry.as_object_mut(), describe(ok))
                    {
                        object.extend(fields);
                    }
                }
                Err(error) => {
                    entry["verified"] = json!(false);
                    entry["reason"] = json!(chain(error));
                }
            }
            entry
        })
        .collect();
    let mut value = json!({
        "image": found.image.as_str(),
        "verified": found.is_verified(),
    });
    value[key] = checked.into();
    value
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
