//! The results as Markdown tables beside the issue's targets, and as
//! JSON lines (one a scenario, one for the deletions).
//!
//! The request target is stated twice: as the issue words it (versions/100
//! plus the manifests the plan needs) and as the least this shape allows
//! (a page of versions per 100 versions *of each package*, at least one a
//! package; the pages of the owner's package list; the manifests the plan
//! needs), with the registry's token requests (one per package scope)
//! beside it. Each row says met or missed, and why.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::seed::{PACKAGES, Shape};

/// One planning scenario: what was seeded, the client's line and the
/// fake's request counts (see `serve` and `client`).
pub(crate) struct Planned {
    pub(crate) per_package: usize,
    pub(crate) shape: Shape,
    pub(crate) versions: usize,
    pub(crate) indexes_kept: usize,
    pub(crate) client: Value,
    pub(crate) requests: Value,
}

/// The deletion row: the client's line (deleted, seconds, peak RSS) and
/// the fake's counts while it planned and while it deleted.
pub(crate) struct Executed {
    pub(crate) client: Value,
    pub(crate) planning: Value,
    pub(crate) requests: Value,
}

/// The issue's targets: 100,000 versions planned under 60 s and 128 MiB.
const TARGET_SECONDS: f64 = 60.0;
const TARGET_RSS_MIB: f64 = 128.0;
/// Pages of the owner's package list, 100 a page.
const LIST_PAGES: usize = PACKAGES.div_ceil(100);
/// GitHub's secondary limit at 5 points a DELETE: deletions a minute.
const LIMIT_PER_MINUTE: f64 = 900.0 / 5.0;
/// The primary limit an hour: a PAT, and `GITHUB_TOKEN` (per repository).
const PAT_PER_HOUR: f64 = 5_000.0;
const GITHUB_TOKEN_PER_HOUR: f64 = 1_000.0;

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

fn mib(kib: &Value) -> f64 {
    kib.as_u64().unwrap_or(0) as f64 / 1024.0
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

impl Planned {
    fn seconds(&self) -> f64 {
        self.client["seconds"].as_f64().unwrap_or(f64::NAN)
    }

    fn rss_mib(&self) -> f64 {
        mib(&self.client["peak_rss_kib"])
    }

    fn number(&self, key: &str) -> u64 {
        self.requests[key].as_u64().unwrap_or(0)
    }

    /// The issue's words: a request per 100 versions plus the manifests
    /// the plan needs.
    fn issue_budget(&self) -> usize {
        self.versions.div_ceil(100) + self.indexes_kept
    }

    /// Pages of versions: 100 a page, at least one a package.
    fn version_pages(&self) -> usize {
        PACKAGES * self.per_package.div_ceil(100)
    }

    /// The least this shape allows: version pages, package-list pages and
    /// the manifests the plan needs.
    fn precise_budget(&self) -> usize {
        self.version_pages() + LIST_PAGES + self.indexes_kept
    }

    /// API requests and manifest reads, what both budgets count.
    fn counted(&self) -> u64 {
        by_method(&self.requests["api"]).1 + self.number("manifests_read")
    }

    /// The verdict line of the requests: both targets, and the tokens.
    fn requests_verdict(&self) -> String {
        let (api, counted) = (by_method(&self.requests["api"]).1, self.counted());
        let (issue, precise) = (self.issue_budget() as u64, self.precise_budget() as u64);
        let pages = self.number("version_pages");
        let manifests = self.number("manifests_read");
        let issue_verdict = if counted <= issue {
            "met".to_owned()
        } else {
            let mut causes = Vec::new();
            if pages > self.versions.div_ceil(100) as u64 {
                causes.push(format!(
                    "{pages} pages of versions, not {}: each package needs its own pages, at least one even with {} versions",
                    self.versions.div_ceil(100),
                    self.per_package
                ));
            }
            if api > pages {
                causes.push(format!(
                    "{} pages of the owner's package list, which the selection `*` must read",
                    api - pages
                ));
            }
            if manifests > self.indexes_kept as u64 {
                causes.push(format!(
                    "{} manifests read, {} needed",
                    manifests, self.indexes_kept
                ));
            }
            format!("MISSED by {} ({})", counted - issue, causes.join("; "))
        };
        let tokens = self.number("token_fetches");
        let registry = by_method(&self.requests["registry"]).1;
        let challenges = registry.saturating_sub(manifests + tokens);
        format!(
            "requests (API {api} + manifests read {manifests}) {counted}; the issue's target versions/100 + manifests needed = {issue}: {issue_verdict}; \
             the precise target, version pages {} + package-list pages {} + manifests needed {} = {precise}: {}; \
             registry token requests {tokens}, target one per package scope ({PACKAGES}): {}; \
             registry requests {registry} = manifests {manifests} + tokens {tokens} + {challenges} answered 401 (reads sent before the token endpoint was known)",
            self.version_pages(),
            LIST_PAGES,
            self.indexes_kept,
            met(counted <= precise),
            met(tokens <= PACKAGES as u64),
        )
    }
}

impl Executed {
    fn deleted(&self) -> u64 {
        self.client["deleted"].as_u64().unwrap_or(0)
    }

    fn seconds(&self) -> f64 {
        self.client["seconds"].as_f64().unwrap_or(f64::NAN)
    }

    fn per_minute(&self) -> f64 {
        per_minute(self.deleted() as f64, self.seconds())
    }

    fn method(&self, method: &str) -> u64 {
        self.requests["api"][method].as_u64().unwrap_or(0)
    }

    fn refused(&self) -> u64 {
        ["403", "429"]
            .iter()
            .filter_map(|status| self.requests["not_2xx"][status].as_u64())
            .sum()
    }

    /// API requests while deleting, per version deleted.
    fn requests_per_delete(&self) -> f64 {
        by_method(&self.requests["api"]).1 as f64 / self.deleted().max(1) as f64
    }
}

/// Deletions a minute over `seconds`.
fn per_minute(deleted: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        deleted * 60.0 / seconds
    } else {
        f64::NAN
    }
}

