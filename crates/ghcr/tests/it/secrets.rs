//! The Debug of every type holding a credential shows no secret: the
//! config and its builder, the clients, credentials and their providers,
//! the Docker config, the token manager and the tokens it caches, the
//! transport builder; nor does a refused sign-in's error.
//! (The transport's own Debug and tracing: ghcr-transport's `secrets.rs`;
//! the fake's types: ghcr-sim's; every command's output: ghcr-cli's.)

use std::sync::Arc;

use bytes::Bytes;
use ghcr::GhcrClient;
use ghcr::auth::{
    BoxError, BoxFuture, ChainProvider, Credentials, DockerConfig, DockerConfigProvider,
    EnvProvider, Scope, ScopeSet, StaticProvider, TokenClient, TokenManager, TokenRealm,
};
use ghcr::transport::Transport;

use crate::support::{TOKEN, USER, client, config_for, fake, reference};

/// What the token endpoint below issues.
const ISSUED_TOKEN: &str = "issued-bearer-token-9f2c";

/// A token endpoint that answers every request with [`ISSUED_TOKEN`].
#[derive(Debug)]
struct Issuer;

impl TokenClient for Issuer {
    fn send(
        &self,
        _: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, BoxError>> {
        let body = format!(r#"{{"token":"{ISSUED_TOKEN}","expires_in":300}}"#);
        Box::pin(async move { Ok(http::Response::new(Bytes::from(body))) })
    }
}

/// Fails naming the first text that holds a secret, or its Basic form.
#[track_caller]
fn assert_no_secret(printed: &[(&str, String)]) {
    let basic = ghcr_basic(USER, TOKEN);
    for (what, text) in printed {
        for secret in [TOKEN, ISSUED_TOKEN, basic.as_str()] {
            assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
        }
    }
}

/// `user:password` in base64, as a Basic header or a Docker config holds it.
fn ghcr_basic(user: &str, password: &str) -> String {
    let header = Credentials::basic(user, password)
        .basic_authorization()
        .unwrap();
    let text = header.to_str().unwrap();
    text.trim_start_matches("Basic ").to_owned()
}

#[tokio::test]
async fn config_client_and_credential_types_keep_tokens_out_of_debug() {
    let fake = fake().await;
    let builder = config_for(&fake).credentials(USER, TOKEN);
    let config = builder.clone().build().unwrap();
    assert!(config.has_token());
    let client = client(&fake);
    // Signed in and tokens cached: the client now holds more secrets.
    let image = reference(&fake, "octo/app:v1");
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    client.registry().get_manifest(&image).await.unwrap();

    let credentials = Credentials::basic(USER, TOKEN);
    let provider = StaticProvider::new(credentials.clone());
    let env = EnvProvider::new().with_lookup(|name| (name == "GHCR_TOKEN").then(|| TOKEN.into()));
    let home = tempfile::tempdir().unwrap();
    let docker_path = home.path().join("config.json");
    let auths = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        fake.registry_host(),
        ghcr_basic(USER, TOKEN)
    );
    std::fs::write(&docker_path, auths).unwrap();
    let docker = DockerConfig::load(&docker_path).unwrap();
    assert!(
        docker
            .inline_credentials(fake.registry_host())
            .unwrap()
            .is_some(),
        "the config holds the token to hide"
    );
    let chain = ChainProvider::new()
        .with(provider.clone())
        .with(env)
        .with(DockerConfigProvider::at(&docker_path));
    let transport_builder =
        Transport::builder().credentials(Arc::new(StaticProvider::new(credentials.clone())));

    let manager = TokenManager::builder(Arc::new(Issuer), Arc::new(provider.clone())).build();
    let realm = TokenRealm::new("https://registry.test/token", Some("registry.test".into()));
    let scopes = ScopeSet::single(Scope::pull("octo/app"));
    let token = manager
        .token("registry.test", &realm, &scopes)
        .await
        .unwrap();
    let header = token.authorization().unwrap();
    assert!(
        header.to_str().unwrap().ends_with(ISSUED_TOKEN),
        "the manager holds the issued token"
    );

    assert_no_secret(&[
        ("GhcrConfigBuilder", format!("{builder:?}")),
        ("GhcrConfig", format!("{config:?}")),
        ("GhcrClient", format!("{client:?}")),
        ("RegistryClient", format!("{:?}", client.registry())),
        ("PackagesClient", format!("{:?}", client.packages())),
        ("Transport", format!("{:?}", client.transport())),
        ("TransportBuilder", format!("{transport_builder:?}")),
        ("Credentials", format!("{credentials:?}")),
        ("StaticProvider", format!("{provider:?}")),
        ("ChainProvider", format!("{chain:?}")),
        ("DockerConfig", format!("{docker:?}")),
        ("TokenManager", format!("{manager:?}")),
        ("BearerToken", format!("{token:?}")),
        ("the header", format!("{header:?}")),
    ]);
}

#[tokio::test]
async fn a_refused_sign_in_names_no_secret() {
    let fake = fake().await;
    let wrong = "wrong-token-value-5e1a";
    let config = config_for(&fake).credentials(USER, wrong).build().unwrap();
    let client = GhcrClient::new(config).unwrap();
    let error = client
        .registry()
        .get_manifest(&reference(&fake, "octo/app:v1"))
        .await
        .unwrap_err();
    let printed = format!("{error}\n{error:?}");
    assert!(
        printed.contains("refused a token"),
        "a sign-in failure: {printed}"
    );
    assert!(!printed.contains(wrong), "{printed}");
    assert!(!printed.contains(&ghcr_basic(USER, wrong)), "{printed}");
}
