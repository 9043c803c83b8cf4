//! No secret reaches the output: commands of every family run with a known
//! token at the widest tracing (`-vv`: our crates at trace, hyper at
//! debug), as text and as JSON, on success and with a refused token.
//! Neither stream may carry the token, its Basic form, a registry token
//! the fake issued (`fake-<hex>`), or a signed storage query (`sig=`).

use base64::Engine as _;

use crate::support::{Env, Run, TOKEN, USER, at, fake, seed, write_layout};

/// The registry tokens the fake issues: `fake-` and 32 hex digits.
fn issued_token(text: &str) -> Option<&str> {
    text.match_indices("fake-").find_map(|(at, _)| {
        let candidate = text.get(at..at + 37)?;
        candidate[5..]
            .chars()
            .all(|c| c.is_ascii_hexdigit())
            .then_some(candidate)
    })
}

#[track_caller]
fn assert_clean(run: &Run, secrets: &[&str]) {
    for stream in [&run.stdout, &run.stderr] {
        for secret in secrets {
            assert!(
                !stream.contains(secret),
                "`ghcr {}` showed {secret:?}: {run:#?}",
                run.args
            );
        }
        assert_eq!(issued_token(stream), None, "`ghcr {}`: {run:#?}", run.args);
        assert!(!stream.contains("sig="), "`ghcr {}`: {run:#?}", run.args);
    }
}

#[test]
fn issued_tokens_are_recognised() {
    let token = format!("fake-{}", "0123456789abcdef".repeat(2));
    assert_eq!(issued_token(&format!("Bearer {token}\n")), Some(&*token));
    assert_eq!(issued_token("a fake-thing of no length"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_command_shows_a_secret_even_when_tracing() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "a layer");
    let env = Env::fake(&fake);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{TOKEN}"));
    let secrets = [TOKEN, basic.as_str()];
    let dir = tempfile::tempdir().unwrap();
    write_layout(&dir.path().join("src"), "v2", b"pushed while tracing");
    let layout = format!("{}:v2", dir.path().join("src").display());
    let pulled = dir.path().join("pulled").display().to_string();
    let app = at(&fake, "octo/app");
    let v1 = format!("{app}:v1");
    let commands: Vec<Vec<&str>> = vec![
        vec!["ls", &app],
        vec!["digest", &v1],
        vec!["push", &layout, &app],
        vec!["pull", &v1, &pulled],
        vec!["versions", "ls", "octo/app"],
        vec!["cleanup", "octo/app", "--only-untagged"],
        vec!["rate-limit"],
    ];
    for command in &commands {
        for json in [false, true] {
            let mut args = vec!["-vv"];
            if json {
                args.push("--json");
            }
            args.extend(command);
            let run = env.run(&args).await;
            run.ok();
            // -vv: connection events of hyper's client too.
            assert!(run.stderr.contains("hyper_util::client"), "{run:#?}");
            assert_clean(&run, &secrets);
        }
    }
    // A login reads the token from stdin; a refused one is reported.
    let login = Env::fake(&fake)
        .run_with_stdin(
            &["-vv", "login", "-u", USER, "--password-stdin"],
            format!("{TOKEN}\n").as_bytes(),
        )
        .await;
    login.ok();
    assert_clean(&login, &secrets);
    let wrong = "ghp_refusedTokenValue0123456789";
    let refused = Env::fake(&fake).set("GHCR_TOKEN", wrong);
    for args in [["-vv", "ls", &app], ["-vv", "--json", "rate-limit"]] {
        let run = refused.run(&args).await;
        run.code(4);
        assert_clean(&run, &[wrong, TOKEN]);
    }
}
