//! Progress bars on push, pull and cp: drawn when stderr is a terminal,
//! absent when it is not (CI logs, pipes), where only the result is shown.

use crate::support::{Env, at, fake, write_layout};

#[tokio::test(flavor = "multi_thread")]
async fn bars_only_on_a_terminal() {
    let fake = fake().await;
    let env = Env::fake(&fake);
    let dir = tempfile::tempdir().unwrap();
    let digest = write_layout(&dir.path().join("src"), "v1", &vec![7u8; 256 * 1024]);
    let layout = format!("{}:v1", dir.path().join("src").display());
    let app = at(&fake, "octo/app");
    let pulled = |name: &str| dir.path().join(name).display().to_string();

    // Not a terminal: the result on stdout, nothing on stderr.
    for args in [
        vec!["push", &layout, &app],
        vec!["pull", &format!("{app}:v1"), &pulled("plain")],
        vec!["cp", &format!("{app}:v1"), &at(&fake, "octo/copy")],
    ] {
        let run = env.run(&args).await;
        assert!(run.ok().stderr.is_empty(), "{run:#?}");
        assert!(!run.stdout.contains("[="), "{run:#?}");
    }

    // A terminal: a bar per blob, each ending done (or saying why not).
    let run = env
        .run_on_terminal(&["push", &layout, &at(&fake, "octo/other:v1")])
        .await;
    run.ok()
        .stdout_has("[==============================]")
        .stdout_has("256.00 KiB")
        .stdout_has(&format!("pushed {}:v1 {digest}", at(&fake, "octo/other")));
    let run = env
        .run_on_terminal(&["pull", &format!("{app}:v1"), &pulled("drawn")])
        .await;
    run.ok()
        .stdout_has("[==============================]")
        .stdout_has(" done");
    // --json stays machine-readable on a terminal too: bars go to stderr,
    // and the terminal shows both, so only the JSON's presence is checked.
    let run = env
        .run_on_terminal(&[
            "cp",
            "--json",
            &format!("{app}:v1"),
            &at(&fake, "octo/third"),
        ])
        .await;
    run.ok().stdout_has(&format!("\"digest\": \"{digest}\""));
}
