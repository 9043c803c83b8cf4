//! deploy/: the Kubernetes manifests pass Kubernetes' published schemas
//! (kubernetes-validate --strict), set only variables GhcrConfig reads,
//! wire the Secret and ConfigMaps by name, keep the scheduler to one
//! replica, and the CronJob runs `serve --once`; the Dockerfile builds the
//! `ghcr` binary and runs `ghcr serve` as a non-root user; the example
//! policies pass `--check`.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::Env;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Every document of every YAML file in deploy/kubernetes.
fn documents() -> Vec<Yaml> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(deploy_dir().join("kubernetes")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let docs = YamlLoader::load_from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            all.extend(docs);
        }
    }
    all
}

fn of_kind<'a>(docs: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

fn keys(map: &Yaml) -> Vec<String> {
    map.as_hash()
        .map(|h| {
            h.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The pod specs that run `ghcr`: the Deployment's and the CronJob's.
fn pod_specs(docs: &[Yaml]) -> [(&'static str, &Yaml); 2] {
    [
        (
            "Deployment",
            &of_kind(docs, "Deployment", "ghcr-serve")["spec"]["template"]["spec"],
        ),
        (
            "CronJob",
            &of_kind(docs, "CronJob", "ghcr-cleanup")["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        ),
    ]
}

#[test]
fn kubernetes_sets_only_variables_the_config_reads() {
    let docs = documents();
    for (kind, pod) in pod_specs(&docs) {
        let container = &pod["containers"][0];
        assert!(!container.is_badvalue(), "{kind}: no container");
        check_variables(&docs, container);
    }
}

fn check_variables(docs: &[Yaml], container: &Yaml) {
    let mut set = Vec::new();
    for source in container["envFrom"].as_vec().unwrap() {
        let name = source["configMapRef"]["name"].as_str().unwrap();
        set.extend(keys(&of_kind(docs, "ConfigMap", name)["data"]));
    }
    for variable in container["env"].as_vec().unwrap() {
        set.push(variable["name"].as_str().unwrap().to_owned());
        let secret = &variable["valueFrom"]["secretKeyRef"];
        if let Some(name) = secret["name"].as_str() {
            let stored = keys(&of_kind(docs, "Secret", name)["stringData"]);
            assert!(
                stored.contains(&secret["key"].as_str().unwrap().to_owned()),
                "{variable:?}"
            );
        }
    }
    assert!(set.len() >= 9, "{set:?}");
    for variable in &set {
        assert!(
            ghcr::ENV_VARS.contains(&variable.as_str()),
            "{variable} is not a variable GhcrConfig reads"
        );
    }
    for needed in ["GHCR_USERNAME", "GHCR_TOKEN", "GHCR_REGISTRY"] {
        assert!(set.iter().any(|v| v == needed), "{needed} is not set");
    }
}

/// The policies a container reads are the ghcr-policies ConfigMap, mounted
/// where its args say.
fn check_policies_mount(docs: &[Yaml], pod: &Yaml, args: &[&str]) {
    let container = &pod["containers"][0];
    assert_eq!(args[..2], ["--policies", "/etc/ghcr/policies.toml"]);
    assert_eq!(
        container["volumeMounts"][0]["mountPath"].as_str(),
        Some("/etc/ghcr")
    );
    let volume = &pod["volumes"][0];
    assert_eq!(
        volume["name"].as_str(),
        container["volumeMounts"][0]["name"].as_str()
    );
    let name = volume["configMap"]["name"].as_str().unwrap();
    assert_eq!(name, "ghcr-policies");
    let policies = of_kind(docs, "ConfigMap", name);
    assert!(policies["data"]["policies.toml"].as_str().is_some());
}

fn strings(list: &Yaml) -> Vec<&str> {
    list.as_vec()
        .map(|items| items.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn kubernetes_cronjob_runs_serve_once_on_a_schedule() {
    let docs = documents();
    let cronjob = of_kind(&docs, "CronJob", "ghcr-cleanup");
    let spec = &cronjob["spec"];
    assert!(
        spec["schedule"]
            .as_str()
            .is_some_and(|s| s.split(' ').count() == 5)
    );
    assert_eq!(
        spec["concurrencyPolicy"].as_str(),
        Some("Forbid"),
        "never two runs at once"
    );
    assert!(
        spec["startingDeadlineSeconds"]
            .as_i64()
            .is_some_and(|s| s > 0)
    );
    assert!(spec["successfulJobsHistoryLimit"].as_i64().is_some());
    assert!(spec["failedJobsHistoryLimit"].as_i64().is_some());
    let job = &spec["jobTemplate"]["spec"];
    assert!(job["backoffLimit"].as_i64().is_some());
    let [_, (_, pod)] = pod_specs(&docs);
    assert!(
        matches!(pod["restartPolicy"].as_str(), Some("Never" | "OnFailure")),
        "{:?}",
        pod["restartPolicy"]
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    assert_eq!(
        container["securityContext"]["readOnlyRootFilesystem"].as_bool(),
        Some(true)
    );
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"].as_bool(),
        Some(false)
    );
    for (part, value) in [("requests", "64Mi"), ("limits", "256Mi")] {
        assert_eq!(container["resources"][part]["memory"].as_str(), Some(value));
    }
    // The same image as the Deployment, running `ghcr serve --once`.
    let [(_, deployment), _] = pod_specs(&docs);
    assert_eq!(
        container["image"].as_str(),
        deployment["containers"][0]["image"].as_str()
    );
    assert_eq!(strings(&container["command"]), ["ghcr", "serve"]);
    let args = strings(&container["args"]);
    assert_eq!(args, ["--policies", "/etc/ghcr/policies.toml", "--once"]);
    check_policies_mount(&docs, pod, &args);
    // --once opens no listener: no port to probe.
    assert!(container["livenessProbe"].is_badvalue());
    assert!(container["ports"].is_badvalue());
}

/// kustomization.yaml is no Kubernetes object (no schema): its resources
/// are checked to be the object files, the CronJob among them.
#[test]
fn kustomization_lists_the_manifests() {
    let dir = deploy_dir().join("kubernetes");
    let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
    assert_eq!(doc["kind"].as_str(), Some("Kustomization"));
    let resources = strings(&doc["resources"]);
    for file in &resources {
        assert!(dir.join(file).is_file(), "{file} is listed but missing");
    }
    for needed in ["configmap.yaml", "cronjob.yaml"] {
        assert!(resources.contains(&needed), "{needed}: {resources:?}");
    }
    // The Secret is made from the command line, never applied from here.
    assert!(!resources.contains(&"secret.yaml"), "{resources:?}");
    // One scheduler per policy file: the Deployment is the alternative.
    assert!(!resources.contains(&"deployment.yaml"), "{resources:?}");
}

/// The `kubernetes-validate` the xtask installs (GHCR_PY_TOOLS, else the
/// workspace's target/py-tools); a missing one fails with how to install it.
fn kubernetes_validate() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let venv = std::env::var_os("GHCR_PY_TOOLS")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| root.join("target/py-tools"), PathBuf::from);
    let program = venv.join("bin/kubernetes-validate");
    assert!(
        program.is_file(),
        "{} is missing: install it with `cargo xtask ci` (its tools step), or run\n  \
         python3 -m venv {venv} && {venv}/bin/pip install -r {requirements}",
        program.display(),
        venv = venv.display(),
        requirements = root
            .join("xtask/py-tools/kubernetes-validate.txt")
            .display(),
    );
    program
}

/// `kubernetes-validate --strict FILES`: its exit status and output.
fn validate(files: &[PathBuf]) -> (bool, String) {
    let output = std::process::Command::new(kubernetes_validate())
        .arg("--strict")
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn kubernetes_manifests_pass_the_published_schemas() {
    let dir = deploy_dir().join("kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .filter(|path| !path.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let (passed, output) = validate(&files);
    assert!(passed, "{output}");
    // Every object was checked against a schema, none skipped for want of one.
    for kind in [
        "deployment/",
        "service/",
        "configmap/",
        "secret/",
        "cronjob/",
    ] {
        assert!(
            output.contains(&format!("passed for resource {kind}")),
            "{output}"
        );
    }
    assert!(!output.contains("WARN"), "{output}");

    // The control: a misspelt field fails, so the validator does run.
    let temp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dir.join("cronjob.yaml")).unwrap();
    assert!(text.contains("concurrencyPolicy:"));
    let broken = temp.path().join("cronjob.yaml");
    std::fs::write(
        &broken,
        text.replace("concurrencyPolicy:", "concurencyPolicy:"),
    )
    .unwrap();
    let (passed, output) = validate(&[broken]);
    assert!(!passed, "a misspelt field passed: {output}");
    assert!(output.contains("concurencyPolicy"), "{output}");
}

/// The values the ConfigMap sets are ones the config accepts (with a token
/// standing in for the Secret's).
#[test]
fn kubernetes_settings_pass_the_config_checks() {
    let docs = documents();
    let data = &of_kind(&docs, "ConfigMap", "ghcr-config")["data"];
    let value = |name: &str| match name {
        "GHCR_USERNAME" => Some("octo".to_owned()),
        "GHCR_TOKEN" => Some("stand-in-token".to_owned()),
        _ => data[name].as_str().map(str::to_owned),
    };
    let config = ghcr::GhcrConfigBuilder::from_lookup(value)
        .and_then(ghcr::GhcrConfigBuilder::build)
        .unwrap_or_else(|error| panic!("the ConfigMap's settings: {error}"));
    assert_eq!(config.registry(), data["GHCR_REGISTRY"].as_str().unwrap());
    assert_eq!(
        config.chunk_size().to_string(),
        data["GHCR_CHUNK_SIZE"].as_str().unwrap()
    );
}

#[test]
fn kubernetes_runs_one_scheduler_with_probes_and_resources() {
    let docs = documents();
    let deployment = of_kind(&docs, "Deployment", "ghcr-serve");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"].as_i64(), Some(1), "one scheduler");
    assert_eq!(
        spec["strategy"]["type"].as_str(),
        Some("Recreate"),
        "never two at once"
    );
    let container = &spec["template"]["spec"]["containers"][0];
    let resources = &container["resources"];
    assert_eq!(resources["requests"]["memory"].as_str(), Some("64Mi"));
    assert_eq!(resources["requests"]["cpu"].as_str(), Some("100m"));
    assert_eq!(resources["limits"]["memory"].as_str(), Some("256Mi"));
    assert_eq!(resources["limits"]["cpu"].as_str(), Some("500m"));
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/health")
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/ready")
    );
    assert_eq!(container["ports"][0]["containerPort"].as_i64(), Some(8080));
    assert_eq!(
        spec["template"]["spec"]["securityContext"]["runAsNonRoot"].as_bool(),
        Some(true)
    );
    // The policies the args name are the ConfigMap mounted there.
    let args: Vec<&str> = container["args"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(args[..2], ["--policies", "/etc/ghcr/policies.toml"]);
    // The image's entrypoint (`serve --bind 0.0.0.0`) stays: no `command`
    // replaces it and the args do not bind elsewhere.
    assert!(
        container["command"].is_badvalue(),
        "{:?}",
        container["command"]
    );
    assert!(!args.contains(&"--bind"), "{args:?}");
    check_policies_mount(&docs, &spec["template"]["spec"], &args);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_policies_pass_the_check() {
    let docs = documents();
    let policies = of_kind(&docs, "ConfigMap", "ghcr-policies")["data"]["policies.toml"]
        .as_str()
        .unwrap()
        .to_owned();
    let env = Env::empty();
    let file = env.home.path().join("policies.toml");
    std::fs::write(&file, policies).unwrap();
    let example = deploy_dir().join("policies.example.toml");
    for path in [file, example] {
        let path = path.display().to_string();
        env.run(&["serve", "--policies", &path, "--check"])
            .await
            .ok()
            .stdout_has("octo-org/app");
        let json = env
            .run(&["serve", "--policies", &path, "--check", "--json"])
            .await
            .ok()
            .json();
        assert!(json["interval_seconds"].as_u64().unwrap() > 0, "{json}");
        assert!(
            json["policies"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("octo-org/app")),
            "{json}"
        );
    }
    std::fs::write(
        env.home.path().join("bad.toml"),
        "interval = \"1d\"\n[[policy]]\nowner = \"o\"\npackage = \"p\"\n",
    )
    .unwrap();
    let bad = env.home.path().join("bad.toml").display().to_string();
    env.run(&["serve", "--policies", &bad, "--check"])
        .await
        .code(2)
        .stderr_has("policy #1");
    env.run(&["--json", "serve", "--policies", &bad, "--check"])
        .await
        .json_error(2, "usage");
}

#[test]
fn the_dockerfile_builds_the_binary_and_runs_serve_unprivileged() {
    let text = std::fs::read_to_string(deploy_dir().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let stages: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    assert!(stages[0].contains(" AS build"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cargo build --release --locked -p ghcr-cli --bin ghcr"))
    );
    assert!(lines.iter().any(|l| l.contains("ca-certificates")));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("COPY --from=build /src/target/release/ghcr "))
    );
    let user = lines.iter().find_map(|l| l.strip_prefix("USER ")).unwrap();
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    // `serve` binds loopback by default; the container says 0.0.0.0 itself.
    assert!(lines.contains(&r#"ENTRYPOINT ["ghcr", "serve", "--bind", "0.0.0.0"]"#));
    assert!(lines.contains(&"EXPOSE 8080"));
    // The binary it names is this package's.
    assert!(env!("CARGO_BIN_EXE_ghcr").ends_with("ghcr"));
    assert_eq!(env!("CARGO_PKG_NAME"), "ghcr-cli");
}
