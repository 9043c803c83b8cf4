//! `login` writes the Docker config as `docker login` does, and the
//! credential chain then finds it; `logout` removes it.

use base64::Engine as _;

use crate::support::{Env, TOKEN, USER, at, fake, seed};

#[tokio::test(flavor = "multi_thread")]
async fn login_stores_checked_credentials_that_later_commands_use() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let host = fake.registry_host();
    // No GHCR_TOKEN: only the Docker config can sign later commands in.
    let env = Env::empty()
        .set("GHCR_REGISTRY", host)
        .set("GHCR_API_BASE", &fake.api_base());
    let config_path = env.home.path().join(".docker/config.json");

    env.run_with_stdin(
        &["login", host, "-u", USER, "--password-stdin"],
        b"wrong-token\n",
    )
    .await
    .code(4)
    .stderr_has("login to");
    assert!(!config_path.exists(), "a refused login writes nothing");

    env.run_with_stdin(
        &["login", "-u", USER, "--password-stdin"],
        format!("{TOKEN}\n").as_bytes(),
    )
    .await
    .ok()
    .stdout_has("Login Succeeded");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    let auth = config["auths"][host]["auth"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    assert_eq!(decoded, format!("{USER}:{TOKEN}").as_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&config_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    env.run(&["ls", &at(&fake, "octo/app")])
        .await
        .ok()
        .stdout_has("v1");

    let json = env.run(&["login", "-u", USER, "-p", TOKEN, "--json"]).await;
    json.ok().stderr_has("--password-stdin");
    assert_eq!(json.json()["registry"], host);

    env.run(&["logout"])
        .await
        .ok()
        .stdout_has(&format!("Removing login credentials for {host}"));
    // Anonymous now: the private package is refused.
    env.run(&["ls", &at(&fake, "octo/app")]).await.code(4);
    let json = env.run(&["logout", host, "--json"]).await.ok().json();
    assert_eq!(json["removed"], false);
    env.run(&["login", "-u", USER])
        .await
        .code(2)
        .stderr_has("--password-stdin");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_refuses_to_bypass_a_credential_helper() {
    let env = Env::empty();
    let dir = env.home.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"credsStore":"desktop"}"#).unwrap();
    env.run_with_stdin(
        &["login", "ghcr.io", "-u", USER, "--password-stdin"],
        b"x\n",
    )
    .await
    .code(2)
    .stderr_has("`desktop` credential helper");
}

/// The Docker config's credential helpers sign commands in, as docker's do:
/// `docker-credential-NAME get` on PATH answers for the registry.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn credential_helpers_sign_commands_in() {
    use std::os::unix::fs::PermissionsExt as _;

    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let host = fake.registry_host();
    let env = Env::empty()
        .set("GHCR_REGISTRY", host)
        .set("GHCR_API_BASE", &fake.api_base());
    let bin = env.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-test");
    let answer = format!(r#"{{"ServerURL":"{host}","Username":"{USER}","Secret":"{TOKEN}"}}"#);
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\n[ \"$server\" = \"{host}\" ] && echo '{answer}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = env.home.path().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    let config = format!(r#"{{"credHelpers":{{"{host}":"test"}}}}"#);
    std::fs::write(docker.join("config.json"), config).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = env.set("PATH", &path);
    let run = env.run(&["ls", &at(&fake, "octo/app")]).await;
    assert_eq!(run.ok().stdout, "v1\n");
    assert!(!run.stderr.contains(TOKEN), "{run:#?}");
    // Without the helper's answer the private package is refused.
    std::fs::write(&helper, "#!/bin/sh\nexit 0\n").unwrap();
    env.run(&["ls", &at(&fake, "octo/app")]).await.code(4);
}
