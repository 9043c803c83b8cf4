//! Each row's runs summed up in one cell: medians of wall time, CPU and
//! (for latency rows) p50 and p99, the peak RSS, and the ratio to the
//! peers. The table and the report both print cells.

use std::collections::BTreeMap;

use crate::orchestrate::Sample;
use crate::plan::{Row, Sizes, Task, Tool};

/// One row's summary.
pub(crate) struct Cell {
    pub(crate) row: String,
    pub(crate) tool: Tool,
    pub(crate) latency: bool,
    pub(crate) wall: f64,
    pub(crate) best: f64,
    /// Blob MB/s (10^6 bytes), for rows that move bytes.
    pub(crate) mb_per_s: Option<f64>,
    pub(crate) rss_mib: f64,
    pub(crate) cpu: f64,
    /// Median p50 and p99 per call in ms, for latency rows.
    pub(crate) p50: Option<f64>,
    pub(crate) p99: Option<f64>,
    pub(crate) tokens: usize,
    /// The last run's requests by method.
    pub(crate) requests: BTreeMap<String, usize>,
    /// Ours over this row (wall, or p50 for latency rows); for our rows,
    /// ours over the best peer (oci-client or skopeo, not curl), the plain
    /// push's peers for our 16-at-once push.
    pub(crate) ratio: Option<f64>,
    /// The last run's line.
    pub(crate) output: String,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// The nth number of each run's line, their median.
fn field(samples: &[Sample], n: usize) -> Option<f64> {
    let values: Vec<f64> = samples
        .iter()
        .filter_map(|s| s.output.split(' ').nth(n)?.parse().ok())
        .collect();
    median(values)
}

pub(crate) fn cells(
    rows: &[Row<'_>],
    samples: &BTreeMap<usize, Vec<Sample>>,
    sizes: Sizes,
) -> Vec<Cell> {
    let mut cells: Vec<Cell> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let runs = samples.get(&index).map_or(&[][..], Vec::as_slice);
            let wall = median(runs.iter().map(|s| s.seconds).collect()).unwrap_or(f64::NAN);
            let latency = row.is_latency();
            Cell {
                row: row.name(sizes),
                tool: row.tool,
                latency,
                wall,
                best: runs.iter().map(|s| s.seconds).fold(f64::NAN, f64::min),
                mb_per_s: (row.bytes > 0).then(|| row.bytes as f64 / wall / 1e6),
                rss_mib: runs.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0,
                cpu: median(runs.iter().map(|s| s.cpu).collect()).unwrap_or(f64::NAN),
                p50: if latency { field(runs, 0) } else { None },
                p99: if latency { field(runs, 1) } else { None },
                tokens: runs.iter().map(|s| s.tokens).max().unwrap_or(0),
                requests: runs.last().map(|s| s.requests.clone()).unwrap_or_default(),
                ratio: None,
                output: runs.last().map(|s| s.output.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let measure = |cell: &Cell| {
        if cell.latency {
            cell.p50
        } else {
            Some(cell.wall)
        }
    };
    let ratios: Vec<Option<f64>> = cells
        .iter()
        .map(|cell| {
            let same = |other: &&Cell| other.row == cell.row;
            let ours = cells
                .iter()
                .filter(same)
                .find(|c| c.tool == Tool::Ours)
                .and_then(measure)?;
            // Our 16-at-once push meets the peers of the plain one
            // (oci-client's push is 16 at once).
            let wide = [Task::WidePush, Task::PutPush].map(|task| task.name(sizes));
            let peers_row = if wide.contains(&cell.row) {
                Task::PushMany.name(sizes)
            } else {
                cell.row.clone()
            };
            let against = if cell.tool == Tool::Ours {
                cells
                    .iter()
                    .filter(|c| c.row == peers_row)
                    .filter(|c| matches!(c.tool, Tool::OciClient | Tool::Skopeo))
                    .filter_map(measure)
                    .min_by(f64::total_cmp)?
            } else {
                measure(cell)?
            };
            Some(ours / against)
        })
        .collect();
    for (cell, ratio) in cells.iter_mut().zip(ratios) {
        cell.ratio = ratio;
    }
    cells
}
