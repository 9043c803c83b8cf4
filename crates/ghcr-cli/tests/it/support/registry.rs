//! Debian's docker-registry (distribution 2.8) on a free 127.0.0.1 port,
//! without auth, with a temporary storage folder and deletes enabled;
//! killed on drop. A trimmed copy of ghcr-registry's test launcher (which
//! also runs token auth); both could move into ghcr-sim as a `peers` module.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry.
pub(crate) struct Registry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry and waits until it answers.
    pub(crate) async fn start() -> Self {
        let binary = require("/usr/bin/docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: registry-test-secret\n",
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
        };
        let started = Instant::now();
        // An external process: poll its port in real time.
        while std::net::TcpStream::connect(&registry.host).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "docker-registry did not start: {}",
                std::fs::read_to_string(registry.dir.path().join("registry.log"))
                    .unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        registry
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn host(&self) -> &str {
        &self.host
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

/// The stdout of `skopeo inspect ARGS`, asserting it succeeded.
pub(crate) fn skopeo_inspect(args: &[&str]) -> Vec<u8> {
    let skopeo = require("/usr/bin/skopeo", "skopeo");
    let output = Command::new(skopeo)
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "skopeo inspect {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}
