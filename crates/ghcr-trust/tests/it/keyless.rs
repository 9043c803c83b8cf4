//! Keyless bundles made by PyCA cryptography (`sigstore_make.py`: a test
//! CA, a test Rekor key, Fulcio-like certificates) verify with ours
//! against the test trusted root, in each bundle version and for both
//! kinds of content; each single change refuses with the check that
//! caught it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ghcr_trust::{Error, IdentityPolicy, Signer, verify_bundle, verify_message_bundle};
use ghcr_types::Digest;
use serde_json::{Value, json};

use crate::support::SigstoreWorld;

const WORKFLOW: &str = "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn exact() -> IdentityPolicy {
    IdentityPolicy::new().identity(WORKFLOW).issuer(ISSUER)
}

#[test]
fn bundles_made_by_another_implementation_verify() {
    let world = SigstoreWorld::generate();
    let image = Digest::sha256_of(b"the image");
    for version in ["0.1", "0.2", "0.3"] {
        for options in [
            json!({"version": version}),
            json!({"version": version, "intoto": true}),
        ] {
            let bundle = world.bundle(&image, &options);
            for policy in [
                exact(),
                IdentityPolicy::new().owner("octo"),
                IdentityPolicy::new()
                    .repo("octo/app")
                    .signer_workflow("octo/app/.github/workflows/release.yml"),
            ] {
                let attested = verify_bundle(&bundle, &image, &world.policy(policy), None)
                    .unwrap_or_else(|error| panic!("{options}: {error}"));
                let Signer::Keyless(id) = &attested.signer else {
                    panic!("{:?}", attested.signer);
                };
                assert_eq!(id.identity, WORKFLOW);
                assert_eq!(id.issuer, ISSUER);
                assert_eq!(id.repository(), Some("octo/app"));
                assert_eq!(id.claims.build_trigger.as_deref(), Some("push"));
                assert_eq!(id.signed_at, 1_750_000_000);
            }
        }
    }
    // A v0.1 bundle may lack the inclusion proof; later ones may not.
    let policy = world.policy(exact());
    let no_proof = world.bundle(&image, &json!({"version": "0.1", "no_proof": true}));
    assert!(verify_bundle(&no_proof, &image, &policy, None).is_ok());
    for version in ["0.2", "0.3"] {
        let no_proof = world.bundle(&image, &json!({"version": version, "no_proof": true}));
        let error = verify_bundle(&no_proof, &image, &policy, None).unwrap_err();
        assert!(
            matches!(error, Error::InvalidBundle { .. }),
            "{version}: {error}"
        );
    }
    // An intoto entry of another envelope's signature is refused.
    let intoto = world.bundle(&image, &json!({"intoto": true}));
    let mut spliced: Value = serde_json::from_slice(&intoto).unwrap();
    let other: Value =
        serde_json::from_slice(&world.bundle(&image, &json!({"intoto": true}))).unwrap();
    spliced["verificationMaterial"]["tlogEntries"] =
        other["verificationMaterial"]["tlogEntries"].clone();
    let error = verify_bundle(
        &serde_json::to_vec(&spliced).unwrap(),
        &image,
        &world.policy(exact()),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, Error::LogEntryMismatch { .. }), "{error}");
    // A message signature over the digest (hashedrekord).
    let bundle = world.bundle(&image, &json!({"message": true}));
    let signer = verify_message_bundle(&bundle, &image, &world.policy(exact())).unwrap();
    assert!(matches!(signer, Signer::Keyless(_)), "{signer:?}");
    let error = verify_message_bundle(&bundle, &Digest::sha256_of(b"x"), &world.policy(exact()))
        .unwrap_err();
    assert!(matches!(error, Error::OtherArtifact { .. }), "{error}");
    let error = verify_bundle(&bundle, &image, &world.policy(exact()), None).unwrap_err();
    assert!(matches!(error, Error::NotAnAttestation), "{error}");
    // The legacy issuer extension alone still names the issuer.
    let legacy = world.bundle(&image, &json!({"legacy_issuer_only": true}));
    assert!(verify_bundle(&legacy, &image, &world.policy(exact()), None).is_ok());
}

/// `options`' bundle for `image`, verified with `policy`.
fn refusal(world: &SigstoreWorld, options: &Value, policy: IdentityPolicy) -> Error {
    let image = Digest::sha256_of(b"the image");
    let bundle = world.bundle(&image, options);
    verify_bundle(&bundle, &image, &world.policy(policy), None).expect_err(&options.to_string())
}

/// Whether an error is the one a case expects.
type Expected = fn(&Error) -> bool;

#[test]
fn each_fault_made_by_the_other_implementation_refuses() {
    let world = SigstoreWorld::generate();
    let cases: [(Value, Expected); 7] = [
        (json!({"rogue_ca": true}), |e| {
            matches!(e, Error::UntrustedCertificate { .. })
        }),
        (json!({"expired": true}), |e| {
            matches!(e, Error::CertificateNotValid { .. })
        }),
        (json!({"no_code_signing": true}), |e| {
            matches!(e, Error::CertificateUsage { .. })
        }),
        (json!({"set_other_body": true}), |e| {
            matches!(e, Error::TransparencyLog { .. })
        }),
        (json!({"other_log_key": true}), |e| {
            matches!(e, Error::TransparencyLog { .. })
        }),
        (
            json!({"bad_proof": true}),
            |e| matches!(e, Error::TransparencyLog { reason, .. } if reason.contains("inclusion proof")),
        ),
        (
            json!({"identity": "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1"}),
            |e| matches!(e, Error::IdentityMismatch { .. }),
        ),
    ];
    for (options, expected) in cases {
        let error = refusal(&world, &options, exact());
        assert!(expected(&error), "{options}: {error:?}");
        assert!(!error.to_string().is_empty());
    }
    // The expired certificate's message names both dates.
    let expired = refusal(&world, &json!({"expired": true}), exact()).to_string();
    assert!(expired.contains("2025-06-15"), "{expired}");
}

