//! Real public-good Sigstore bundles (v0.3, DSSE, Rekor `dsse` entries
//! with signed entry timestamps and inclusion proofs), one by cosign for
//! a container image in kubewarden's release workflow and one by npm's
//! provenance for sigstore-js (tests/data/sigstore/SOURCE.md), verify
//! against the shipped trusted root with their real identities; each
//! single change refuses with the check that caught it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_trust::{
    Error, GITHUB_ACTIONS_ISSUER, IdentityPolicy, Policy, Signer, TrustedRoot, verify_bundle,
};
use ghcr_types::Digest;
use serde_json::Value;

const COSIGN: &[u8] = include_bytes!("../data/sigstore/cosign-sign-v03.sigstore.json");
const NPM: &[u8] = include_bytes!("../data/sigstore/npm-sigstore-5.0.0-v03.sigstore.json");
const IMAGE: &str = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
const NPM_TARBALL: &str = "sha512:849a897e81bf7b8a8541a6ae40bd3473a27a16b1cb0462ad905bd6dc96d34881053a12eb4a375233f81677fc9439f628fe0b0445e8535c60b5559597fbd5f80e";
const KUBEWARDEN_WORKFLOW: &str = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";

fn image() -> Digest {
    Digest::parse(IMAGE).unwrap()
}

fn exact() -> Policy {
    Policy::identities([IdentityPolicy::new()
        .identity(KUBEWARDEN_WORKFLOW)
        .issuer(GITHUB_ACTIONS_ISSUER)])
}

