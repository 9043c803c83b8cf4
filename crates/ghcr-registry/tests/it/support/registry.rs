//! Debian's docker-registry (distribution 2.8) on a free 127.0.0.1 port,
//! with a temporary storage folder and deletes enabled; killed on drop.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ghcr_types::Reference;

use super::token::TokenIssuer;

/// How clients authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Anyone may do anything.
    None,
    /// Bearer tokens from an in-test issuer, which wants Basic credentials.
    Token,
}

pub(crate) const USER: &str = "tester";
pub(crate) const PASSWORD: &str = "s3cret-password";

/// A running registry.
pub(crate) struct Registry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
    issuer: Option<TokenIssuer>,
}

impl Registry {
    /// Starts a registry and waits until it answers.
    pub(crate) async fn start(auth: Auth) -> Self {
        let binary = require("/usr/bin/docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let issuer = match auth {
            Auth::None => None,
            Auth::Token => Some(TokenIssuer::start(USER, PASSWORD).await),
        };
        let auth_section = issuer.as_ref().map_or_else(String::new, |issuer| {
            let bundle = dir.path().join("root.pem");
            std::fs::write(&bundle, issuer.certificate_pem()).unwrap();
            format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                issuer.realm(),
                TokenIssuer::SERVICE,
                TokenIssuer::ISSUER,
                bundle.display()
            )
        });
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: registry-test-secret\n{auth_section}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let registry = Self {
            child,
            host: format!("127.0.0.1:{port}"),
            dir,
            issuer,
        };
        registry.wait_until_ready().await;
        registry
    }

    async fn wait_until_ready(&self) {
        let started = Instant::now();
        // An external process: poll the port in real time.
        while std::net::TcpStream::connect(&self.host).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "docker-registry did not start: {}",
                std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The Basic credentials the token issuer accepts, in token mode.
    pub(crate) fn credentials(&self) -> Option<(&'static str, &'static str)> {
        self.issuer.as_ref().map(|_| (USER, PASSWORD))
    }

    /// The token issuer, in token mode.
    pub(crate) fn issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// `<host>/<path>` parsed.
    pub(crate) fn reference(&self, path: &str) -> Reference {
        Reference::parse(&format!("{}/{path}", self.host)).unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fails with the install command when an external binary is missing.
pub(crate) fn require(binary: &str, package: &str) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(binary);
    assert!(
        path.exists(),
        "{binary} is missing; install it with `apt-get install -y {package}`"
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
