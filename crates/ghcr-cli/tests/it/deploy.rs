//! deploy/: the Kubernetes manifests parse, set only variables GhcrConfig
//! reads, wire the Secret and ConfigMaps by name, and keep the scheduler
//! to one replica; the Dockerfile builds the `ghcr` binary and runs
//! `ghcr serve` as a non-root user; the example policies pass `--check`.

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

#[test]
fn kubernetes_sets_only_variables_the_config_reads() {
    let docs = documents();
    let deployment = of_kind(&docs, "Deployment", "ghcr-serve");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mut set = Vec::new();
    for source in container["envFrom"].as_vec().unwrap() {
        let name = source["configMapRef"]["name"].as_str().unwrap();
        set.extend(keys(&of_kind(&docs, "ConfigMap", name)["data"]));
    }
    for variable in container["env"].as_vec().unwrap() {
        set.push(variable["name"].as_str().unwrap().to_owned());
        let secret = &variable["valueFrom"]["secretKeyRef"];
        if let Some(name) = secret["name"].as_str() {
            let stored = keys(&of_kind(&docs, "Secret", name)["stringData"]);
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
    assert_eq!(
        container["volumeMounts"][0]["mountPath"].as_str(),
        Some("/etc/ghcr")
    );
    let volume = &spec["template"]["spec"]["volumes"][0]["configMap"];
    let policies = of_kind(&docs, "ConfigMap", volume["name"].as_str().unwrap());
    assert!(policies["data"]["policies.toml"].as_str().is_some());
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
