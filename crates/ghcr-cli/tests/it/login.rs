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

/// `login` and `logout` go through the Docker config's credential store as
/// docker's do: the helper protocol's `store` (a JSON object on stdin) and
/// `erase` (the host), recorded here exchange by exchange by a helper that
/// keeps its store in a file; the config keeps only an empty `auths` entry.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn login_and_logout_go_through_the_credential_store() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let host = fake.registry_host();
    let (env, bin, config_path) = with_test_helper(
        &fake,
        |bin| recording_helper(bin, "test"),
        r#"{"credsStore":"test"}"#,
    );
    let (log, store) = (bin.join("test.exchanges"), bin.join("test.store"));
    let exchanges = || std::fs::read_to_string(&log).unwrap_or_default();

    // A refused login hands the helper nothing.
    env.run_with_stdin(&["login", "-u", USER, "--password-stdin"], b"wrong\n")
        .await
        .code(4);
    assert!(!exchanges().contains("store"), "{}", exchanges());

    env.run_with_stdin(
        &["login", "-u", USER, "--password-stdin"],
        format!("{TOKEN}\n").as_bytes(),
    )
    .await
    .ok()
    .stdout_has("stored in the `test` credential helper");
    assert_eq!(
        exchanges().lines().collect::<Vec<_>>(),
        [format!(
            r#"store {{"ServerURL":"{host}","Username":"{USER}","Secret":"{TOKEN}"}}"#
        )]
    );
    let config = std::fs::read_to_string(&config_path).unwrap();
    assert!(
        !config.contains(TOKEN),
        "the token is in the store only: {config}"
    );
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["auths"][host], serde_json::json!({}), "{config}");
    assert_eq!(config["credsStore"], "test");

    // Later commands get it back with `get`.
    env.run(&["ls", &at(&fake, "octo/app")])
        .await
        .ok()
        .stdout_has("v1");
    assert!(
        exchanges().contains(&format!("get {host}")),
        "{}",
        exchanges()
    );

    env.run(&["logout"])
        .await
        .ok()
        .stdout_has(&format!("Removing login credentials for {host}"));
    assert!(
        exchanges().ends_with(&format!("erase {host}\n")),
        "{}",
        exchanges()
    );
    assert!(!std::fs::read_to_string(&store).unwrap().contains(host));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    assert!(config["auths"].get(host).is_none(), "{config}");
    env.run(&["ls", &at(&fake, "octo/app")]).await.code(4);
    let json = env.run(&["logout", "--json"]).await.ok().json();
    assert_eq!(json["removed"], false);
}

