//! Artifacts shared with oras-py (PyPI `oras`, pinned by ghcr-sim's
//! `ORAS_PY_VERSION`): what we push, oras-py pulls; what oras-py pushes
//! (`path:mediatype` files), we pull, with the digest it reports.

use ghcr_registry::{ArtifactFile, ArtifactPush, RegistryClient, TransferOptions};
use ghcr_types::{Digest, Reference};
use tempfile::TempDir;

use crate::support::{self, Auth, Registry};

support::in_both_modes!(oras_py_pulls_what_we_push, we_pull_what_oras_py_pushes);

/// `push TARGET FILE...` prints the manifest digest the registry answered;
/// `pull TARGET DIR` prints the paths written. Signs in first when given
/// a user (oras-py then fetches its tokens from the registry's issuer).
///
/// oras-py keeps its first token and fetches another only after a 403,
/// but distribution answers a token without `push` with a 401; so before
/// a push the script opens an upload session, whose challenge asks for
/// `pull,push`, and the token it keeps can push.
const SCRIPT: &str = r#"
import sys
import oras.client

mode, host, target, user, password = sys.argv[1:6]
rest = sys.argv[6:]
client = oras.client.OrasClient(hostname=host, insecure=True)
if user:
    client.login(username=user, password=password, hostname=host)
    if mode == "push":
        uploads = client.get_container(target).upload_blob_url()
        client.do_request(f"{client.prefix}://{uploads}", "POST")
if mode == "push":
    response = client.push(files=rest, target=target, disable_path_validation=True)
    print(response.headers["Docker-Content-Digest"])
else:
    for path in client.pull(target=target, outdir=rest[0]):
        print(path)
"#;

/// Runs the script against `registry`; its failure (or a missing venv,
/// with the install command) fails the test.
async fn oras_py(registry: &Registry, mode: &str, target: &str, rest: &[&str]) -> String {
    let (user, password) = registry.credentials().unwrap_or_default();
    let mut args = vec![mode, registry.host(), target, user, password];
    args.extend(rest);
    let stdout = ghcr_sim::peers::oras_py(SCRIPT, &args)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    String::from_utf8(stdout).unwrap()
}

/// A registry, a client, `target` on it, and a folder for the files.
async fn start(auth: Auth, target: &str) -> (Registry, RegistryClient, Reference, TempDir) {
    let registry = support::registry(auth).await;
    let client = support::client_for(&[&registry]).build().unwrap();
    let target = registry.reference(target).unwrap();
    (registry, client, target, tempfile::tempdir().unwrap())
}

async fn oras_py_pulls_what_we_push(auth: Auth) {
    let (registry, client, target, src) = start(auth, "team/ours:v1").await;
    let files = [
        ("data.bin", support::data(200_000, 5).to_vec()),
        ("readme.md", b"# pushed by ghcr-registry\n".to_vec()),
    ];
    let mut push = ArtifactPush::new();
    for (name, bytes) in &files {
        std::fs::write(src.path().join(name), bytes).unwrap();
        push = push.file(
            ArtifactFile::new(src.path().join(name)).media_type("text/plain".parse().unwrap()),
        );
    }
    client
        .push_artifact(&target, push, &TransferOptions::new())
        .await
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let out_text = out.path().display().to_string();
    let printed = oras_py(&registry, "pull", &target.to_string(), &[&out_text]).await;
    assert_eq!(printed.lines().count(), 2, "{printed}");
    for (name, bytes) in &files {
        assert_eq!(
            &std::fs::read(out.path().join(name)).unwrap(),
            bytes,
            "{name}"
        );
    }
}

async fn we_pull_what_oras_py_pushes(auth: Auth) {
    let (registry, client, target, src) = start(auth, "team/theirs:v1").await;
    let files = [
        ("layer.tar", support::data(150_000, 9).to_vec(), None),
        (
            "config.yaml",
            b"key: value\n".to_vec(),
            Some("application/vnd.example.config.v1+yaml"),
        ),
    ];
    let mut args = Vec::new();
    for (name, bytes, media_type) in &files {
        let path = src.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        args.push(match media_type {
            Some(media_type) => format!("{}:{media_type}", path.display()),
            None => path.display().to_string(),
        });
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let printed = oras_py(&registry, "push", &target.to_string(), &args).await;
    let reported = Digest::parse(printed.trim()).unwrap();
    assert_eq!(client.resolve_digest(&target).await.unwrap(), reported);

    let out = tempfile::tempdir().unwrap();
    let pulled = client
        .pull_artifact(&target, out.path(), &TransferOptions::new())
        .await
        .unwrap();
    assert_eq!(pulled.digest, reported);
    assert_eq!(pulled.files.len(), 2);
    for ((name, bytes, media_type), file) in files.iter().zip(&pulled.files) {
        assert_eq!(file.title, *name);
        assert_eq!(
            file.media_type.as_str(),
            media_type.unwrap_or("application/vnd.oci.image.layer.v1.tar")
        );
        assert_eq!(
            &std::fs::read(out.path().join(name)).unwrap(),
            bytes,
            "{name}"
        );
    }
}
