//! The medians (and the best run, which the other engineers' builds on
//! this shared machine disturb least) as a Markdown table, then the issue's
//! targets.

use std::collections::BTreeMap;

use crate::orchestrate::Sample;
use crate::plan::{Row, Tool};

fn median(samples: &[Sample]) -> f64 {
    let mut seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn print_table(rows: &[Row<'_>], samples: &BTreeMap<usize, Vec<Sample>>) {
    let medians: Vec<f64> = (0..rows.len())
        .map(|i| median(samples.get(&i).map_or(&[], Vec::as_slice)))
        .collect();
    let find = |task: &str, tool: Tool| {
        rows.iter()
            .position(|r| r.task == task && r.tool == tool)
            .map(|i| medians[i])
    };
    println!("| row | tool | wall s (median) | best s | MB/s | peak RSS MiB | skopeo / this |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (index, row) in rows.iter().enumerate() {
        let seconds = medians[index];
        let best = samples
            .get(&index)
            .and_then(|s| s.iter().map(|s| s.seconds).min_by(f64::total_cmp))
            .unwrap_or(f64::NAN);
        let rss = samples
            .get(&index)
            .map_or(0, |s| s.iter().map(|s| s.rss_kib).max().unwrap_or(0));
        let rate = if row.bytes == 0 {
            "-".to_owned()
        } else {
            format!("{:.0}", row.bytes as f64 / seconds / 1e6)
        };
        let ratio = find(row.task, Tool::Skopeo)
            .map_or_else(|| "-".to_owned(), |sk| format!("{:.2}", sk / seconds));
        println!(
            "| {} | {} | {seconds:.2} | {best:.2} | {rate} | {:.1} | {ratio} |",
            row.task,
            row.tool.name(),
            rss as f64 / 1024.0
        );
    }
    println!();
    let ours = |task| find(task, Tool::Ours).unwrap_or(f64::NAN);
    let curl = |task| find(task, Tool::Curl).unwrap_or(f64::NAN);
    println!(
        "push 1 GiB: {:+.1} % vs the curl ceiling (target: within 5 %)",
        (ours("push 1 GiB") / curl("push 1 GiB") - 1.0) * 100.0
    );
    println!(
        "push 16 x 64 MiB vs one stream: {:.0} MB/s vs {:.0} MB/s (target: faster)",
        16.0 * 64.0 * 1_048_576.0 / ours("push 16 x 64 MiB") / 1e6,
        1_073_741_824.0 / ours("push 1 GiB") / 1e6
    );
    println!(
        "pull 1 GiB verified: {:.2} s (target: at most 1.3 s; curl to a file: {:.2} s)",
        ours("pull 1 GiB"),
        curl("pull 1 GiB")
    );
    let peak = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.tool == Tool::Ours)
        .filter_map(|(i, _)| samples.get(&i))
        .flat_map(|s| s.iter().map(|s| s.rss_kib))
        .max()
        .unwrap_or(0);
    println!(
        "peak RSS of our rows: {:.1} MiB (target: at most 64 MiB)",
        peak as f64 / 1024.0
    );
    if let Some(i) = rows
        .iter()
        .position(|r| r.tool == Tool::Ours && r.bytes == 0)
    {
        let wire = samples
            .get(&i)
            .and_then(|s| s.last())
            .map(|s| s.output.clone())
            .unwrap_or_default();
        let mut parts = wire.split(' ');
        println!(
            "repeat push: {} blob bytes sent, {} request body bytes in all (manifests only)",
            parts.next().unwrap_or("?"),
            parts.next().unwrap_or("?")
        );
    }
}
