//! Docker config files and credential helpers against real files and scripts.

use super::*;

/// Tests that write a helper script and run it take turns: a fork in one
/// test while another still has its script open for writing makes the
/// exec fail with "text file busy".
static SCRIPTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn inline_auths_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let auth = STANDARD.encode("octocat:ghp_one");
    let config = write(
        dir.path(),
        "config.json",
        &format!(
            r#"{{"auths": {{
                "https://ghcr.io": {{"auth": "{auth}"}},
                "localhost:5000": {{"username": "u", "password": "p"}},
                "registry.example": {{"identitytoken": "refresh", "username": "r"}},
                "broken.example": {{"auth": "!!!"}},
                "empty.example": {{}}
            }}}}"#
        ),
    );
    let provider = DockerConfigProvider::at(&config);
    let ghcr = provider.credentials("ghcr.io").await.unwrap().unwrap();
    assert_eq!(ghcr.username(), Some("octocat"));
    assert_eq!(
        ghcr.basic_authorization().unwrap().to_str().unwrap(),
        format!("Basic {auth}")
    );
    let local = provider
        .credentials("localhost:5000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(local.username(), Some("u"));
    let identity = provider
        .credentials("registry.example")
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(identity, Credentials::IdentityToken { .. }));
    assert!(
        provider
            .credentials("empty.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        provider
            .credentials("other.example")
            .await
            .unwrap()
            .is_none()
    );
    let err = provider.credentials("broken.example").await.unwrap_err();
    assert!(err.to_string().contains("not base64"), "{err}");
    assert!(!err.to_string().contains("!!!"));
}

#[tokio::test]
async fn missing_file_is_empty_and_garbage_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = DockerConfigProvider::at(dir.path().join("nope.json"));
    assert!(missing.credentials("ghcr.io").await.unwrap().is_none());
    let garbage = write(dir.path(), "config.json", "[1]");
    let err = DockerConfigProvider::at(garbage)
        .credentials("ghcr.io")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a JSON object"));
}

#[cfg(unix)]
#[tokio::test]
async fn credential_helpers_and_store() {
    use std::os::unix::fs::PermissionsExt;
    let _turn = SCRIPTS.lock().await;
    let dir = tempfile::tempdir().unwrap();
    // A helper that answers for ghcr.io, says "not found" otherwise, and logs what it was asked.
    let helper = write(
        dir.path(),
        "docker-credential-test",
        &format!(
            "#!/bin/sh\nread host\necho \"$1 $host\" >> {log}\n\
             if [ \"$host\" = ghcr.io ]; then echo '{{\"ServerURL\":\"ghcr.io\",\"Username\":\"helper-user\",\"Secret\":\"helper-secret\"}}'; \
             elif [ \"$host\" = token.example ]; then echo '{{\"Username\":\"<token>\",\"Secret\":\"refresh\"}}'; \
             elif [ \"$host\" = broken.example ]; then echo 'keychain locked' >&2; exit 3; \
             else echo 'credentials not found in native keychain'; exit 1; fi\n",
            log = dir.path().join("log").display()
        ),
    );
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = write(
        dir.path(),
        "config.json",
        &format!(
            r#"{{"credsStore": "test", "credHelpers": {{"special.example": "missing"}},
                "auths": {{"inline.example": {{"auth": "{}"}}}}}}"#,
            STANDARD.encode("in:line")
        ),
    );
    let provider = DockerConfigProvider::at(&config).helper_dir(dir.path());
    let found = provider.credentials("ghcr.io").await.unwrap().unwrap();
    assert_eq!(found.username(), Some("helper-user"));
    let token = provider
        .credentials("token.example")
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(token, Credentials::IdentityToken { .. }));
    // The store has nothing: fall back to the inline entry.
    let inline = provider
        .credentials("inline.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inline.username(), Some("in"));
    let err = provider.credentials("broken.example").await.unwrap_err();
    assert!(err.to_string().contains("keychain locked"), "{err}");
    let err = provider.credentials("special.example").await.unwrap_err();
    assert!(
        err.to_string().contains("docker-credential-missing"),
        "{err}"
    );
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(log.starts_with("get ghcr.io\n"), "{log}");
}

