//! action.yml, the composite GitHub Action: every input reaches the
//! script under the name it reads, and the script, run as the runner runs
//! it (INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, a
//! `ghcr` on PATH), plans, deletes and reports against the fake ghcr.io.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use ghcr_sim::fake::FakeGhcr;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{TOKEN, USER, fake, seed};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn action() -> Yaml {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn script() -> PathBuf {
    root().join(".github/actions/cleanup/run.sh")
}

/// The variable the step passes an input as: GitHub's INPUT_ rule, with
/// `-` as `_` so that a shell can read it.
fn variable(input: &str) -> String {
    format!("INPUT_{}", input.to_uppercase().replace(['-', ' '], "_"))
}

/// Every `INPUT_NAME` the script mentions.
fn read_by_script() -> BTreeSet<String> {
    let text = std::fs::read_to_string(script()).unwrap();
    text.match_indices("INPUT_")
        .map(|(at, _)| {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            name.trim_end_matches('_').to_owned()
        })
        .filter(|name| name.len() > "INPUT_".len())
        .collect()
}

#[test]
fn every_input_reaches_the_script_and_every_variable_it_reads_is_an_input() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs: Vec<String> = action["inputs"]
        .as_hash()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    for needed in [
        "owner",
        "packages",
        "keep-newest",
        "keep-tag",
        "keep-newer-than",
        "only-untagged",
        "only-tags-matching",
        "dry-run",
        "token",
        "version",
    ] {
        assert!(inputs.iter().any(|i| i == needed), "no input {needed}");
    }
    let step = &action["runs"]["steps"][0];
    assert_eq!(step["id"].as_str(), Some("cleanup"));
    assert!(
        step["run"]
            .as_str()
            .unwrap()
            .contains("$GITHUB_ACTION_PATH/.github/actions/cleanup/run.sh")
    );
    // Composite actions set no INPUT_* themselves: the step's env does.
    let env: BTreeMap<String, String> = step["env"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for input in &inputs {
        assert_eq!(
            env.get(&variable(input)).map(String::as_str),
            Some(format!("${{{{ inputs.{input} }}}}").as_str()),
            "input {input}"
        );
    }
    let passed: BTreeSet<String> = env.keys().cloned().collect();
    let expected: BTreeSet<String> = inputs.iter().map(|i| variable(i)).collect();
    assert_eq!(passed, expected, "the step passes exactly the inputs");
    assert_eq!(read_by_script(), expected, "the script reads exactly those");
    // Safe by default, and signed in as the workflow.
    for (input, default) in [
        ("dry-run", "true"),
        ("owner-type", "org"),
        ("token", "${{ github.token }}"),
    ] {
        let value = action["inputs"][input]["default"].as_str();
        assert_eq!(value, Some(default), "input {input}");
    }
    for output in ["deleted", "report"] {
        assert_eq!(
            action["outputs"][output]["value"].as_str(),
            Some(format!("${{{{ steps.cleanup.outputs.{output} }}}}").as_str())
        );
    }
    let mode = std::fs::metadata(script()).unwrap().permissions().mode();
    assert!(mode & 0o111 != 0, "run.sh is not executable");
}

/// One run of the script, as the runner's step runs it.
pub(crate) struct StepRun {
    pub(crate) code: i32,
    pub(crate) stderr: String,
    pub(crate) outputs: BTreeMap<String, String>,
    pub(crate) summary: String,
    _dir: tempfile::TempDir,
}

async fn run_step(fake: &FakeGhcr, inputs: &[(&str, &str)]) -> StepRun {
    // The freshly built ghcr first on PATH: the script must not install.
    let bin = Path::new(env!("CARGO_BIN_EXE_ghcr")).parent().unwrap();
    run_step_with(fake, inputs, bin, &[]).await
}

