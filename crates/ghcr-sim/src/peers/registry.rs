//! Debian's docker-registry on a free 127.0.0.1 port under a supervisor
//! that stops it when this process lets go of it (see the module docs).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use ghcr_types::Reference;

use super::http;
use super::token::TokenIssuer;
use super::tools::require;

/// Where Debian's docker-registry lives.
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// The user the token issuer of an [`Auth::Token`] registry accepts.
pub const USER: &str = "tester";

/// That user's password (a test value, not a secret).
pub const PASSWORD: &str = "s3cret-password";

/// How clients authenticate to a [`DockerRegistry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// Anyone may do anything.
    None,
    /// Bearer tokens from a [`TokenIssuer`] that wants Basic [`USER`] and
    /// [`PASSWORD`].
    Token,
}

/// Runs the registry (`$0 "$@"`) with the lifeline on stdin: when it
/// closes, the registry is stopped; when the registry stops, so does the
/// supervisor. Asynchronous lists get `/dev/null` on fd 0, so the lifeline
/// travels to the watcher on fd 3, which the registry does not inherit.
const SUPERVISOR: &str = r#"exec 3<&0
"$0" "$@" </dev/null 3<&- &
pid=$!
{ read _ <&3; kill "$pid" 2>/dev/null; } &
watcher=$!
exec 3<&-
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
exit "$status""#;

/// The response header that tells our registry from whatever else might
/// answer on a recycled port.
const PEER_HEADER: &str = "x-ghcr-sim-peer";

const LOG_FILE: &str = "registry.log";
const READY_WITHIN: Duration = Duration::from_secs(15);
const PORT_ATTEMPTS: usize = 3;

/// A running docker-registry; stopped (and its storage removed) on drop.
pub struct DockerRegistry {
    supervisor: Child,
    lifeline: Option<ChildStdin>,
    host: String,
    dir: tempfile::TempDir,
    issuer: Option<TokenIssuer>,
    ca_pem: Option<String>,
}

