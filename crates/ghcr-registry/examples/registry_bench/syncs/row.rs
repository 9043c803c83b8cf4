//! Our side of a sync row, in its own process:
//! `registry_bench sync-row <source repo> <target repo> [images] [blobs] [resume buffer bytes]`
//! (0 or nothing: the library's default).
//! Prints one line: blob bytes uploaded, request body bytes on the wire,
//! requests sent, and the blobs uploaded/existing/mounted.

use ghcr_registry::{RegistryClient, SyncOptions, TransferOptions};
use ghcr_transport::Transport;
use ghcr_types::Reference;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(row(args))
}

async fn row(args: &[String]) -> Result<(), String> {
    let reference = |i: usize| {
        let text = args.get(i).ok_or("missing repository")?;
        Reference::parse(text).map_err(|e| e.to_string())
    };
    let (source, target) = (reference(0)?, reference(1)?);
    let transport = Transport::builder()
        .allow_plain_http(source.registry())
        .allow_plain_http(target.registry())
        .build()
        .map_err(|e| e.to_string())?;
    let mut metrics = prometheus_client::registry::Registry::default();
    transport.register_metrics(&mut metrics);
    let number = |i: usize| args.get(i).and_then(|n| n.parse().ok()).filter(|n| *n > 0);
    let mut builder = RegistryClient::builder(transport);
    if let Some(bytes) = number(4) {
        builder = builder.resume_buffer(bytes);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let options = match number(2) {
        Some(images) => SyncOptions::new().concurrency(images),
        None => SyncOptions::new(),
    };
    let transfer = match number(3) {
        Some(blobs) => TransferOptions::new().concurrency(blobs),
        None => TransferOptions::new(),
    };
    let plan = client
        .plan_sync(&source, &target, &options)
        .await
        .map_err(|e| e.to_string())?;
    let report = client.run_sync(&plan, &transfer).await;
    if let Some((tag, error)) = report.failed.first() {
        return Err(format!("{tag} failed: {error}"));
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics).map_err(|e| e.to_string())?;
    let total = |prefix: &str| -> u64 {
        text.lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let (uploaded, existed, mounted) = report.blob_counts();
    println!(
        "{} {} {} {uploaded}/{existed}/{mounted}",
        report.bytes_uploaded(),
        total("ghcr_bytes_sent_total "),
        total("ghcr_requests_total{"),
    );
    Ok(())
}