/// A per-host `credHelpers` entry wins over `credsStore`, as in docker:
/// `login` stores through that host's helper (`store`, the exact JSON) and
/// `logout` erases through it; the config keeps the empty `auths` entry
/// docker writes, and the helper named for another host (also the
/// `credsStore` one here) is never run.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn login_and_logout_go_through_the_hosts_credential_helper() {
    use std::os::unix::fs::PermissionsExt as _;

    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let host = fake.registry_host();
    let helpers = serde_json::json!({host: "test", "other.example": "other"});
    let config = serde_json::json!({
        "credsStore": "other",
        "credHelpers": helpers,
        "auths": {"other.example": {}},
        "psFormat": "kept as it was",
    });
    let (env, bin, config_path) = with_test_helper(
        &fake,
        |bin| recording_helper(bin, "test"),
        &config.to_string(),
    );
    let other = bin.join("docker-credential-other");
    std::fs::write(&other, recording_helper(&bin, "other")).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exchanges = |helper: &str| {
        std::fs::read_to_string(bin.join(format!("{helper}.exchanges"))).unwrap_or_default()
    };
    let config_now = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap()
    };

    let login = env
        .run_with_stdin(
            &["login", "-u", USER, "--password-stdin", "--json"],
            format!("{TOKEN}\n").as_bytes(),
        )
        .await;
    assert_eq!(login.ok().json()["helper"], "test", "the host's helper");
    assert_eq!(
        exchanges("test").lines().collect::<Vec<_>>(),
        [format!(
            r#"store {{"ServerURL":"{host}","Username":"{USER}","Secret":"{TOKEN}"}}"#
        )]
    );
    let stored = config_now();
    assert!(!stored.to_string().contains(TOKEN), "{stored}");
    assert_eq!(
        stored["auths"],
        serde_json::json!({host: {}, "other.example": {}}),
        "{stored}"
    );
    assert_eq!(stored["credHelpers"], helpers);
    assert_eq!(stored["credsStore"], "other");
    assert_eq!(stored["psFormat"], "kept as it was");

    env.run(&["ls", &at(&fake, "octo/app")])
        .await
        .ok()
        .stdout_has("v1");
    assert!(
        exchanges("test").contains(&format!("get {host}")),
        "{}",
        exchanges("test")
    );

    env.run(&["logout"])
        .await
        .ok()
        .stdout_has(&format!("Removing login credentials for {host}"));
    assert!(
        exchanges("test").ends_with(&format!("erase {host}\n")),
        "{}",
        exchanges("test")
    );
    assert!(
        !std::fs::read_to_string(bin.join("test.store"))
            .unwrap()
            .contains(host)
    );
    let erased = config_now();
    assert_eq!(
        erased["auths"],
        serde_json::json!({"other.example": {}}),
        "{erased}"
    );
    assert_eq!(erased["credHelpers"], helpers);
    assert_eq!(exchanges("other"), "", "the other host's helper never ran");
    env.run(&["ls", &at(&fake, "octo/app")]).await.code(4);
}

/// A credential helper in `sh` that keeps its store in `bin/NAME.store`
/// and appends each exchange (`VERB INPUT`) to `bin/NAME.exchanges`.
#[cfg(unix)]
fn recording_helper(bin: &std::path::Path, name: &str) -> String {
    format!(
        r#"#!/bin/sh
input=$(cat)
printf '%s %s\n' "$1" "$input" >> '{log}'
case "$1" in
store)
  server=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\([^"]*\)".*/\1/')
  grep -v "^$server " '{store}' > '{store}.new' 2>/dev/null
  printf '%s %s\n' "$server" "$input" >> '{store}.new'; mv '{store}.new' '{store}' ;;
get)
  line=$(grep "^$input " '{store}' 2>/dev/null) || {{ echo 'credentials not found in native keychain'; exit 1; }}
  printf '%s' "${{line#* }}" ;;
erase)
  grep -q "^$input " '{store}' 2>/dev/null || {{ echo 'credentials not found in native keychain'; exit 1; }}
  grep -v "^$input " '{store}' > '{store}.new'; mv '{store}.new' '{store}' ;;
esac
"#,
        log = bin.join(format!("{name}.exchanges")).display(),
        store = bin.join(format!("{name}.store")).display()
    )
}

