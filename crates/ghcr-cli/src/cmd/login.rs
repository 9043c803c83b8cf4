//! `login` and `logout`: credentials in the Docker config, written the way
//! `docker login` writes them (`auths.HOST.auth`, mode 0600), checked
//! against the registry first.

use std::io::Read as _;

use ghcr::auth::DockerConfig;
use ghcr::{GhcrClient, TokenCheck};
use serde_json::json;

use crate::context::Setup;
use crate::exit::{Code, failure, usage};

/// Where the password comes from.
pub(crate) enum Password {
    /// Given on the command line.
    Argument(String),
    /// Read from stdin.
    Stdin,
}

impl Password {
    pub(crate) fn from_flags(password: Option<String>, stdin: bool) -> anyhow::Result<Self> {
        match (password, stdin) {
            (Some(password), false) => Ok(Self::Argument(password)),
            (None, true) => Ok(Self::Stdin),
            _ => Err(usage(
                "give the password or token with --password-stdin (or --password)",
            )),
        }
    }

    fn read(self, setup: &Setup) -> anyhow::Result<String> {
        let password = match self {
            Self::Argument(password) => {
                setup.out.note(
                    "WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
                );
                password
            }
            Self::Stdin => {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text.trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        if password.is_empty() {
            return Err(usage("the password is empty"));
        }
        Ok(password)
    }
}

fn docker_config() -> anyhow::Result<DockerConfig> {
    let path = DockerConfig::default_path()
        .ok_or_else(|| usage("set HOME or DOCKER_CONFIG: there is no Docker config to write"))?;
    Ok(DockerConfig::load(path)?)
}

pub(crate) async fn login(
    setup: Setup,
    registry: Option<&str>,
    username: &str,
    password: Password,
) -> anyhow::Result<()> {
    let host = registry.unwrap_or(setup.registry()).to_owned();
    let password = password.read(&setup)?;
    let mut config = docker_config()?;
    // The settings read, with exactly these credentials for this registry.
    let mut check = setup
        .config()
        .clone()
        .into_builder()
        .registry(&host)
        .credentials(username, &password);
    if setup.plain_http() {
        if !ghcr::auth::is_loopback_host(&host) {
            setup.out.note(format!(
                "warning: talking plain HTTP to {host}: the password travels unencrypted"
            ));
        }
        check = check.allow_plain_http(&host);
    }
    let (status, token) = GhcrClient::new(check.build()?)?.check_registry().await;
    if token == TokenCheck::Failed || !status.ok {
        let reason = status
            .error
            .unwrap_or_else(|| "the registry refused".to_owned());
        let code = if token == TokenCheck::Failed {
            Code::Auth
        } else {
            Code::Other
        };
        return Err(failure(code, format!("login to {host} failed: {reason}")));
    }
    let password = secrecy::SecretString::from(password);
    // As docker login: through the credential helper the file names for
    // this host (credHelpers, else credsStore), else inline.
    let helper = config.store_with_helper(&host, username, &password).await?;
    if helper.is_none() {
        config.store(&host, username, &password);
    }
    config.save()?;
    let stored_in = match &helper {
        Some(helper) => format!("the `{helper}` credential helper (docker-credential-{helper})"),
        None => config.path().display().to_string(),
    };
    setup.out.result(
        || format!("Login Succeeded\ncredentials for {host} stored in {stored_in}"),
        || json!({"registry": host, "username": username, "config": config.path().display().to_string(), "helper": helper}),
    );
    Ok(())
}

pub(crate) async fn logout(setup: &Setup, registry: Option<&str>) -> anyhow::Result<()> {
    let host = registry.unwrap_or(setup.registry()).to_owned();
    let mut config = docker_config()?;
    let inline = config.inline_credentials(&host).ok().flatten().is_some();
    let removed = if let Some(held) = config.erase_with_helper(&host).await? {
        // The helper forgot it; the file loses the host's entry too.
        config.save()?;
        held || inline
    } else {
        let removed = config.remove(&host);
        if removed {
            config.save()?;
        }
        removed
    };
    setup.out.result(
        || {
            if removed {
                format!("Removing login credentials for {host}")
            } else {
                format!("Not logged in to {host}")
            }
        },
        || json!({"registry": host, "removed": removed, "config": config.path().display().to_string()}),
    );
    Ok(())
}
