//! The results as a Markdown table beside the targets, and as
//! JSON lines (one a scenario, one for the deletions).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::client::{Executed, per_minute};
use crate::seed::PACKAGES;

/// One planning scenario: what was seeded, the client's line and the
/// fake's request counts (see `serve` and `client`).
pub(crate) struct Planned {
    pub(crate) per_package: usize,
    pub(crate) versions: usize,
    pub(crate) indexes_kept: usize,
    pub(crate) client: Value,
    pub(crate) requests: Value,
}

/// The targets: 100,000 versions planned under 60 s and 128 MiB.
const TARGET_SECONDS: f64 = 60.0;
const TARGET_RSS_MIB: f64 = 128.0;
/// GitHub's secondary limit at 5 points a DELETE: deletions a minute.
const LIMIT_PER_MINUTE: f64 = 900.0 / 5.0;

/// `{"GET": 3, "HEAD": 1}` as `GET 3, HEAD 1`, and the sum.
fn by_method(counts: &Value) -> (String, u64) {
    let Some(map) = counts.as_object() else {
        return ("-".to_owned(), 0);
    };
    let total = map.values().filter_map(Value::as_u64).sum();
    let text: Vec<String> = map
        .iter()
        .map(|(method, n)| format!("{method} {}", n.as_u64().unwrap_or(0)))
        .collect();
    if text.is_empty() {
        ("0".to_owned(), 0)
    } else {
        (text.join(", "), total)
    }
}

impl Planned {
    fn seconds(&self) -> f64 {
        self.client["seconds"].as_f64().unwrap_or(f64::NAN)
    }

    fn rss_mib(&self) -> f64 {
        self.client["peak_rss_kib"].as_u64().unwrap_or(0) as f64 / 1024.0
    }

    fn number(&self, key: &str) -> u64 {
        self.requests[key].as_u64().unwrap_or(0)
    }

    /// The budget: a request per 100 versions plus the manifests the plan needs.
    fn budget(&self) -> usize {
        self.versions.div_ceil(100) + self.indexes_kept
    }

    /// The fewest this shape allows: a page of versions per 100 of each
    /// package (at least one a package), the package listing's pages, and
    /// the manifests the plan needs.
    fn least(&self) -> usize {
        PACKAGES * self.per_package.div_ceil(100) + PACKAGES.div_ceil(100) + self.indexes_kept
    }

    /// API requests and manifest reads, what the budget counts.
    fn counted(&self) -> u64 {
        by_method(&self.requests["api"]).1 + self.number("manifests_read")
    }
}

pub(crate) fn markdown(planned: &[Planned], executed: &Executed, quick: bool) -> String {
    let mut out = String::new();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let _ = writeln!(
        out,
        "`cleanup_bench all{}` on {cores} cores, {} (UTC)\n",
        if quick { " --quick" } else { "" },
        time::OffsetDateTime::now_utc().date()
    );
    let _ = writeln!(
        out,
        "Planning, only untagged, {PACKAGES} packages in one `plan_selected` (fake in its own process, loopback, no added latency):\n"
    );
    let _ = writeln!(
        out,
        "| versions | plan wall s | client peak RSS MiB | API requests | registry requests | manifests read (distinct) | API + manifests / budget | to delete |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---|---|---:|---:|---:|");
    for row in planned {
        let (api, _) = by_method(&row.requests["api"]);
        let (registry, _) = by_method(&row.requests["registry"]);
        let _ = writeln!(
            out,
            "| {} ({PACKAGES} x {}) | {:.2} | {:.1} | {api} | {registry} (tokens {}) | {} ({}) | {} / {} | {} |",
            row.versions,
            row.per_package,
            row.seconds(),
            row.rss_mib(),
            row.number("token_fetches"),
            row.number("manifests_read"),
            row.number("manifests_distinct"),
            row.counted(),
            row.budget(),
            row.client["delete"].as_u64().unwrap_or(0),
        );
    }
    let rate = per_minute(executed.deleted, executed.seconds);
    let _ = writeln!(
        out,
        "\nDeleting, default pacing (900 points a minute, 5 a DELETE), the fake enforcing the same secondary limit:\n"
    );
    let _ = writeln!(
        out,
        "| deletions | wall s | deletes/min | target | DELETEs sent | refused (403/429) |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {:.1} | {rate:.1} | {LIMIT_PER_MINUTE:.0} | {} | {} |",
        executed.deleted, executed.seconds, executed.deletes, executed.refused
    );
    let _ = writeln!(out);
    for row in planned {
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        let time_rss = if row.versions >= 100_000 {
            let ok = row.seconds() < TARGET_SECONDS && row.rss_mib() <= TARGET_RSS_MIB;
            format!(
                "; target under {TARGET_SECONDS:.0} s and {TARGET_RSS_MIB:.0} MiB: {}",
                met(ok)
            )
        } else {
            String::new()
        };
        let (api, counted, budget) = (
            by_method(&row.requests["api"]).1,
            row.counted(),
            row.budget() as u64,
        );
        let pages = row.number("version_pages");
        let verdict = if counted <= budget {
            "met".to_owned()
        } else {
            format!(
                "MISSED by {}: {pages} pages of versions (at least one a package) and {} other API requests (the package list)",
                counted - budget,
                api - pages
            )
        };
        let _ = writeln!(
            out,
            "- {} versions: {:.2} s, {:.1} MiB{time_rss}; requests (API + manifest reads) {counted}, target versions/100 + manifests needed = {budget}: {verdict}; the fewest this shape allows: {}",
            row.versions,
            row.seconds(),
            row.rss_mib(),
            row.least(),
        );
    }
    if quick {
        let _ = writeln!(
            out,
            "- (--quick: 10,000 versions only; the 60 s / 128 MiB target is for 100,000)"
        );
    }
    out
}

pub(crate) fn json_lines(planned: &[Planned], executed: &Executed) -> String {
    let mut out = String::new();
    for row in planned {
        let line = json!({
            "kind": "plan",
            "packages": PACKAGES,
            "versions": row.versions,
            "per_package": row.per_package,
            "indexes_kept": row.indexes_kept,
            "budget": row.budget(),
            "least": row.least(),
            "client": row.client,
            "requests": row.requests,
        });
        let _ = writeln!(out, "{line}");
    }
    let line = json!({
        "kind": "execute",
        "deleted": executed.deleted,
        "seconds": executed.seconds,
        "per_minute": per_minute(executed.deleted, executed.seconds),
        "deletes_sent": executed.deletes,
        "refused": executed.refused,
    });
    let _ = writeln!(out, "{line}");
    out
}
