//! Documented failures and their exit codes, as text and as JSON: usage,
//! not found, auth, rate limited, digest mismatch; and the global flags.

use ghcr_sim::fake::{Fault, Route};
use http::{Method, StatusCode};

use crate::support::{Env, at, fake, seed, seed_app};

#[tokio::test(flavor = "multi_thread")]
async fn help_documents_the_exit_codes() {
    let env = Env::empty();
    let help = env.run(&["--help"]).await;
    help.ok()
        .stdout_has("Exit codes:")
        .stdout_has("3  not found")
        .stdout_has("4  authentication")
        .stdout_has("5  rate limited")
        .stdout_has("6  digest mismatch")
        .stdout_has("7  blocked by the vulnerability gate")
        .stdout_has("8  not verified");
    env.run(&["no-such-command"]).await.code(2);
    env.run(&["ls"]).await.code(2).stderr_has("REPOSITORY");
}

/// Each case runs as text and as JSON: the code, the kind, a message.
#[tokio::test(flavor = "multi_thread")]
async fn failures_map_to_their_codes() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let env = Env::fake(&fake);
    let app = at(&fake, "octo/app");
    let wrong_token = Env::fake(&fake).set("GHCR_TOKEN", "not-the-token");
    let bad_setting = Env::fake(&fake).set("GHCR_CHUNK_SIZE", "lots");
    let table: Vec<(&Env, Vec<String>, i32, &str, &str)> = vec![
        (
            &env,
            vec!["digest".into(), format!("{app}:v9")],
            3,
            "not_found",
            "does not exist",
        ),
        (
            &env,
            vec!["ls".into(), at(&fake, "octo/none")],
            3,
            "not_found",
            "does not exist",
        ),
        (
            &env,
            vec!["digest".into(), "Not A Reference".into()],
            2,
            "usage",
            "is not an image reference",
        ),
        (
            &env,
            vec!["ls".into(), app.clone(), "--filter".into(), "(".into()],
            2,
            "usage",
            "not a valid regular expression",
        ),
        (
            &env,
            vec![
                "pull".into(),
                format!("{app}:v1"),
                "/dev/null/x".into(),
                "--platform".into(),
                "linux".into(),
            ],
            2,
            "usage",
            "not a platform",
        ),
        (
            &env,
            vec!["push".into(), "/no/such/layout".into(), format!("{app}:v2")],
            2,
            "usage",
            "not an OCI image layout",
        ),
        (
            &wrong_token,
            vec!["ls".into(), app.clone()],
            4,
            "auth",
            "refused",
        ),
        (
            &bad_setting,
            vec!["ls".into(), app.clone()],
            2,
            "usage",
            "GHCR_CHUNK_SIZE",
        ),
    ];
    for (env, args, code, kind, message) in table {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.run(&args).await.code(code).stderr_has(message);
        let mut json_args = vec!["--json"];
        json_args.extend(&args);
        env.run(&json_args).await.json_error(code, kind);
    }
    // A token never shows, even when refused.
    let refused = wrong_token.run(&["ls", &app]).await;
    assert!(!refused.stderr.contains("not-the-token") && !refused.stdout.contains("not-the-token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_blobs_exit_with_digest_mismatch_and_leave_nothing() {
    let fake = fake().await;
    let image = seed_app(&fake, b"the real layer".as_slice());
    fake.faults()
        .add(Fault::corrupt(Route::new(Method::GET, "/blobs/*")));
    fake.faults()
        .add(Fault::corrupt(Route::new(Method::GET, "/v2/*/blobs/*")));
    let env = Env::fake(&fake).set("GHCR_MAX_RETRIES", "0");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layer").display().to_string();
    let layer = format!("{}@{}", at(&fake, "octo/app"), image.layers[0]);
    env.run(&["blob", &layer, "-o", &file])
        .await
        .code(6)
        .stderr_has("digest mismatch");
    assert!(
        !std::path::Path::new(&file).exists(),
        "no half-verified file is kept"
    );
    let layout = dir.path().join("layout").display().to_string();
    env.run(&["--json", "pull", &at(&fake, "octo/app:v1"), &layout])
        .await
        .json_error(6, "digest_mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_rate_limits_exit_with_rate_limited() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    fake.faults().add(Fault::too_many_requests(
        Route::any_method("/v2/*/tags/list"),
        1000,
    ));
    let env = Env::fake(&fake);
    env.run(&["ls", &at(&fake, "octo/app")])
        .await
        .code(5)
        .stderr_has("rate limited");
    env.run(&["ls", "--json", &at(&fake, "octo/app")])
        .await
        .json_error(5, "rate_limited");
    fake.faults().clear();
    fake.faults().add(Fault::fail(
        Route::any_method("/v2/*/tags/list"),
        StatusCode::BAD_GATEWAY,
    ));
    env.set("GHCR_MAX_RETRIES", "0")
        .run(&["ls", &at(&fake, "octo/app")])
        .await
        .code(1)
        .stderr_has("502");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_warns_off_loopback_and_verbose_traces() {
    let env = Env::empty();
    let pinned = format!(
        "10.1.2.3:5000/octo/app@{}",
        ghcr::types::Digest::sha256_of(b"x")
    );
    // A pinned digest needs no request: only the warning is under test.
    let run = env.run(&["--plain-http", "digest", &pinned]).await;
    run.ok()
        .stderr_has("warning: talking plain HTTP to 10.1.2.3:5000");
    assert!(
        !run.stderr.contains("ghcr.io"),
        "only the registry named: {run:?}"
    );
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let quiet = Env::fake(&fake)
        .run(&["--plain-http", "ls", &at(&fake, "octo/app")])
        .await;
    assert!(
        !quiet.ok().stderr.contains("warning"),
        "loopback is fine: {quiet:?}"
    );
    Env::fake(&fake)
        .run(&["-v", "ls", &at(&fake, "octo/app")])
        .await
        .ok()
        .stderr_has("DEBUG");
}

/// What each command does about something that is not there: exit code 3
/// (`not_found` in JSON), with the message naming it; the gate blocks (7).
#[tokio::test(flavor = "multi_thread")]
async fn every_command_reports_what_is_missing() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let env = Env::fake(&fake);
    let missing = at(&fake, "octo/app:nope");
    let gone_repo = at(&fake, "octo/gone:v1");
    let copy = at(&fake, "octo/copy");
    let dir = tempfile::tempdir().unwrap();
    let blob_file = dir.path().join("blob").display().to_string();
    let layout = dir.path().join("layout").display().to_string();
    let blob = format!(
        "{}@{}",
        at(&fake, "octo/app"),
        ghcr::types::Digest::sha256_of(b"no such blob")
    );
    let table: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["manifest", &missing], 3, "nope"),
        (vec!["digest", &missing], 3, "nope"),
        (vec!["config", &missing], 3, "nope"),
        (vec!["size", &missing], 3, "nope"),
        (vec!["pull", &missing, &layout], 3, "nope"),
        (vec!["cp", &missing, &copy], 3, "nope"),
        (vec!["tag", &missing, "v2"], 3, "nope"),
        (vec!["rm", &missing], 3, "nope"),
        (vec!["blob", &blob, "-o", &blob_file], 3, "does not exist"),
        (vec!["ls", &gone_repo], 3, "octo/gone"),
        (vec!["vulns", &missing], 3, "nope"),
        (
            vec!["gate", &missing, "--fail-on", "high"],
            7,
            "fails closed",
        ),
        (vec!["versions", "ls", "octo/gone"], 3, "gone"),
        (
            vec!["versions", "restore", "octo/app", "424242"],
            3,
            "424242",
        ),
        (vec!["cleanup", "octo/gone", "--only-untagged"], 3, "gone"),
        (vec!["packages", "ls", "nobody-here"], 3, "nobody-here"),
    ];
    for (args, code, message) in table {
        env.run(&args).await.code(code).stderr_has(message);
        let mut json_args = vec!["--json"];
        json_args.extend(&args);
        let run = env.run(&json_args).await;
        match args[..2] {
            ["gate", _] => assert_eq!(run.code(7).json()["decision"], "blocked", "{run:#?}"),
            // Per-version results list each failure instead of one error.
            ["versions", "restore"] => {
                assert_eq!(run.code(3).json()["failed"][0]["status"], 404, "{run:#?}");
            }
            _ => {
                run.json_error(code, "not_found");
            }
        }
    }
    assert!(!std::path::Path::new(&layout).join("index.json").exists());
    assert!(!std::path::Path::new(&blob_file).exists());
}

/// A result that cannot be written (stdout on a full disk) fails the run
/// instead of exiting 0 with nothing; a reader that goes away early
/// (`| head -c`) is no failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_result_that_cannot_be_written_is_a_failure() {
    use tokio::io::AsyncReadExt as _;

    let fake = fake().await;
    let image = seed_app(&fake, vec![b'x'; 1024 * 1024]);
    let env = Env::fake(&fake);
    let app = at(&fake, "octo/app");
    let v1 = format!("{app}:v1");
    let layer = format!("{app}@{}", image.layers[0]);
    for args in [
        vec!["ls", &app],
        vec!["digest", &v1],
        vec!["manifest", &v1],
        vec!["--json", "size", &v1],
        vec!["blob", &layer],
    ] {
        env.run_onto_full_disk(&args)
            .await
            .code(1)
            .stderr_has("the result could not be written to stdout: No space left on device");
    }

    let mut child = env.spawn(&["blob", &layer]);
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"xxxxxxxxxx");
    drop(stdout);
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "a reader that left is no failure");
}