/// The Docker config's credential helpers sign commands in, as docker's do:
/// `docker-credential-NAME get` on PATH answers for the registry.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn credential_helpers_sign_commands_in() {
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let host = fake.registry_host();
    let answer = format!(r#"{{"ServerURL":"{host}","Username":"{USER}","Secret":"{TOKEN}"}}"#);
    let script =
        format!("#!/bin/sh\nread server\n[ \"$server\" = \"{host}\" ] && echo '{answer}'\n");
    let config = format!(r#"{{"credHelpers":{{"{host}":"test"}}}}"#);
    let (env, bin, _) = with_test_helper(&fake, |_| script, &config);
    let helper = bin.join("docker-credential-test");
    let run = env.run(&["ls", &at(&fake, "octo/app")]).await;
    assert_eq!(run.ok().stdout, "v1\n");
    assert!(!run.stderr.contains(TOKEN), "{run:#?}");
    // Without the helper's answer the private package is refused.
    std::fs::write(&helper, "#!/bin/sh\nexit 0\n").unwrap();
    env.run(&["ls", &at(&fake, "octo/app")]).await.code(4);
}

/// An environment for `fake` (no token) whose PATH starts with a folder
/// holding `docker-credential-test`, the script `script(folder)` returns,
/// and whose Docker config is `config`; also the folder and config path.
#[cfg(unix)]
fn with_test_helper(
    fake: &ghcr_sim::fake::FakeGhcr,
    script: impl FnOnce(&std::path::Path) -> String,
    config: &str,
) -> (Env, std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;

    let env = Env::empty()
        .set("GHCR_REGISTRY", fake.registry_host())
        .set("GHCR_API_BASE", &fake.api_base());
    let bin = env.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-test");
    std::fs::write(&helper, script(&bin)).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = env.home.path().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    let config_path = docker.join("config.json");
    std::fs::write(&config_path, config).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (env.set("PATH", &path), bin, config_path)
}

/// The same round trip through a real credential helper: Debian's
/// `docker-credential-pass`, over a `pass` store encrypted to a throwaway
/// GnuPG key. What docker's own helper lists is what `login` stored and
/// `logout` erased.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn login_and_logout_work_with_debians_pass_helper() {
    for (binary, package) in [
        (
            "/usr/bin/docker-credential-pass",
            "golang-docker-credential-helpers",
        ),
        ("/usr/bin/pass", "pass"),
        ("/usr/bin/gpg", "gnupg"),
    ] {
        ghcr_sim::peers::require(binary, package).expect("the pass helper test needs it");
    }
    let fake = fake().await;
    seed(&fake, "octo/app", Some("v1"), "layer");
    let host = fake.registry_host();
    // gpg-agent's socket path must stay short: a folder under /tmp.
    let keys = tempfile::Builder::new()
        .prefix("gpg")
        .tempdir_in("/tmp")
        .unwrap();
    let (gnupg, store) = (keys.path().join("g"), keys.path().join("s"));
    std::fs::create_dir(&gnupg).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let tool = |program: &str| {
        let mut command = std::process::Command::new(program);
        command
            .env("GNUPGHOME", &gnupg)
            .env("PASSWORD_STORE_DIR", &store);
        command
    };
    let check = |command: &mut std::process::Command| {
        let out = command.output().unwrap();
        assert!(out.status.success(), "{command:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    check(tool("gpg").args([
        "--batch",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        "ghcr test <test@ghcr.invalid>",
        "default",
        "default",
        "never",
    ]));
    check(tool("pass").args(["init", "test@ghcr.invalid"]));
    let listed = || -> serde_json::Value {
        serde_json::from_str(&check(tool("docker-credential-pass").arg("list"))).unwrap()
    };

    let (env, _, config_path) =
        with_test_helper(&fake, |_| String::new(), r#"{"credsStore":"pass"}"#);
    let env = env
        .set("GNUPGHOME", gnupg.to_str().unwrap())
        .set("PASSWORD_STORE_DIR", store.to_str().unwrap());
    env.run_with_stdin(
        &["login", "-u", USER, "--password-stdin"],
        format!("{TOKEN}\n").as_bytes(),
    )
    .await
    .ok()
    .stdout_has("stored in the `pass` credential helper");
    assert_eq!(listed()[host], USER);
    assert!(
        !std::fs::read_to_string(&config_path)
            .unwrap()
            .contains(TOKEN)
    );
    env.run(&["ls", &at(&fake, "octo/app")])
        .await
        .ok()
        .stdout_has("v1");

    env.run(&["logout"]).await.ok();
    assert!(listed().get(host).is_none(), "{}", listed());
    env.run(&["ls", &at(&fake, "octo/app")]).await.code(4);
    let _ = tool("gpgconf").args(["--kill", "gpg-agent"]).status();
}
