//! The oci-client column of `cargo xtask bench`: the rows of
//! `registry_bench row …` done with the `oci-client` crate's own API, one
//! process per row, printing the same one line.
//!
//! - `push LAYOUT_DIR REF`: each blob the registry lacks (`blob_exists`)
//!   through `push_blob_stream`, monolithic, 16 at once, then the manifest.
//! - `pull REF DIR`: the manifest, then every blob with `pull_blob` (which
//!   verifies the digest) into `DIR/blobs/sha256/`, 16 at once.
//! - `copy SRC DST`: `mount_blob` per blob, 16 at once, then the manifest.
//!
//! - `push-small LAYOUT REPO N`, `pull-small REPO N DIR`: images `i000`
//!   … of the layout pushed one after another (as `push`) to `REPO:i000`
//!   …, then pulled back (as `pull`) into `DIR/i000` …, one `Client`.
//!
//! These print `<blob bytes moved> <request body bytes sent>`.
//!
//! - `head REF N`, `get REF N`: N manifest HEADs (`fetch_manifest_digest`)
//!   or GETs (`pull_manifest_raw`), one after another.
//! - `tags REPO N PAGE`: N full tag listings, `PAGE` tags a page (`n=`,
//!   then `last=`).
//!
//! These print `<p50 ms> <p99 ms> <calls>`.
//!
//! The registry is plain HTTP (`ClientProtocol::Http`); `BENCH_USER` and
//! `BENCH_PASSWORD` give Basic credentials for a token-auth registry.

mod latency;
mod layout;
mod small;
mod transfer;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

/// Blobs in flight at once: oci-client's own default for push and pull.
pub(crate) const CONCURRENCY: usize = 16;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|runtime| runtime.block_on(run(&args)));
    match outcome {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("oci-client-peer: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<String, String> {
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument {i}; see the crate docs"))
    };
    let number = |i: usize| -> Result<usize, String> {
        arg(i)?.parse().map_err(|e| format!("argument {i}: {e}"))
    };
    let peer = Peer::new()?;
    match arg(0)? {
        "push" => transfer::push(&peer, arg(1)?.as_ref(), &reference(arg(2)?)?).await,
        "pull" => transfer::pull(&peer, &reference(arg(1)?)?, arg(2)?.as_ref()).await,
        "copy" => transfer::copy(&peer, &reference(arg(1)?)?, &reference(arg(2)?)?).await,
        "push-small" => small::push(&peer, arg(1)?.as_ref(), arg(2)?, number(3)?).await,
        "pull-small" => small::pull(&peer, arg(1)?, number(2)?, arg(3)?.as_ref()).await,
        "head" => latency::head(&peer, &reference(arg(1)?)?, number(2)?).await,
        "get" => latency::get(&peer, &reference(arg(1)?)?, number(2)?).await,
        "tags" => latency::tags(&peer, &reference(arg(1)?)?, number(2)?, number(3)?).await,
        other => Err(format!("unknown row `{other}`")),
    }
}

fn reference(text: &str) -> Result<Reference, String> {
    text.parse().map_err(|e| format!("`{text}`: {e}"))
}

/// The client and the credentials every call passes.
pub(crate) struct Peer {
    pub(crate) client: Client,
    pub(crate) auth: RegistryAuth,
}

impl Peer {
    fn new() -> Result<Self, String> {
        // reqwest's rustls wants a process-wide provider; none is used on
        // plain HTTP, but the client cannot be built without one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = ClientConfig {
            protocol: ClientProtocol::Http,
            use_monolithic_push: true,
            max_concurrent_upload: CONCURRENCY,
            max_concurrent_download: CONCURRENCY,
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| e.to_string())?;
        let auth = match (std::env::var("BENCH_USER"), std::env::var("BENCH_PASSWORD")) {
            (Ok(user), Ok(password)) => RegistryAuth::Basic(user, password),
            _ => RegistryAuth::Anonymous,
        };
        Ok(Self { client, auth })
    }

    /// Stores the credentials for `image`'s registry, which the blob calls
    /// (unlike the manifest calls) do not do themselves.
    pub(crate) async fn sign_in(&self, image: &Reference) {
        self.client
            .store_auth_if_needed(image.resolve_registry(), &self.auth)
            .await;
    }
}