impl fmt::Debug for DockerRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerRegistry")
            .field("host", &self.host)
            .field("issuer", &self.issuer)
            .field("tls", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a start did not lead to a ready registry.
pub(super) enum NotReady {
    /// Something else holds the port: try another.
    PortTaken(io::Error),
    /// Anything else.
    Failed(io::Error),
}

impl DockerRegistry {
    /// Starts a registry on plain HTTP and waits until it answers `/v2/`.
    ///
    /// # Errors
    ///
    /// When `/usr/bin/docker-registry` is missing (the message says
    /// `apt-get install -y docker-registry`), when it does not come up
    /// within 15 seconds or stops (the message has its log), and for the
    /// temporary folder's and token issuer's I/O errors.
    pub async fn start(auth: Auth) -> io::Result<Self> {
        Self::launch(auth, false, false).await
    }

    /// Starts a registry as [`DockerRegistry::start`] does, with its access
    /// log on: every request is a line of [`DockerRegistry::log`], which
    /// [`DockerRegistry::requests_since`] counts by method.
    ///
    /// # Errors
    ///
    /// As [`DockerRegistry::start`].
    pub async fn start_with_access_log(auth: Auth) -> io::Result<Self> {
        Self::launch(auth, false, true).await
    }

    /// Starts a registry that serves HTTPS only, with a certificate for
    /// `127.0.0.1` and `localhost` from a CA made for it alone: clients
    /// refuse it until they trust [`DockerRegistry::ca_pem`].
    ///
    /// # Errors
    ///
    /// As [`DockerRegistry::start`], and when the certificate cannot be
    /// made.
    pub async fn start_tls(auth: Auth) -> io::Result<Self> {
        Self::launch(auth, true, false).await
    }

    async fn launch(auth: Auth, tls: bool, access_log: bool) -> io::Result<Self> {
        let binary = require(DOCKER_REGISTRY, "docker-registry")?;
        let issuer = match auth {
            Auth::None => None,
            Auth::Token => Some(TokenIssuer::start(USER, PASSWORD).await?),
        };
        let dir = tempfile::Builder::new()
            .prefix("ghcr-sim-registry-")
            .tempdir()?;
        if let Some(issuer) = &issuer {
            std::fs::write(dir.path().join("root.pem"), issuer.certificate_pem())?;
        }
        let ca_pem = if tls {
            Some(write_server_certificate(dir.path())?)
        } else {
            None
        };
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let host = format!("127.0.0.1:{port}");
            let nonce = format!("{:016x}", fastrand::u64(..));
            let config_path = dir.path().join("config.yml");
            let settings = Settings {
                dir: dir.path(),
                port,
                nonce: &nonce,
                issuer: issuer.as_ref(),
                tls,
                access_log,
            };
            std::fs::write(&config_path, config(&settings))?;
            let mut supervisor = spawn(&binary, &config_path, dir.path(), Stdio::piped())?;
            let Some(lifeline) = supervisor.stdin.take() else {
                stop(&mut supervisor, None);
                return Err(io::Error::other("the supervisor got no stdin pipe"));
            };
            match wait_until_ready(&mut supervisor, &host, &settings).await {
                Ok(()) => {
                    return Ok(Self {
                        supervisor,
                        lifeline: Some(lifeline),
                        host,
                        dir,
                        issuer,
                        ca_pem,
                    });
                }
                Err(not_ready) => {
                    stop(&mut supervisor, Some(lifeline));
                    match not_ready {
                        NotReady::PortTaken(error) => last = Some(error),
                        NotReady::Failed(error) => return Err(error),
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("docker-registry found no free port")))
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `<host>/<path>` as a reference, such as `team/app:v1`.
    ///
    /// # Errors
    ///
    /// When `path` does not make a valid reference.
    pub fn reference(&self, path: &str) -> ghcr_types::Result<Reference> {
        Reference::parse(&format!("{}/{path}", self.host))
    }

    /// The Basic credentials the token issuer accepts, with [`Auth::Token`].
    pub fn credentials(&self) -> Option<(&'static str, &'static str)> {
        self.issuer.as_ref().map(|_| (USER, PASSWORD))
    }

    /// The token issuer, with [`Auth::Token`].
    pub fn issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// The PEM of the CA that signed the registry's certificate, for a
    /// registry from [`DockerRegistry::start_tls`].
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The folder the registry stores content in.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// What the registry logged so far: errors, and with
    /// [`DockerRegistry::start_with_access_log`] a line per request.
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// How long the log is now, in bytes: where
    /// [`DockerRegistry::requests_since`] starts counting.
    pub fn log_offset(&self) -> usize {
        self.log().len()
    }

    /// The requests the access log shows after byte `offset`, by method
    /// (empty without [`DockerRegistry::start_with_access_log`]).
    pub fn requests_since(&self, offset: usize) -> BTreeMap<String, usize> {
        let log = self.log();
        super::access::count_methods(log.get(offset..).unwrap_or_default())
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            if !log.trim().is_empty() {
                // Shown with the failing test's output, and only then.
                eprintln!("docker-registry at {} logged:\n{log}", self.host);
            }
        }
        stop(&mut self.supervisor, self.lifeline.take());
    }
}

/// What one start of the registry is configured with.
pub(super) struct Settings<'a> {
    pub(super) dir: &'a Path,
    pub(super) port: u16,
    pub(super) nonce: &'a str,
    pub(super) issuer: Option<&'a TokenIssuer>,
    /// HTTPS with `server.pem` and `server.key` from `dir`.
    pub(super) tls: bool,
    /// The access log on (into the log file).
    pub(super) access_log: bool,
}

/// The registry's configuration: filesystem storage in `dir`, deletes on,
/// no upload purging, the access log only when asked, our header on every
/// answer, token auth when there is an issuer, and HTTPS when asked.
pub(super) fn config(settings: &Settings<'_>) -> String {
    let Settings {
        dir,
        port,
        nonce,
        issuer,
        tls,
        access_log,
    } = settings;
    let auth = issuer.map_or_else(String::new, |issuer| {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            issuer.realm(),
            TokenIssuer::SERVICE,
            TokenIssuer::ISSUER,
            dir.join("root.pem").display()
        )
    });
    let tls = if *tls {
        format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            dir.join(SERVER_CERTIFICATE).display(),
            dir.join(SERVER_KEY).display()
        )
    } else {
        String::new()
    };
    let disabled = !access_log;
    format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: {disabled}\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: registry-test-secret\n  headers:\n    X-Ghcr-Sim-Peer: [\"{nonce}\"]\n{tls}{auth}",
        dir.join("data").display()
    )
}

