//! The latency rows: many small calls one after another in one process
//! (one client, so connections and tokens are reused), each call timed.
//! On one tag (`bench/small:v1`): manifest HEADs and GETs; on the
//! tag-list repository (`bench/tags`, seeded by `seed.rs`): full
//! listings, [`PAGE`] tags a page. A row prints `<p50 ms> <p99 ms>
//! <calls>`, and the tags one listing found for `tags`. curl's HEADs on
//! one connection give the registry's own latency beside them.

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

/// `registry_bench row curl-head REF N DIR`: N manifest HEADs by one curl
/// process on one keep-alive connection (a config file in DIR lists the
/// URL N times), each timed by curl (`%{time_total}`): the registry's own
/// latency, with no client library in it. Open registries only.
pub(crate) fn curl_head(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or("missing argument");
    let reference = Reference::parse(arg(1)?).map_err(|e| e.to_string())?;
    let calls: usize = arg(2)?.parse().map_err(|e| format!("calls: {e}"))?;
    let url = format!(
        "http://{}/v2/{}/manifests/{}",
        reference.registry(),
        reference.repository(),
        reference.tag().ok_or("a tag is needed")?
    );
    let mut config = String::from(
        "silent\nhead\nwrite-out = \"%{time_total}\\n\"\n\
         header = \"Accept: application/vnd.oci.image.manifest.v1+json\"\n",
    );
    let each = format!("url = \"{url}\"\noutput = \"/dev/null\"\n");
    config.push_str(&each.repeat(calls));
    let file = Path::new(arg(3)?).join("curl-head.conf");
    std::fs::write(&file, config).map_err(|e| e.to_string())?;
    let output = std::process::Command::new("/usr/bin/curl")
        .arg("--config")
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("curl failed ({})", output.status));
    }
    let times: Vec<f64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect();
    if times.len() != calls {
        return Err(format!("curl timed {} of {calls} HEADs", times.len()));
    }
    println!("{}", line(times));
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
        if task == Task::ManifestHead && !token {
            let curl_args = args.clone();
            rows.push(
                plan::row(task, Tool::Curl, 0, move |host, scratch| {
                    let mut args = curl_args(host);
                    args.push(scratch.display().to_string());
                    args.splice(..1, ["curl-head".to_owned()]);
                    ours(&args)
                })
                .shared(),
            );
        }
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
