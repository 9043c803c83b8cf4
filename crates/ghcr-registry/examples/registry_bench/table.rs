//! The medians (and the best run, which the other engineers' builds on
//! this shared machine disturb least) as a Markdown table, then the issue's
//! targets.

use std::collections::BTreeMap;

use crate::orchestrate::Sample;
use crate::plan::{LAYERS, Row, Sizes, Task, Tool, human};

fn median(samples: &[Sample]) -> f64 {
    let mut seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn print_table(rows: &[Row<'_>], samples: &BTreeMap<usize, Vec<Sample>>, sizes: Sizes) {
    let medians: Vec<f64> = (0..rows.len())
        .map(|i| median(samples.get(&i).map_or(&[], Vec::as_slice)))
        .collect();
    let find = |task: Task, tool: Tool| {
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
            row.task.name(sizes),
            row.tool.name(),
            rss as f64 / 1024.0
        );
    }
    println!();
    let ours = |task| find(task, Tool::Ours).unwrap_or(f64::NAN);
    let curl = |task| find(task, Tool::Curl).unwrap_or(f64::NAN);
    let (one, each) = (sizes.one as f64, sizes.each as f64);
    if !sizes.is_full() {
        println!("(--quick sizes: the targets below are for 1 GiB and 16 x 64 MiB)");
    }
    println!(
        "push {}: {:+.1} % vs the curl ceiling (target: within 5 %)",
        human(sizes.one),
        (ours(Task::PushOne) / curl(Task::PushOne) - 1.0) * 100.0
    );
    println!(
        "push {LAYERS} x {} vs one stream: {:.0} MB/s vs {:.0} MB/s (target: faster)",
        human(sizes.each),
        LAYERS as f64 * each / ours(Task::PushMany) / 1e6,
        one / ours(Task::PushOne) / 1e6
    );
    println!(
        "pull {} verified: {:.2} s (target for 1 GiB: at most 1.3 s; curl to a file: {:.2} s)",
        human(sizes.one),
        ours(Task::PullOne),
        curl(Task::PullOne)
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
