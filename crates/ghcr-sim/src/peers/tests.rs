//! The peers against the real binaries: both auth modes, the lifeline,
//! and the errors that name install commands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::http;
use super::registry::{NotReady, Settings, config, free_port, spawn, wait_until_ready};
use super::*;

const WAIT: Duration = Duration::from_secs(5);

async fn start(auth: Auth) -> DockerRegistry {
    DockerRegistry::start(auth)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Whether anything still answers on `host`.
async fn answers(host: &str) -> bool {
    http::get(host, "/v2/", &[], WAIT).await.is_ok()
}

#[tokio::test]
async fn a_registry_without_auth_serves_until_dropped() {
    let registry = start(Auth::None).await;
    let host = registry.host().to_owned();
    let answer = http::get(&host, "/v2/", &[], WAIT).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    assert!(registry.credentials().is_none() && registry.issuer().is_none());
    assert_eq!(
        registry.reference("team/app:v1").unwrap().to_string(),
        format!("{host}/team/app:v1")
    );
    let storage = registry.storage_dir();
    drop(registry);
    assert!(!answers(&host).await, "the registry stopped with its owner");
    assert!(!storage.exists(), "its storage went with it");
}

#[tokio::test]
async fn a_registry_with_its_access_log_counts_requests_by_method() {
    let registry = DockerRegistry::start_with_access_log(Auth::None)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let host = registry.host();
    let offset = registry.log_offset();
    for _ in 0..3 {
        http::get(host, "/v2/", &[], WAIT).await.unwrap();
    }
    // The registry writes the line after the answer: wait for the third.
    let started = Instant::now();
    while registry.requests_since(offset).get("GET") != Some(&3) && started.elapsed() < WAIT {
        tokio::task::yield_now().await;
    }
    let counts = registry.requests_since(offset);
    assert_eq!(counts.get("GET"), Some(&3), "{counts:?}");
    assert_eq!(counts.len(), 1, "{counts:?}");
}

#[tokio::test]
async fn a_token_registry_wants_tokens_from_its_issuer() {
    let registry = start(Auth::Token).await;
    let host = registry.host();
    let refused = http::get(host, "/v2/", &[], WAIT).await.unwrap();
    assert_eq!(refused.status, 401);
    let issuer = registry.issuer().unwrap();
    let challenge = refused.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains(&issuer.realm()) && challenge.contains(TokenIssuer::SERVICE),
        "{challenge}"
    );

    let realm = issuer.realm();
    let token_host = realm
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(host, _)| host.to_owned())
        .unwrap();
    let path = format!(
        "/token?service={}&scope=repository:team/app:pull,push",
        TokenIssuer::SERVICE
    );
    let anonymous = http::get(&token_host, &path, &[], WAIT).await.unwrap();
    assert_eq!(anonymous.status, 401, "the issuer checks credentials");
    let (user, password) = registry.credentials().unwrap();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let granted = http::get(&token_host, &path, &[("Authorization", &basic)], WAIT)
        .await
        .unwrap();
    assert_eq!(granted.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&granted.body).unwrap();
    let bearer = format!("Bearer {}", body["token"].as_str().unwrap());
    let admitted = http::get(host, "/v2/", &[("Authorization", &bearer)], WAIT)
        .await
        .unwrap();
    assert_eq!(admitted.status, 200, "the registry trusts the issuer's key");
    assert_eq!(
        issuer.scopes_asked(),
        ["repository:team/app:pull,push"],
        "scopes are noted as asked"
    );
    for shown in [format!("{registry:?}"), format!("{issuer:?}")] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
}

/// The owner holds the lifeline; SIGKILL it and the supervisor must stop
/// the registry, as when a test process is killed mid-run.
#[tokio::test]
async fn a_killed_owner_takes_the_registry_with_it() {
    let binary = require(DOCKER_REGISTRY, "docker-registry").unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let host = format!("127.0.0.1:{port}");
    let config_path = dir.path().join("config.yml");
    let settings = Settings {
        dir: dir.path(),
        port,
        nonce: "owner-test",
        issuer: None,
        tls: false,
        access_log: false,
    };
    std::fs::write(&config_path, config(&settings)).unwrap();
    let mut owner = Command::new("sleep")
        .arg("600")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lifeline = Stdio::from(owner.stdout.take().unwrap());
    let mut supervisor = spawn(&binary, &config_path, dir.path(), lifeline).unwrap();
    if let Err(NotReady::PortTaken(error) | NotReady::Failed(error)) =
        wait_until_ready(&mut supervisor, &host, &settings).await
    {
        let _ = owner.kill();
        panic!("{error}");
    }
    assert!(answers(&host).await);

    owner.kill().unwrap();
    owner.wait().unwrap();
    let started = Instant::now();
    while supervisor.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < WAIT,
            "the supervisor outlived the owner"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!answers(&host).await, "the registry outlived the owner");
}

#[test]
fn missing_tools_name_their_install_command() {
    let error = require("/nonexistent/ghcr-sim-tool", "ghcr-sim-tool").unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error
            .to_string()
            .contains("install it with `apt-get install -y ghcr-sim-tool`"),
        "{error}"
    );
}

#[tokio::test]
async fn a_failing_skopeo_says_what_it_said() {
    let error = skopeo(&["inspect", "oci:/nonexistent/ghcr-sim-layout:v1"])
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("skopeo inspect oci:/nonexistent/ghcr-sim-layout:v1 failed"),
        "{text}"
    );
    assert!(
        text.len() > "skopeo inspect  failed".len() + 40,
        "stderr is kept: {text}"
    );
}
