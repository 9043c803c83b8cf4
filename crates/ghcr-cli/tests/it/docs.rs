//! `ghcr completion` scripts that shells take, and man pages that `man`
//! renders without a warning, one per command.

use std::process::Command;

use crate::support::Env;

/// Runs `bash -c SCRIPT` and returns its stdout, asserting success.
fn bash(script: &str) -> String {
    let output = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(output.status.success(), "bash -c {script:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn bash_sources_the_completion_and_completes_commands() {
    let env = Env::empty().set("GHCR_REGISTRY", "bad registry name");
    let run = env.run(&["completion", "bash"]).await;
    // It describes the command line: the environment's settings do not matter.
    run.ok();
    let script = env.home.path().join("ghcr.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let path = script.display();
    bash(&format!("bash -n {path}"));
    let registered = bash(&format!("source {path}; complete -p ghcr"));
    assert!(registered.trim_end().ends_with(" ghcr"), "{registered}");
    // What bash offers after `ghcr ` and after `ghcr versions `.
    let offered = |words: &str, current: usize| {
        bash(&format!(
            "source {path}; COMP_WORDS=({words}); COMP_CWORD={current}; \
             COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _ghcr ghcr; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
    };
    let commands = offered("ghcr ''", 1);
    for command in ["push", "pull", "cleanup", "gate", "completion", "man"] {
        assert!(
            commands.lines().any(|l| l == command),
            "{command}: {commands}"
        );
    }
    assert!(!commands.lines().any(|l| l == "restore"), "{commands}");
    let versions = offered("ghcr versions ''", 2);
    assert!(versions.lines().any(|l| l == "restore"), "{versions}");
}

#[tokio::test]
async fn every_shell_gets_its_own_script() {
    let env = Env::empty();
    for (shell, mark) in [
        ("zsh", "#compdef ghcr"),
        ("fish", "complete -c ghcr"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        env.run(&["completion", shell]).await.ok().stdout_has(mark);
    }
    env.run(&["completion", "tcsh"]).await.code(2);
}

#[tokio::test]
async fn man_renders_a_page_per_command_without_warnings() {
    let env = Env::empty();
    let dir = env.home.path().join("man");
    let run = env.run(&["man", dir.to_str().unwrap()]).await;
    run.ok();
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for page in [
        "ghcr.1",
        "ghcr-push.1",
        "ghcr-gate.1",
        "ghcr-cleanup.1",
        "ghcr-versions-restore.1",
        "ghcr-completion.1",
        "ghcr-man.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page}: {pages:?}");
        assert!(run.stdout.contains(page), "listed: {}", run.stdout);
    }
    for page in &pages {
        let output = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(dir.join(page))
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.is_empty(),
            "{page}: {stderr}"
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("ghcr"), "{page} renders empty: {text}");
    }
    let gate = std::fs::read_to_string(dir.join("ghcr-gate.1")).unwrap();
    assert!(gate.contains("fail\\-on"), "{gate}");
}