#[cfg(unix)]
#[tokio::test]
async fn credential_helpers_are_found_on_path() {
    use std::os::unix::fs::PermissionsExt;
    let _turn = SCRIPTS.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = write(
        &bin,
        "docker-credential-onpath",
        "#!/bin/sh\nread host\n\
         echo \"{\\\"Username\\\":\\\"path-user\\\",\\\"Secret\\\":\\\"for-$host\\\"}\"\n",
    );
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = write(dir.path(), "config.json", r#"{"credsStore": "onpath"}"#);
    let path =
        std::env::join_paths([bin.as_path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    let provider = DockerConfigProvider::at(&config).helper_path(path);
    let found = provider.credentials("ghcr.io").await.unwrap().unwrap();
    assert_eq!(found.username(), Some("path-user"));
    assert_eq!(
        found.basic_authorization().unwrap().to_str().unwrap(),
        format!("Basic {}", STANDARD.encode("path-user:for-ghcr.io"))
    );
    // The same config without that folder on PATH: docker's own error.
    let err = DockerConfigProvider::at(&config)
        .helper_path("/nonexistent")
        .credentials("ghcr.io")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("on PATH"), "{err}");
}

#[test]
fn debug_shows_hosts_but_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let auth = STANDARD.encode("octocat:ghp_inline_secret");
    let path = write(
        dir.path(),
        "config.json",
        &format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{auth}"}},
                "other.example": {{"username": "u", "password": "plain_secret", "identitytoken": "id_secret"}}}},
                "credsStore": "desktop"}}"#
        ),
    );
    let mut config = DockerConfig::load(&path).unwrap();
    config.store(
        "new.example",
        "u",
        &SecretString::from("stored_secret".to_owned()),
    );
    let shown = format!("{config:?}");
    assert!(
        shown.contains("ghcr.io") && shown.contains("desktop"),
        "{shown}"
    );
    for secret in [
        auth.as_str(),
        "ghp_inline_secret",
        "plain_secret",
        "id_secret",
        "stored_secret",
    ] {
        assert!(!shown.contains(secret), "`{secret}` leaked: {shown}");
    }
    let stored = STANDARD.encode("u:stored_secret");
    assert!(!shown.contains(&stored), "{shown}");
}

#[test]
fn store_writes_what_docker_login_writes_and_keeps_other_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "config.json",
        r#"{"auths":{"https://ghcr.io/":{"auth":"b2xkOm9sZA=="}},"psFormat":"x"}"#,
    );
    let mut config = DockerConfig::load(&path).unwrap();
    config.store(
        "ghcr.io",
        "octocat",
        &SecretString::from("ghp_new".to_owned()),
    );
    config.save().unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written["psFormat"], "x");
    assert_eq!(written["auths"].as_object().unwrap().len(), 1);
    assert_eq!(
        written["auths"]["ghcr.io"]["auth"],
        STANDARD.encode("octocat:ghp_new")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let mut reread = DockerConfig::load(&path).unwrap();
    assert!(reread.remove("ghcr.io"));
    assert!(!reread.remove("ghcr.io"));
}

#[cfg(unix)]
#[test]
fn save_does_not_follow_a_symlink_planted_at_a_temporary_name() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let victim = write(dir.path(), "victim", "untouched");
    let path = dir.path().join("config.json");
    // The fixed name the writer used to write through.
    std::os::unix::fs::symlink(&victim, dir.path().join("config.json.tmp")).unwrap();
    let mut config = DockerConfig::load(&path).unwrap();
    config.store(
        "ghcr.io",
        "octocat",
        &SecretString::from("ghp_x".to_owned()),
    );
    config.save().unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let metadata = std::fs::symlink_metadata(&path).unwrap();
    assert!(metadata.file_type().is_file(), "{metadata:?}");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let reread = DockerConfig::load(&path).unwrap();
    assert!(reread.inline_credentials("ghcr.io").unwrap().is_some());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `docker login` keeps Docker Hub under `https://index.docker.io/v1/`;
/// requests go to `registry-1.docker.io` and references say `docker.io`:
/// all three find those credentials, and storing replaces that entry.
#[tokio::test]
async fn docker_hub_credentials_answer_to_every_name_of_docker_hub() {
    let dir = tempfile::tempdir().unwrap();
    let auth = STANDARD.encode("hubuser:dckr_pat_one");
    let path = write(
        dir.path(),
        "config.json",
        &format!(r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{auth}"}}}}}}"#),
    );
    let provider = DockerConfigProvider::at(&path);
    for host in ["registry-1.docker.io", "docker.io", "index.docker.io"] {
        let found = provider.credentials(host).await.unwrap();
        assert_eq!(found.unwrap().username(), Some("hubuser"), "{host}");
    }
    assert!(provider.credentials("ghcr.io").await.unwrap().is_none());
    let mut config = DockerConfig::load(&path).unwrap();
    config.store(
        "docker.io",
        "hubuser",
        &SecretString::from("dckr_pat_two".to_owned()),
    );
    config.save().unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let auths = written["auths"].as_object().unwrap();
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert_eq!(
        auths["https://index.docker.io/v1/"]["auth"],
        STANDARD.encode("hubuser:dckr_pat_two")
    );
}