/// [`run_step`] with `bin` first on PATH and `extra` variables set.
pub(crate) async fn run_step_with(
    fake: &FakeGhcr,
    inputs: &[(&str, &str)],
    bin: &Path,
    extra: &[(&str, &str)],
) -> StepRun {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("github_output");
    let summary = dir.path().join("step_summary");
    std::fs::write(&output, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let home = dir.path().join("home");
    let temp = dir.path().join("runner_temp");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut command = tokio::process::Command::new(script());
    command
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTOR", USER)
        .env("GHCR_REGISTRY", fake.registry_host())
        .env("GHCR_API_BASE", fake.api_base())
        .env("INPUT_TOKEN", TOKEN)
        .kill_on_drop(true);
    command.envs(extra.iter().copied());
    for (input, value) in inputs {
        command.env(variable(input), value);
    }
    let done = command.output().await.unwrap();
    let outputs = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    StepRun {
        code: done.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
        outputs,
        summary: std::fs::read_to_string(&summary).unwrap(),
        _dir: dir,
    }
}

impl StepRun {
    fn report(&self) -> serde_json::Value {
        let path = &self.outputs["report"];
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }

    /// The summary's table row of version `id`.
    fn row(&self, package: &str, id: u64) -> &str {
        let start = format!("| {package} | {id} |");
        self.summary
            .lines()
            .find(|line| line.starts_with(&start))
            .unwrap_or_else(|| panic!("no row {start}:\n{}", self.summary))
    }
}

pub(crate) fn untagged(fake: &FakeGhcr, package: &str, builds: usize) -> Vec<u64> {
    let repository = format!("octo/{package}");
    seed(fake, &repository, Some("v1"), &format!("{package} release"));
    (0..builds)
        .map(|n| {
            let digest = seed(fake, &repository, None, &format!("{package} build {n}"));
            fake.store().version_id(&repository, &digest).unwrap().0
        })
        .collect()
}

fn live(fake: &FakeGhcr, package: &str) -> usize {
    fake.store()
        .versions(&format!("octo/{package}"))
        .iter()
        .filter(|v| v.deleted_at.is_none())
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_plans_deletes_and_reports() {
    let fake = fake().await;
    let web = untagged(&fake, "app-web", 2);
    untagged(&fake, "app-legacy", 2);
    let inputs = [
        ("owner", "octo"),
        ("owner-type", "user"),
        // Comma- and newline-separated, one glob leaving a package out.
        ("packages", "app-*,\n !app-legacy\n"),
        ("only-untagged", "true"),
        ("keep-tag", "^v\\d+$"),
        ("version", "latest"),
    ];

    // The default: a dry run.
    let mut dry: Vec<(&str, &str)> = inputs.to_vec();
    dry.push(("dry-run", "true"));
    let run = run_step(&fake, &dry).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.outputs["deleted"], "0", "{:?}", run.outputs);
    let report = run.report();
    assert_eq!(report["executed"], false, "{report}");
    assert_eq!(live(&fake, "app-web"), 3, "a dry run deletes nothing");
    for id in &web {
        let row = run.row("app-web", *id);
        assert!(
            row.contains("| (untagged) |") && row.contains("| delete |"),
            "{row}"
        );
        assert!(row.ends_with("| not run |"), "{row}");
    }
    assert!(
        run.summary.contains("dry run: nothing was deleted"),
        "{}",
        run.summary
    );
    assert!(!run.summary.contains("app-legacy"), "{}", run.summary);
    assert!(!run.stderr.contains("installing"), "{}", run.stderr);

    let mut real: Vec<(&str, &str)> = inputs.to_vec();
    real.push(("dry-run", "false"));
    let run = run_step(&fake, &real).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.outputs["deleted"], "2",
        "{:?}\n{}",
        run.outputs, run.stderr
    );
    let report = run.report();
    assert_eq!(report["executed"], true, "{report}");
    assert_eq!(report["deleted"], 2, "{report}");
    for id in &web {
        assert!(
            run.row("app-web", *id).ends_with("| deleted |"),
            "{}",
            run.summary
        );
    }
    assert!(
        run.summary.contains("| v1 |"),
        "the release's row: {}",
        run.summary
    );
    assert_eq!(live(&fake, "app-web"), 1);
    assert_eq!(live(&fake, "app-legacy"), 3, "left out by !app-legacy");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_action_refuses_bad_inputs_and_passes_ghcr_failures_on() {
    let fake = fake().await;
    untagged(&fake, "app-web", 1);
    let base = [
        ("owner", "octo"),
        ("owner-type", "user"),
        ("only-untagged", "true"),
    ];

    let mut bad: Vec<(&str, &str)> = base.to_vec();
    bad.extend([("packages", "app-*"), ("dry-run", "yes")]);
    let run = run_step(&fake, &bad).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("input dry-run must be true or false"),
        "{}",
        run.stderr
    );
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);

    // A glob that chooses nothing: ghcr's not-found code, and the summary says why.
    let mut nothing: Vec<(&str, &str)> = base.to_vec();
    nothing.push(("packages", "nothing-*"));
    let run = run_step(&fake, &nothing).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.outputs["deleted"], "0");
    assert!(
        run.summary.contains("**failed** (not_found)"),
        "{}",
        run.summary
    );
    assert_eq!(live(&fake, "app-web"), 2);
}
