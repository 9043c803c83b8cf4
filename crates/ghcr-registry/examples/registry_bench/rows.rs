//! Our rows, one per process: push a layout, pull into a layout, copy,
//! and push or pull many small images (`small.rs`) with one client.
//! Each prints one line: the blob bytes its report counts and the body
//! bytes the transport put on the wire. `head`, `get` and `tags` are the
//! latency rows (see `latency.rs`).

use std::path::Path;
use std::sync::Arc;

use ghcr_registry::{RegistryClient, TransferOptions, UploadMode};
use ghcr_transport::Transport;
use ghcr_transport::ghcr_auth::{Credentials, StaticProvider};
use ghcr_types::Reference;

use crate::latency;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    match args.first().map(String::as_str) {
        Some("head" | "get" | "tags") => runtime.block_on(latency::row(args)),
        Some("curl-head") => latency::curl_head(args),
        _ => runtime.block_on(row(args)),
    }
}

/// A client for `host` over plain HTTP, signed in with `BENCH_USER` and
/// `BENCH_PASSWORD` when both are set, and its transport's metrics.
pub(crate) fn client(host: &str) -> Result<(RegistryClient, Metrics), String> {
    match (std::env::var("BENCH_USER"), std::env::var("BENCH_PASSWORD")) {
        (Ok(user), Ok(password)) => client_with(host, Some((&user, &password))),
        _ => client_with(host, None),
    }
}

/// The transport's metrics (bytes sent).
pub(crate) type Metrics = prometheus_client::registry::Registry;

/// A client for `host` over plain HTTP, signed in as `credentials`.
pub(crate) fn client_with(
    host: &str,
    credentials: Option<(&str, &str)>,
) -> Result<(RegistryClient, Metrics), String> {
    let mut builder = Transport::builder().allow_plain_http(host);
    if let Some((user, password)) = credentials {
        builder = builder.credentials(Arc::new(StaticProvider::new(Credentials::basic(
            user, password,
        ))));
    }
    let transport = builder.build().map_err(|e| e.to_string())?;
    let mut metrics = Metrics::default();
    transport.register_metrics(&mut metrics);
    let mut client = RegistryClient::builder(transport);
    // `BENCH_UPLOAD=monolithic`: one PUT `?digest=` with the streamed body
    // per blob, as oci-client's monolithic push sends it.
    if std::env::var("BENCH_UPLOAD").as_deref() == Ok("monolithic") {
        client = client.upload_mode(UploadMode::Monolithic);
    }
    Ok((client.build().map_err(|e| e.to_string())?, metrics))
}

async fn row(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or("missing argument");
    let reference = |text: &str| Reference::parse(text).map_err(|e| e.to_string());
    let (client, metrics) = client(reference(arg(2)?)?.registry())?;
    let count = |i: usize| -> Result<usize, String> {
        arg(i)?.parse().map_err(|e| format!("argument {i}: {e}"))
    };
    // An optional last argument: blobs at once (the client's 4 otherwise);
    // the small-image rows' count is theirs.
    let small = arg(0)?.ends_with("-small");
    let options = match args.get(3).filter(|_| !small).and_then(|n| n.parse().ok()) {
        Some(concurrency) => TransferOptions::new().concurrency(concurrency),
        None => TransferOptions::new(),
    };
    let moved = match arg(0)? {
        // push <layout> <target> [concurrency]
        "push" => {
            let report = client
                .push_layout(
                    Path::new(arg(1)?),
                    Some("v1"),
                    &reference(arg(2)?)?,
                    &options,
                )
                .await
                .map_err(|e| e.to_string())?;
            report.bytes_uploaded()
        }
        // pull <dir> <source>
        "pull" => {
            let report = client
                .pull_to_layout(&reference(arg(2)?)?, Path::new(arg(1)?), &options)
                .await
                .map_err(|e| e.to_string())?;
            report.bytes_downloaded
        }
        // push-small <layout> <repository> <count>: tags i000, …
        "push-small" => {
            let mut moved = 0;
            for n in 0..count(3)? {
                let tag = crate::small::tag(n);
                let target = reference(&format!("{}:{tag}", arg(2)?))?;
                let report = client
                    .push_layout(Path::new(arg(1)?), Some(&tag), &target, &options)
                    .await
                    .map_err(|e| e.to_string())?;
                moved += report.bytes_uploaded();
            }
            moved
        }
        // pull-small <dir> <repository> <count>: each into <dir>/<tag>
        "pull-small" => {
            let mut moved = 0;
            for n in 0..count(3)? {
                let tag = crate::small::tag(n);
                let source = reference(&format!("{}:{tag}", arg(2)?))?;
                let report = client
                    .pull_to_layout(&source, &Path::new(arg(1)?).join(&tag), &options)
                    .await
                    .map_err(|e| e.to_string())?;
                moved += report.bytes_downloaded;
            }
            moved
        }
        // copy <source> <target>
        "copy" => {
            let report = client
                .copy_image(&reference(arg(1)?)?, &reference(arg(2)?)?, &options)
                .await
                .map_err(|e| e.to_string())?;
            report.blobs.iter().map(|b| b.size).sum()
        }
        other => return Err(format!("unknown row `{other}`")),
    };
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics).map_err(|e| e.to_string())?;
    let wire = text
        .lines()
        .find_map(|line| line.strip_prefix("ghcr_bytes_sent_total "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    println!("{moved} {wire}");
    Ok(())
}