/// Hours and minutes, as `8 h 5 min` or `44.5 min`.
fn duration(minutes: f64) -> String {
    if minutes >= 120.0 {
        format!(
            "{:.0} h {:.0} min",
            (minutes / 60.0).floor(),
            minutes % 60.0
        )
    } else {
        format!("{minutes:.1} min")
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
    planning_table(&mut out, planned);
    memory_table(&mut out, planned);
    deleting_table(&mut out, planned, executed);
    let _ = writeln!(out);
    for row in planned.iter().filter(|row| row.shape == Shape::Releases) {
        let time_rss = if row.versions >= 100_000 {
            let ok = row.seconds() < TARGET_SECONDS && row.rss_mib() <= TARGET_RSS_MIB;
            format!(
                "; target under {TARGET_SECONDS:.0} s and {TARGET_RSS_MIB:.0} MiB: {}",
                met(ok)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "- {} versions: {:.2} s, {:.1} MiB{time_rss}; {}",
            row.versions,
            row.seconds(),
            row.rss_mib(),
            row.requests_verdict(),
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

fn planning_table(out: &mut String, planned: &[Planned]) {
    let _ = writeln!(
        out,
        "Planning, only untagged, {PACKAGES} packages in one `plan_selected` (fake in its own process, loopback, no added latency):\n"
    );
    let _ = writeln!(
        out,
        "| versions | manifests to read | plan wall s | client peak RSS MiB | API requests | registry requests | manifests read (distinct) | API + manifests / issue's target / precise target | to delete |"
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---|---|---:|---:|---:|");
    for row in planned {
        let (api, _) = by_method(&row.requests["api"]);
        let (registry, _) = by_method(&row.requests["registry"]);
        let _ = writeln!(
            out,
            "| {} ({PACKAGES} x {}) | {} | {:.2} | {:.1} | {api} | {registry} (tokens {}) | {} ({}) | {} / {} / {} | {} |",
            row.versions,
            row.per_package,
            row.shape.name(),
            row.seconds(),
            row.rss_mib(),
            row.number("token_fetches"),
            row.number("manifests_read"),
            row.number("manifests_distinct"),
            row.counted(),
            row.issue_budget(),
            row.precise_budget(),
            row.client["delete"].as_u64().unwrap_or(0),
        );
    }
}

/// Peak RSS against manifests read at each size: the growth per manifest
/// between the fewest and the most read.
fn memory_table(out: &mut String, planned: &[Planned]) {
    let mut sizes: Vec<usize> = planned.iter().map(|row| row.versions).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut lines = Vec::new();
    for size in sizes {
        let rows: Vec<&Planned> = planned.iter().filter(|r| r.versions == size).collect();
        let fewest = rows.iter().min_by_key(|r| r.number("manifests_read"));
        let most = rows.iter().max_by_key(|r| r.number("manifests_read"));
        if let (Some(fewest), Some(most)) = (fewest, most) {
            let more = most.number("manifests_read") - fewest.number("manifests_read");
            if more == 0 {
                continue;
            }
            let kib = (most.rss_mib() - fewest.rss_mib()) * 1024.0 / more as f64;
            lines.push(format!(
                "- {size} versions: {} manifests read, {:.1} MiB; {} read, {:.1} MiB: {kib:.2} KiB of peak RSS per manifest read more",
                fewest.number("manifests_read"),
                fewest.rss_mib(),
                most.number("manifests_read"),
                most.rss_mib(),
            ));
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(
            out,
            "\nPeak RSS by manifests read, the same number of versions:\n\n{}",
            lines.join("\n")
        );
    }
}

fn deleting_table(out: &mut String, planned: &[Planned], executed: &Executed) {
    let rate = executed.per_minute();
    let _ = writeln!(
        out,
        "\nDeleting, default pacing (900 points a minute, 5 a DELETE), the fake enforcing the same secondary limit, client and fake in their own processes:\n"
    );
    let _ = writeln!(
        out,
        "| deletions | wall s | deletes/min | target | API requests while deleting | refused (403/429) | client peak RSS MiB |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---|---:|---:|");
    let (requests, _) = by_method(&executed.requests["api"]);
    let _ = writeln!(
        out,
        "| {} | {:.1} | {rate:.1} | {LIMIT_PER_MINUTE:.0} | {requests} ({:.2} a deletion; planning before: {}) | {} | {:.1} |",
        executed.deleted(),
        executed.seconds(),
        executed.requests_per_delete(),
        by_method(&executed.planning["api"]).0,
        executed.refused(),
        mib(&executed.client["peak_rss_kib"]),
    );
    let _ = writeln!(
        out,
        "\nExtrapolated from that rate and those requests per deletion (not run: the pace makes them hours long):\n"
    );
    let _ = writeln!(
        out,
        "| versions | deletions | at {rate:.1}/min (secondary limit) | API requests | at 5,000/h (PAT primary limit) | at 1,000/h (GITHUB_TOKEN) |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    for row in planned.iter().filter(|row| row.shape == Shape::Releases) {
        let deletions = row.client["delete"].as_u64().unwrap_or(0) as f64;
        let requests = deletions * executed.requests_per_delete();
        let _ = writeln!(
            out,
            "| {} | {deletions:.0} | {} | {requests:.0} | {} | {} |",
            row.versions,
            duration(deletions / rate),
            duration(requests / PAT_PER_HOUR * 60.0),
            duration(requests / GITHUB_TOKEN_PER_HOUR * 60.0),
        );
    }
    let (delete, get) = (executed.method("DELETE"), executed.method("GET"));
    let _ = writeln!(
        out,
        "\nWhile deleting, {delete} DELETEs and {get} GETs (the checks before each batch of deletions) were sent: every one counts against the primary limit, so at these sizes the primary limit, not the secondary pace, bounds the run."
    );
}

pub(crate) fn json_lines(planned: &[Planned], executed: &Executed) -> String {
    let mut out = String::new();
    for row in planned {
        let line = json!({
            "kind": "plan",
            "packages": PACKAGES,
            "versions": row.versions,
            "per_package": row.per_package,
            "shape": row.shape.name(),
            "indexes_kept": row.indexes_kept,
            "issue_budget": row.issue_budget(),
            "precise_budget": row.precise_budget(),
            "client": row.client,
            "requests": row.requests,
        });
        let _ = writeln!(out, "{line}");
    }
    let line = json!({
        "kind": "execute",
        "client": executed.client,
        "per_minute": executed.per_minute(),
        "requests_per_delete": executed.requests_per_delete(),
        "planning": executed.planning,
        "requests": executed.requests,
    });
    let _ = writeln!(out, "{line}");
    out
}