const SERVER_CERTIFICATE: &str = "server.pem";
const SERVER_KEY: &str = "server.key";

/// Makes a CA and a server certificate it signs for `127.0.0.1` and
/// `localhost`, writes the server's certificate and key into `dir`, and
/// returns the CA's PEM (what a client must trust).
fn write_server_certificate(dir: &Path) -> io::Result<String> {
    let failed = |error: rcgen::Error| io::Error::other(format!("test certificate: {error}"));
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ghcr-sim test CA");
    let ca = ca_params.self_signed(&ca_key).map_err(failed)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let server =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(failed)?
            .signed_by(&server_key, &issuer)
            .map_err(failed)?;
    std::fs::write(dir.join(SERVER_CERTIFICATE), server.pem())?;
    std::fs::write(dir.join(SERVER_KEY), server_key.serialize_pem())?;
    Ok(ca.pem())
}

/// Starts the supervised registry with `lifeline` on the supervisor's
/// stdin, its output into the log file.
pub(super) fn spawn(
    binary: &Path,
    config: &Path,
    dir: &Path,
    lifeline: Stdio,
) -> io::Result<Child> {
    let log = File::create(dir.join(LOG_FILE))?;
    Command::new("/bin/sh")
        .arg("-c")
        .arg(SUPERVISOR)
        .arg(binary)
        .arg("serve")
        .arg(config)
        .stdin(lifeline)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
}

/// Polls `/v2/` in real time (an external process) until our registry
/// answers it.
pub(super) async fn wait_until_ready(
    supervisor: &mut Child,
    host: &str,
    settings: &Settings<'_>,
) -> Result<(), NotReady> {
    let Settings {
        dir, nonce, tls, ..
    } = *settings;
    let started = Instant::now();
    loop {
        if let Some(status) = supervisor.try_wait().map_err(NotReady::Failed)? {
            let log = read_log(dir);
            let error = io::Error::other(format!(
                "docker-registry stopped ({status}) before it answered on {host}: {log}"
            ));
            return Err(if log.contains("address already in use") {
                NotReady::PortTaken(error)
            } else {
                NotReady::Failed(error)
            });
        }
        if let Ok(answer) = http::get(host, "/v2/", &[], Duration::from_secs(2)).await {
            if matches!(answer.status, 200 | 401) && answer.header(PEER_HEADER) == Some(nonce) {
                return Ok(());
            }
            // Go's server answers plain HTTP on a TLS port with this 400;
            // the port was free a moment ago, so it is ours.
            if tls && answer.status == 400 && answer.body_text().contains("HTTPS server") {
                return Ok(());
            }
            return Err(NotReady::PortTaken(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another server answers on {host}"),
            )));
        }
        if started.elapsed() > READY_WITHIN {
            return Err(NotReady::Failed(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "docker-registry did not answer on {host} within {} s: {}",
                    READY_WITHIN.as_secs(),
                    read_log(dir)
                ),
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Closes the lifeline (the supervisor then stops the registry) and reaps
/// the supervisor, killing it if it lingers.
fn stop(supervisor: &mut Child, lifeline: Option<ChildStdin>) {
    drop(lifeline);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match supervisor.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let _ = supervisor.kill();
    let _ = supervisor.wait();
}

pub(super) fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(LOG_FILE)).unwrap_or_default()
}

pub(super) fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