fn keyless(signer: &Signer) -> &ghcr_trust::CertificateIdentity {
    match signer {
        Signer::Keyless(identity) => identity,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cosign_container_bundle_verifies_with_its_real_identity() {
    let attested = verify_bundle(COSIGN, &image(), &exact(), None).unwrap();
    let id = keyless(&attested.signer);
    assert_eq!(id.identity, KUBEWARDEN_WORKFLOW);
    assert_eq!(id.issuer, GITHUB_ACTIONS_ISSUER);
    assert_eq!(id.repository(), Some("kubewarden/kubewarden-controller"));
    assert_eq!(
        id.workflow(),
        Some("kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0")
    );
    assert_eq!(id.claims.build_trigger.as_deref(), Some("push"));
    assert_eq!(id.signed_at, 1_775_719_409);
    assert_eq!(
        attested.statement.predicate_type,
        "https://sigstore.dev/cosign/sign/v1"
    );
    // As `gh attestation verify` would ask.
    for policy in [
        IdentityPolicy::new().owner("kubewarden"),
        IdentityPolicy::new().owner("KubeWarden"),
        IdentityPolicy::new().repo("kubewarden/kubewarden-controller"),
        IdentityPolicy::new()
            .owner("kubewarden")
            .signer_workflow("kubewarden/kubewarden-controller/.github/workflows/release.yml"),
        IdentityPolicy::new().signer_workflow(
            "github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml",
        ),
        IdentityPolicy::new()
            .identity_regex(r"^https://github\.com/kubewarden/")
            .unwrap()
            .issuer(GITHUB_ACTIONS_ISSUER),
        IdentityPolicy::new().owner("kubewarden").trigger("push"),
    ] {
        let policy = Policy::identities([policy]);
        verify_bundle(
            COSIGN,
            &image(),
            &policy,
            Some("https://sigstore.dev/cosign/sign/v1"),
        )
        .unwrap_or_else(|error| panic!("{policy:?}: {error}"));
    }
}

#[test]
fn an_npm_provenance_bundle_verifies_for_its_sha512_subject() {
    let policy = Policy::identities([IdentityPolicy::new()
        .repo("sigstore/sigstore-js")
        .signer_workflow("sigstore/sigstore-js/.github/workflows/release.yml")]);
    let subject = Digest::parse(NPM_TARBALL).unwrap();
    let attested = verify_bundle(
        NPM,
        &subject,
        &policy,
        Some("https://slsa.dev/provenance/v1"),
    )
    .unwrap();
    let id = keyless(&attested.signer);
    assert_eq!(id.repository(), Some("sigstore/sigstore-js"));
    assert_eq!(
        id.claims.source_repository_ref.as_deref(),
        Some("refs/heads/main")
    );
    // Another artifact, another predicate type.
    let error = verify_bundle(NPM, &image(), &policy, None).unwrap_err();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");
    let error =
        verify_bundle(NPM, &subject, &policy, Some("https://spdx.dev/Document")).unwrap_err();
    assert!(matches!(error, Error::OtherPredicateType { .. }), "{error}");
}

/// The cosign bundle as JSON, changed by `edit`, then verified.
fn changed(edit: impl FnOnce(&mut Value)) -> Result<(), Error> {
    let mut bundle: Value = serde_json::from_slice(COSIGN).unwrap();
    edit(&mut bundle);
    verify_bundle(
        &serde_json::to_vec(&bundle).unwrap(),
        &image(),
        &exact(),
        None,
    )
    .map(|_| ())
}

/// Base64 text with one bit of its decoded byte `at` flipped.
fn flip(text: &Value, at: usize) -> Value {
    let mut bytes = STANDARD.decode(text.as_str().unwrap()).unwrap();
    let at = at.min(bytes.len() - 1);
    bytes[at] ^= 0x01;
    STANDARD.encode(bytes).into()
}

fn entry(bundle: &mut Value) -> &mut Value {
    &mut bundle["verificationMaterial"]["tlogEntries"][0]
}

type Case = (
    &'static str,
    Box<dyn FnOnce(&mut Value)>,
    fn(&Error) -> bool,
);

/// Each case's change refuses with the error it expects.
fn refuses(cases: Vec<Case>) {
    assert!(changed(|_| {}).is_ok());
    for (what, edit, expected) in cases {
        let error = changed(edit).expect_err(what);
        assert!(expected(&error), "{what}: {error:?}");
    }
}

#[test]
fn each_change_to_the_signature_or_signed_timestamp_refuses() {
    refuses(vec![
        (
            "a payload byte",
            Box::new(|b| b["dsseEnvelope"]["payload"] = flip(&b["dsseEnvelope"]["payload"], 40)),
            |e| matches!(e, Error::CertificateSignatureMismatch),
        ),
        (
            "the payload type",
            Box::new(|b| b["dsseEnvelope"]["payloadType"] = "application/json".into()),
            |e| matches!(e, Error::CertificateSignatureMismatch),
        ),
        (
            "the envelope signature",
            Box::new(|b| {
                b["dsseEnvelope"]["signatures"][0]["sig"] =
                    flip(&b["dsseEnvelope"]["signatures"][0]["sig"], 20);
            }),
            |e| matches!(e, Error::CertificateSignatureMismatch),
        ),
        (
            "the signed entry timestamp",
            Box::new(|b| {
                let set = &mut entry(b)["inclusionPromise"]["signedEntryTimestamp"];
                *set = flip(set, 30);
            }),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the integrated time",
            Box::new(|b| entry(b)["integratedTime"] = "1775719410".into()),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the log index",
            Box::new(|b| entry(b)["logIndex"] = "1".into()),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "an inclusion proof hash",
            Box::new(|b| {
                let hash = &mut entry(b)["inclusionProof"]["hashes"][3];
                *hash = flip(hash, 5);
            }),
            |e| matches!(e, Error::TransparencyLog { reason, .. } if reason.contains("inclusion proof")),
        ),
    ]);
}

#[test]
fn each_change_to_the_proof_or_material_refuses() {
    refuses(vec![
        (
            "the checkpoint",
            Box::new(|b| {
                let note = &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"];
                *note = note.as_str().unwrap().replacen('\n', "x\n", 1).into();
            }),
            |e| matches!(e, Error::TransparencyLog { reason, .. } if reason.contains("checkpoint")),
        ),
        (
            "the tree size",
            Box::new(|b| entry(b)["inclusionProof"]["treeSize"] = "9".into()),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the logged body",
            Box::new(|b| {
                let body = &mut entry(b)["canonicalizedBody"];
                *body = flip(body, 200);
            }),
            |e| {
                matches!(
                    e,
                    Error::LogEntryMismatch { .. } | Error::TransparencyLog { .. }
                )
            },
        ),
        (
            "the log id",
            Box::new(|b| entry(b)["logId"]["keyId"] = STANDARD.encode([7u8; 32]).into()),
            |e| matches!(e, Error::TransparencyLog { reason, .. } if reason.contains("not in the trusted root")),
        ),
        (
            "no log entry (a timestamp does not replace it where the root names logs)",
            Box::new(|b| b["verificationMaterial"]["tlogEntries"] = Value::Array(Vec::new())),
            |e| matches!(e, Error::TransparencyLog { reason, .. } if reason.contains("no transparency-log entry")),
        ),
        (
            "no log entry, no timestamp",
            Box::new(|b| {
                b["verificationMaterial"]["tlogEntries"] = Value::Array(Vec::new());
                b["verificationMaterial"]["timestampVerificationData"] = Value::Null;
            }),
            |e| matches!(e, Error::TransparencyLog { .. }),
        ),
        (
            "the certificate, for npm's",
            Box::new(|b| {
                let npm: Value = serde_json::from_slice(NPM).unwrap();
                b["verificationMaterial"]["certificate"] =
                    npm["verificationMaterial"]["certificate"].clone();
            }),
            |e| matches!(e, Error::CertificateSignatureMismatch),
        ),
        (
            "the media type",
            Box::new(|b| b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.9+json".into()),
            |e| matches!(e, Error::InvalidBundle { .. }),
        ),
    ]);
}

#[test]
fn another_signer_or_root_refuses_a_real_bundle() {
    let refuse = |policy: IdentityPolicy| {
        let error =
            verify_bundle(COSIGN, &image(), &Policy::identities([policy]), None).unwrap_err();
        assert!(matches!(error, Error::IdentityMismatch { .. }), "{error}");
        error.to_string()
    };
    let wrong_identity = refuse(
        IdentityPolicy::new()
            .identity(KUBEWARDEN_WORKFLOW.replace("v1.34.0", "v1.35.0"))
            .issuer(GITHUB_ACTIONS_ISSUER),
    );
    assert!(
        wrong_identity.contains("certificate identity"),
        "{wrong_identity}"
    );
    let wrong_issuer = refuse(
        IdentityPolicy::new()
            .identity(KUBEWARDEN_WORKFLOW)
            .issuer("https://accounts.google.com"),
    );
    assert!(wrong_issuer.contains("OIDC issuer"), "{wrong_issuer}");
    refuse(
        IdentityPolicy::new()
            .identity_regex("^https://github.com/octo/")
            .unwrap()
            .issuer(GITHUB_ACTIONS_ISSUER),
    );
    let owner = refuse(IdentityPolicy::new().owner("kubewarden-evil"));
    assert!(owner.contains("owner"), "{owner}");
    let repo = refuse(IdentityPolicy::new().repo("kubewarden/policy-server"));
    assert!(repo.contains("source repository"), "{repo}");
    let workflow = refuse(
        IdentityPolicy::new()
            .owner("kubewarden")
            .signer_workflow("kubewarden/kubewarden-controller/.github/workflows/ci.yml"),
    );
    assert!(workflow.contains("signing workflow"), "{workflow}");
    refuse(IdentityPolicy::new().owner("kubewarden").trigger("release"));

    // One matching identity among others is enough.
    let either = Policy::identities([
        IdentityPolicy::new().owner("octo"),
        IdentityPolicy::new().owner("kubewarden"),
    ]);
    assert!(verify_bundle(COSIGN, &image(), &either, None).is_ok());

    // No identity at all, an incomplete one.
    let error = verify_bundle(COSIGN, &image(), &Policy::default(), None).unwrap_err();
    assert!(matches!(error, Error::NoIdentities), "{error}");
    let incomplete = Policy::identities([IdentityPolicy::new().identity(KUBEWARDEN_WORKFLOW)]);
    let error = verify_bundle(COSIGN, &image(), &incomplete, None).unwrap_err();
    assert!(matches!(error, Error::IncompleteIdentity { .. }), "{error}");

    // Without the public-good root: no log key, no CA.
    let empty = exact().with_trusted_root(TrustedRoot::default());
    let error = verify_bundle(COSIGN, &image(), &empty, None).unwrap_err();
    assert!(matches!(error, Error::TransparencyLog { .. }), "{error}");
    // The image signed is another.
    let error = verify_bundle(COSIGN, &Digest::sha256_of(b"another"), &exact(), None).unwrap_err();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");
}

/// The public-good root with its CT logs changed by `edit`.
fn root_with_ct_logs(edit: impl FnOnce(&mut Value)) -> TrustedRoot {
    let mut root: Value = serde_json::from_str(ghcr_trust::PUBLIC_GOOD_TRUSTED_ROOT).unwrap();
    edit(&mut root);
    TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap()
}

#[test]
fn the_certificates_embedded_sct_must_be_a_trusted_ct_logs() {
    // Rekor's key posing as every CT log: the SCT does not verify.
    let impostor = root_with_ct_logs(|root| {
        let rekor = root["tlogs"][0].clone();
        for log in root["ctlogs"].as_array_mut().unwrap() {
            log["publicKey"]["rawBytes"] = rekor["publicKey"]["rawBytes"].clone();
            log["logId"] = rekor["logId"].clone();
        }
    });
    let error =
        verify_bundle(COSIGN, &image(), &exact().with_trusted_root(impostor), None).unwrap_err();
    assert!(
        matches!(error, Error::UntrustedCertificate { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("certificate transparency"),
        "{error}"
    );
    // A root that names no CT log asks for no SCT.
    let none = root_with_ct_logs(|root| root["ctlogs"] = Value::Array(Vec::new()));
    assert!(verify_bundle(COSIGN, &image(), &exact().with_trusted_root(none), None).is_ok());
}

#[test]
fn its_rfc3161_timestamp_gives_the_time_where_the_root_names_no_log() {
    // timestamp.sigstore.dev stamped the cosign bundle's signature; a root
    // of the public-good CA, CT logs and timestamp authority but no
    // transparency log takes the time from it, as GitHub's instance does.
    let no_logs = root_with_ct_logs(|root| root["tlogs"] = Value::Array(Vec::new()));
    let policy = exact().with_trusted_root(no_logs);
    let mut bundle: Value = serde_json::from_slice(COSIGN).unwrap();
    bundle["verificationMaterial"]["tlogEntries"] = Value::Array(Vec::new());
    let bytes = serde_json::to_vec(&bundle).unwrap();
    let attested = verify_bundle(&bytes, &image(), &policy, None).unwrap();
    // 2026-04-09T07:23:29Z, the TSTInfo's genTime.
    assert_eq!(keyless(&attested.signer).signed_at, 1_775_719_409);

    // A flipped byte anywhere in the timestamp, another signature stamped,
    // no timestamp authority: refused.
    let stamp = bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"]
        .clone();
    let length = STANDARD.decode(stamp.as_str().unwrap()).unwrap().len();
    let mut refused = 0;
    for at in (0..length).step_by(7) {
        let mut tampered = bundle.clone();
        tampered["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
            flip(&stamp, at);
        let result = verify_bundle(
            &serde_json::to_vec(&tampered).unwrap(),
            &image(),
            &policy,
            None,
        );
        // Bytes of unsigned fields (the certificates' own encoding aside)
        // may change harmlessly; none may make another time verify.
        match result {
            Ok(ok) => assert_eq!(keyless(&ok.signer).signed_at, 1_775_719_409, "byte {at}"),
            Err(_) => refused += 1,
        }
    }
    // Only the embedded certificates' bytes are not covered by the
    // signature (the TSA's certificate comes from the trusted root).
    assert!(refused * 3 > length / 7, "{refused} of {}", length / 7);
    let npm: Value = serde_json::from_slice(NPM).unwrap();
    let mut other = bundle.clone();
    other["dsseEnvelope"]["signatures"] = npm["dsseEnvelope"]["signatures"].clone();
    let error = verify_bundle(
        &serde_json::to_vec(&other).unwrap(),
        &image(),
        &policy,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::CertificateSignatureMismatch),
        "{error}"
    );
    let no_tsa = root_with_ct_logs(|root| {
        root["tlogs"] = Value::Array(Vec::new());
        root["timestampAuthorities"] = Value::Array(Vec::new());
    });
    let error =
        verify_bundle(&bytes, &image(), &exact().with_trusted_root(no_tsa), None).unwrap_err();
    assert!(
        matches!(&error, Error::TransparencyLog { reason, .. } if reason.contains("RFC 3161")),
        "{error}"
    );
}
