//! `report.md` (the printed tables and targets) and `report.json` (every
//! cell's figures) in the `--out` folder.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::orchestrate::Sample;
use crate::plan::{Row, Sizes};
use crate::stats::cells;

pub(crate) fn write(
    out: &Path,
    text: &str,
    rows: &[Row<'_>],
    samples: &BTreeMap<usize, Vec<Sample>>,
    sizes: Sizes,
) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let markdown = format!(
        "# Registry benchmark\n\nLoopback docker-registry 2.8, `cargo xtask bench registry{}`.\n\n{text}",
        if sizes.is_full() { "" } else { " --quick" }
    );
    std::fs::write(out.join("report.md"), markdown).map_err(|e| e.to_string())?;
    let cells: Vec<_> = cells(rows, samples, sizes)
        .into_iter()
        .map(|c| {
            json!({
                "row": c.row,
                "tool": c.tool.name(),
                "wall_s_median": c.wall,
                "wall_s_best": c.best,
                "mb_per_s": c.mb_per_s,
                "peak_rss_mib": c.rss_mib,
                "cpu_s_median": c.cpu,
                "p50_ms": c.p50,
                "p99_ms": c.p99,
                "token_requests": c.tokens,
                "requests": c.requests,
                "requests_short": crate::access::short(&c.requests),
                "ours_over_this": c.ratio,
                "output": c.output,
            })
        })
        .collect();
    let runs = samples.values().map(Vec::len).max().unwrap_or(0);
    let report = json!({ "quick": !sizes.is_full(), "runs": runs, "cells": cells });
    let body = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.json"), body).map_err(|e| e.to_string())
}