#[test]
fn each_identity_mismatch_refuses_and_says_which() {
    let world = SigstoreWorld::generate();
    let default = json!({});
    for (policy, says) in [
        (
            IdentityPolicy::new()
                .identity(WORKFLOW)
                .issuer("https://accounts.google.com"),
            "OIDC issuer",
        ),
        (
            IdentityPolicy::new()
                .identity(format!("{WORKFLOW}x"))
                .issuer(ISSUER),
            "certificate identity",
        ),
        (
            IdentityPolicy::new()
                .identity_regex("^https://github.com/evil/")
                .unwrap()
                .issuer(ISSUER),
            "does not match",
        ),
        (IdentityPolicy::new().owner("evil"), "owner"),
        (
            IdentityPolicy::new().repo("octo/other"),
            "source repository",
        ),
        (
            IdentityPolicy::new()
                .owner("octo")
                .signer_workflow("octo/app/.github/workflows/ci.yml"),
            "signing workflow",
        ),
        (
            IdentityPolicy::new().owner("octo").trigger("release"),
            "triggered",
        ),
    ] {
        let error = refusal(&world, &default, policy);
        assert!(
            matches!(error, Error::IdentityMismatch { .. }),
            "{says}: {error}"
        );
        assert!(error.to_string().contains(says), "{says}: {error}");
    }
    // A reusable workflow of another owner signs for octo/app: --owner
    // alone refuses it, as gh does, unless the signer workflow is named.
    let reusable = json!({"identity": "https://github.com/shared/ci/.github/workflows/build.yml@refs/heads/main"});
    let error = refusal(&world, &reusable, IdentityPolicy::new().owner("octo"));
    assert!(error.to_string().contains("is not in"), "{error}");
    let image = Digest::sha256_of(b"the image");
    let bundle = world.bundle(&image, &reusable);
    let named = IdentityPolicy::new()
        .owner("octo")
        .signer_workflow("shared/ci/.github/workflows/build.yml");
    assert!(verify_bundle(&bundle, &image, &world.policy(named), None).is_ok());
}

#[test]
fn changes_to_a_made_bundle_refuse() {
    let world = SigstoreWorld::generate();
    let image = Digest::sha256_of(b"the image");
    let bundle = world.bundle(&image, &json!({}));
    let policy = world.policy(exact());
    assert!(verify_bundle(&bundle, &image, &policy, None).is_ok());

    // Another subject digest.
    let error = verify_bundle(&bundle, &Digest::sha256_of(b"other"), &policy, None).unwrap_err();
    assert!(matches!(error, Error::SubjectMismatch { .. }), "{error}");
    // A tampered payload: the statement about another image, signature kept.
    let mut value: Value = serde_json::from_slice(&bundle).unwrap();
    let payload = STANDARD
        .decode(value["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let other = String::from_utf8(payload)
        .unwrap()
        .replace(image.encoded(), Digest::sha256_of(b"other").encoded());
    value["dsseEnvelope"]["payload"] = STANDARD.encode(other).into();
    let error =
        verify_bundle(&serde_json::to_vec(&value).unwrap(), &image, &policy, None).unwrap_err();
    assert!(
        matches!(error, Error::CertificateSignatureMismatch),
        "{error}"
    );
    // A keyed bundle (a public key hint, no certificate): not supported yet.
    let mut keyed: Value = serde_json::from_slice(&bundle).unwrap();
    keyed["verificationMaterial"] = json!({"publicKey": {"hint": "abc"}, "tlogEntries": []});
    let error =
        verify_bundle(&serde_json::to_vec(&keyed).unwrap(), &image, &policy, None).unwrap_err();
    assert!(matches!(error, Error::UnsupportedBundle { .. }), "{error}");
    assert!(error.to_string().contains("not supported yet"), "{error}");
    // The public-good root does not trust the test CA or log.
    let public = ghcr_trust::Policy::identities([exact()]);
    let error = verify_bundle(&bundle, &image, &public, None).unwrap_err();
    assert!(matches!(error, Error::TransparencyLog { .. }), "{error}");
    // Another instance's root: neither its log nor its CA.
    let stranger = SigstoreWorld::generate();
    let error = verify_bundle(&bundle, &image, &stranger.policy(exact()), None).unwrap_err();
    assert!(matches!(error, Error::TransparencyLog { .. }), "{error}");
}

#[test]
fn the_embedded_sct_must_be_by_the_roots_ct_log() {
    let world = SigstoreWorld::generate();
    let error = refusal(&world, &json!({"no_sct": true}), exact());
    assert!(
        error.to_string().contains("certificate transparency"),
        "{error}"
    );
    let error = refusal(&world, &json!({"bad_sct": true}), exact());
    assert!(
        matches!(error, Error::UntrustedCertificate { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("none is signed"), "{error}");
}
