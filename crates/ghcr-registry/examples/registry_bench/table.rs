//! The cells as two Markdown tables (transfers, then latency rows), then
//! the targets, as one text: printed, and the body of
//! `report.md`. The best run is shown beside the median because the other
//! engineers' builds on this shared machine disturb it least.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::access::short;
use crate::orchestrate::Sample;
use crate::plan::{LAYERS, Row, Sizes, Task, Tool, human};
use crate::stats::{Cell, cells};

fn or_dash(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

pub(crate) fn render(
    rows: &[Row<'_>],
    samples: &BTreeMap<usize, Vec<Sample>>,
    sizes: Sizes,
) -> String {
    let cells = cells(rows, samples, sizes);
    let mut out = String::new();
    out.push_str(
        "| row | tool | wall s (median) | best s | MB/s | peak RSS MiB | CPU s | token requests | requests | ours / this |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for c in cells.iter().filter(|c| !c.latency) {
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {} | {:.1} | {:.2} | {} | {} | {} |",
            c.row,
            c.tool.name(),
            c.wall,
            c.best,
            or_dash(c.mb_per_s, 0),
            c.rss_mib,
            c.cpu,
            c.tokens,
            short(&c.requests),
            or_dash(c.ratio, 2)
        );
    }
    out.push_str("\n| latency row | tool | p50 ms | p99 ms | token requests | requests | wall s | peak RSS MiB | CPU s | ours / this (p50) |\n");
    out.push_str("|---|---|---:|---:|---:|---|---:|---:|---:|---:|\n");
    for c in cells.iter().filter(|c| c.latency) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.1} | {:.2} | {} |",
            c.row,
            c.tool.name(),
            or_dash(c.p50, 2),
            or_dash(c.p99, 2),
            c.tokens,
            short(&c.requests),
            c.wall,
            c.rss_mib,
            c.cpu,
            or_dash(c.ratio, 2)
        );
    }
    out.push_str("\nours / this: below 1 is ours ahead; on our rows, ours over the best peer (oci-client or skopeo).\n");
    out.push_str("oci-client pushes 16 blobs at once (monolithic `push_blob_stream`, 1 MiB reads), pulls 16 at once with `pull_blob` (which verifies each digest), and mounts with `mount_blob`.\n");
    out.push_str("On the open registry oci-client sends `GET /v2/` before every call (it has no token to cache); docker-registry 2.8 ignores `n` and `last`, so a tag list is one page either way.\n");
    out.push_str("Every transfer row runs on a fresh registry; pulls, repeat pushes and copies on one our client seeded first (untimed), so skopeo's blob-info cache knows no source to mount from and its copy moves the bytes.\n");
    out.push_str("requests: what the registry's access log shows for the row; token requests go to the issuer, not the registry.\n\n");
    targets(&mut out, &cells, sizes);
    out
}

fn targets(out: &mut String, cells: &[Cell], sizes: Sizes) {
    let find = |task: Task, tool: Tool| {
        let name = task.name(sizes);
        cells.iter().find(|c| c.row == name && c.tool == tool)
    };
    let wall = |task, tool| find(task, tool).map_or(f64::NAN, |c| c.wall);
    let (one, each) = (sizes.one as f64, sizes.each as f64);
    if !sizes.is_full() {
        out.push_str("(--quick sizes: the targets below are for 1 GiB, 16 x 64 MiB, 1,000 calls and 10,000 tags)\n");
    }
    let ours = |task| wall(task, Tool::Ours);
    // A target whose rows `--only` left out is not shown.
    let measured = |values: &[f64]| values.iter().all(|v| v.is_finite());
    let (push, curl_push) = (ours(Task::PushOne), wall(Task::PushOne, Tool::Curl));
    if measured(&[push, curl_push]) {
        let _ = writeln!(
            out,
            "push {}: {:+.1} % vs the curl ceiling (target: within 5 %)",
            human(sizes.one),
            (push / curl_push - 1.0) * 100.0
        );
    }
    let (many, oci_many) = (ours(Task::PushMany), wall(Task::PushMany, Tool::OciClient));
    if measured(&[many, oci_many, push]) {
        let _ = writeln!(
            out,
            "push {LAYERS} x {}: ours {many:.2} s, oci-client {oci_many:.2} s (target: ahead of oci-client); vs one stream: {:.0} MB/s vs {:.0} MB/s",
            human(sizes.each),
            LAYERS as f64 * each / many / 1e6,
            one / push / 1e6
        );
    }
    let pull = ours(Task::PullOne);
    let (curl, synced) = (
        wall(Task::PullOne, Tool::Curl),
        wall(Task::PullOne, Tool::CurlSynced),
    );
    if measured(&[pull, curl, synced]) {
        let _ = writeln!(
            out,
            "pull {} verified: {pull:.2} s, {:.2} x curl to a file ({curl:.2} s; target: within 1.1 x); {:.2} x curl then fsync ({synced:.2} s)",
            human(sizes.one),
            pull / curl,
            pull / synced,
        );
    }
    let p99 = |task, tool| find(task, tool).and_then(|c| c.p99).unwrap_or(f64::NAN);
    let (head, registry) = (
        p99(Task::ManifestHead, Tool::Ours),
        p99(Task::ManifestHead, Tool::Curl),
    );
    if measured(&[head, registry]) {
        let _ = writeln!(
            out,
            "manifest HEAD p99: {head:.2} ms (target: under 2 ms; curl on one connection, the registry alone: {registry:.2} ms)"
        );
    }
    let tags = p99(Task::TagList, Tool::Ours);
    if measured(&[tags]) {
        let _ = writeln!(out, "tag list p99: {tags:.2} ms (target: under 50 ms)");
    }
    let peak = cells
        .iter()
        .filter(|c| c.tool == Tool::Ours)
        .map(|c| c.rss_mib)
        .fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "peak RSS of our rows: {peak:.1} MiB (target: at most 64 MiB)"
    );
    if let Some(c) = find(Task::RepeatPush, Tool::Ours) {
        let mut parts = c.output.split(' ');
        let _ = writeln!(
            out,
            "repeat push: {} blob bytes sent, {} request body bytes in all (manifests only)",
            parts.next().unwrap_or("?"),
            parts.next().unwrap_or("?")
        );
    }
}
