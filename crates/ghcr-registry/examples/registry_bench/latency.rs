//! The latency rows: many small calls one after another in one process
//! (one client, so connections and tokens are reused), each call timed.
//! On one tag (`bench/small:v1`): manifest HEADs and GETs; on the
//! tag-list repository (`bench/tags`, seeded by `seed.rs`): full
//! listings, [`PAGE`] tags a page. A row prints `<p50 ms> <p99 ms>
//! <calls>`, and the tags one listing found for `tags`.

use std::path::Path;
use std::time::Instant;

use futures_util::TryStreamExt;
use ghcr_types::Reference;

use crate::plan::{self, Row, Sizes, Task, Tool, ours, peer};

/// Tags a page (`n=`) in the tag-list rows.
pub(crate) const PAGE: usize = 100;

/// `registry_bench row head|get REF N` and `row tags REPO N PAGE`.
pub(crate) async fn row(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or("missing argument");
    let number = |i: usize| -> Result<usize, String> {
        arg(i)?.parse().map_err(|e| format!("argument {i}: {e}"))
    };
    let reference = Reference::parse(arg(1)?).map_err(|e| e.to_string())?;
    let calls = number(2)?;
    let (client, _) = crate::rows::client(reference.registry())?;
    let mut times = Vec::with_capacity(calls);
    let mut found = None;
    for _ in 0..calls {
        let started = Instant::now();
        match arg(0)? {
            "head" => {
                client
                    .head_manifest(&reference)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("no manifest under that tag")?;
            }
            "get" => {
                client
                    .get_manifest(&reference)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            _ => {
                let count = client
                    .tags(&reference, Some(number(3)?))
                    .try_fold(0usize, |n, _| async move { Ok(n + 1) })
                    .await
                    .map_err(|e| e.to_string())?;
                found = Some(count);
            }
        }
        times.push(started.elapsed().as_secs_f64());
    }
    match found {
        Some(count) => println!("{} {count}", line(times)),
        None => println!("{}", line(times)),
    }
    Ok(())
}

/// `<p50 ms> <p99 ms> <calls>`, nearest rank.
fn line(mut seconds: Vec<f64>) -> String {
    seconds.sort_by(f64::total_cmp);
    let rank = |p: usize| {
        let index = (seconds.len() * p).div_ceil(100).saturating_sub(1);
        seconds.get(index).map_or(f64::NAN, |s| s * 1e3)
    };
    format!("{:.3} {:.3} {}", rank(50), rank(99), seconds.len())
}

/// The latency rows, ours then oci-client's for each task; `token` marks
/// them for the token-auth registry.
pub(crate) fn rows(sizes: Sizes, oci: Option<&Path>, token: bool) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    for (task, kind, name) in [
        (Task::ManifestHead, "head", "small:v1"),
        (Task::ManifestGet, "get", "small:v1"),
        (Task::TagList, "tags", "tags"),
    ] {
        let calls = sizes.calls.to_string();
        let args = move |host: &str| {
            let target = format!("{host}/bench/{name}");
            let mut args = vec![kind.to_owned(), target, calls.clone()];
            if task == Task::TagList {
                args.push(PAGE.to_string());
            }
            args
        };
        let ours_args = args.clone();
        rows.push(plan::row(task, Tool::Ours, 0, move |host, _| ours(&ours_args(host))).shared());
        if let Some(binary) = oci {
            rows.push(
                plan::row(task, Tool::OciClient, 0, move |host, _| {
                    Ok(peer(binary, &args(host)))
                })
                .shared(),
            );
        }
    }
    for each in &mut rows {
        each.token = token;
    }
    rows
}
