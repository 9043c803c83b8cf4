//! The sync rows' results beside issue 14's targets: a Markdown table and
//! JSON lines (one a row).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::plan::{Row, Task, Tool};
use super::seed::SyncSizes;
use crate::orchestrate::Sample;

/// Peak RSS every row of ours must stay under.
const RSS_LIMIT_MIB: f64 = 64.0;

/// How many times faster than skopeo our row must be.
fn speedup(task: Task) -> f64 {
    match task {
        Task::Small => 2.0,
        Task::Large => 1.0,
        Task::Unchanged => 5.0,
    }
}

/// One row's figures over its runs.
struct Figures {
    median: f64,
    best: f64,
    rss_mib: f64,
    /// Ours only: blob bytes uploaded, request body bytes, requests,
    /// blobs uploaded/existing/mounted (the row's last run).
    counts: Option<[String; 4]>,
    /// skopeo's median over ours.
    ratio: Option<f64>,
    target: String,
}

fn median(samples: &[Sample]) -> f64 {
    let mut seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN)
}

fn figures(rows: &[Row], samples: &BTreeMap<usize, Vec<Sample>>) -> Vec<Figures> {
    let empty = Vec::new();
    let of = |i: usize| samples.get(&i).unwrap_or(&empty);
    let skopeo = |task: Task| {
        rows.iter()
            .position(|r| r.task == task && r.tool == Tool::Skopeo)
            .map(|i| median(of(i)))
    };
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let runs = of(index);
            let median = median(runs);
            let best = runs
                .iter()
                .map(|s| s.seconds)
                .min_by(f64::total_cmp)
                .unwrap_or(f64::NAN);
            let rss_mib = runs.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
            let counts = (row.tool != Tool::Skopeo).then(|| {
                let output = runs.last().map_or("", |s| s.output.as_str());
                let mut fields = output.split(' ').map(str::to_owned);
                std::array::from_fn(|_| fields.next().unwrap_or_else(|| "?".to_owned()))
            });
            let ratio = match row.tool {
                Tool::Skopeo => None,
                _ => skopeo(row.task).map(|sk| sk / median),
            };
            let target = match row.tool {
                Tool::Ours => verdict(row.task, ratio, rss_mib, counts.as_ref()),
                Tool::Variant | Tool::Skopeo => "-".to_owned(),
            };
            Figures {
                median,
                best,
                rss_mib,
                counts,
                ratio,
                target,
            }
        })
        .collect()
}

/// `met`, or `missed: ` and every target the row missed.
fn verdict(task: Task, ratio: Option<f64>, rss_mib: f64, counts: Option<&[String; 4]>) -> String {
    let mut missed = Vec::new();
    let need = speedup(task);
    match ratio {
        Some(ratio) if ratio >= need => {}
        Some(ratio) => missed.push(format!("{ratio:.2}x skopeo, needs {need}x")),
        None => missed.push("no skopeo row to compare".to_owned()),
    }
    if rss_mib >= RSS_LIMIT_MIB {
        missed.push(format!(
            "peak RSS {rss_mib:.1} MiB, needs under {RSS_LIMIT_MIB:.0}"
        ));
    }
    if task == Task::Unchanged && counts.is_none_or(|c| c[0] != "0") {
        missed.push("blob bytes sent".to_owned());
    }
    if missed.is_empty() {
        "met".to_owned()
    } else {
        format!("missed: {}", missed.join("; "))
    }
}

pub(crate) fn markdown(
    rows: &[Row],
    samples: &BTreeMap<usize, Vec<Sample>>,
    sizes: SyncSizes,
    heading: &str,
    quick: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}\n");
    let _ = writeln!(
        out,
        "| row | tool | wall s (median) | best s | peak RSS MiB | requests | blob bytes sent | skopeo / this | target |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---|");
    let figures = figures(rows, samples);
    for (row, f) in rows.iter().zip(&figures) {
        let (requests, bytes) = f
            .counts
            .as_ref()
            .map_or(("-", "-"), |c| (c[2].as_str(), c[0].as_str()));
        let ratio = f
            .ratio
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"));
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.1} | {requests} | {bytes} | {ratio} | {} |",
            row.task.name(sizes),
            row.name,
            f.median,
            f.best,
            f.rss_mib,
            f.target
        );
    }
    let ours: Vec<&Figures> = rows
        .iter()
        .zip(&figures)
        .filter(|(row, _)| row.tool == Tool::Ours)
        .map(|(_, f)| f)
        .collect();
    let peak = ours.iter().map(|f| f.rss_mib).fold(0.0, f64::max);
    let missed = ours.iter().filter(|f| f.target != "met").count();
    let _ = writeln!(
        out,
        "\npeak RSS of our sync rows: {peak:.1} MiB (target: under {RSS_LIMIT_MIB:.0} MiB on every row)"
    );
    let _ = writeln!(
        out,
        "targets (issue 14): a) 2x skopeo, b) at least as fast, c) no blob bytes and 5x; {} of {} rows of ours met every target",
        ours.len() - missed,
        ours.len()
    );
    if quick {
        let _ = writeln!(
            out,
            "(--quick: the same shapes, smaller, one run; the targets are for the full rows)"
        );
    }
    out
}

pub(crate) fn json_lines(
    rows: &[Row],
    samples: &BTreeMap<usize, Vec<Sample>>,
    sizes: SyncSizes,
    quick: bool,
) -> String {
    let mut out = String::new();
    for (index, (row, f)) in rows.iter().zip(figures(rows, samples)).enumerate() {
        let counts = f.counts.as_ref();
        let number = |i: usize| -> Value {
            counts
                .and_then(|c| c[i].parse::<u64>().ok())
                .map_or(Value::Null, Value::from)
        };
        let line = json!({
            "row": row.task.letter(),
            "task": row.task.name(sizes),
            "tool": row.name,
            "kind": format!("{:?}", row.tool).to_lowercase(),
            "quick": quick,
            "tags": row.task.tags(sizes),
            "runs": samples.get(&index).map_or(0, Vec::len),
            "seconds_median": f.median,
            "seconds_best": f.best,
            "peak_rss_mib": f.rss_mib,
            "blob_bytes_sent": number(0),
            "wire_bytes_sent": number(1),
            "requests": number(2),
            "blobs_uploaded_existing_mounted": counts.map(|c| c[3].clone()),
            "skopeo_over_this": f.ratio,
            "target": f.target,
        });
        let _ = writeln!(out, "{line}");
    }
    out
}
