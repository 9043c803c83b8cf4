//! The curl rows: the loopback ceiling, one monolithic PUT of the first
//! layer and one GET of it to a file (from a registry our client seeded),
//! and that GET followed by an fsync of the file (coreutils `sync FILE`).

use std::process::Command;

use crate::layouts::Image;
use crate::plan::{Row, Seed, Task, Tool, row};

/// The loopback ceiling: one monolithic PUT, one GET to a file.
pub(crate) fn rows(one: &Image) -> Result<Vec<Row<'_>>, String> {
    let (digest, file) = one.first_layer.clone();
    let bytes = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();
    let put_digest = digest.clone();
    Ok(vec![
        row(Task::PushOne, Tool::Curl, bytes, move |host, _| {
            let location = open_upload(host, "bench/curl")?;
            let separator = if location.contains('?') { '&' } else { '?' };
            let mut command = Command::new("/usr/bin/curl");
            command.args(["-s", "-f", "-H", "Expect:"]);
            command.args(["-H", "Content-Type: application/octet-stream", "-T"]);
            command
                .arg(&file)
                .arg(format!("{location}{separator}digest={put_digest}"));
            Ok(command)
        }),
        row(Task::PullOne, Tool::Curl, bytes, {
            let digest = digest.clone();
            move |host, scratch| {
                let mut command = Command::new("/usr/bin/curl");
                command.args(["-s", "-f", "-o"]).arg(scratch.join("blob"));
                command.arg(format!("http://{host}/v2/bench/one/blobs/{digest}"));
                Ok(command)
            }
        })
        .seeded(vec![Seed::image(one, "one")]),
        row(
            Task::PullOne,
            Tool::CurlSynced,
            bytes,
            move |host, scratch| {
                let mut command = Command::new("/bin/sh");
                command.args([
                    "-c",
                    r#"/usr/bin/curl -s -f -o "$1" "$2" && sync "$1""#,
                    "sh",
                ]);
                command.arg(scratch.join("blob"));
                command.arg(format!("http://{host}/v2/bench/one/blobs/{digest}"));
                Ok(command)
            },
        )
        .seeded(vec![Seed::image(one, "one")]),
    ])
}

/// `POST /v2/<name>/blobs/uploads/` with curl; the Location.
fn open_upload(host: &str, name: &str) -> Result<String, String> {
    let output = Command::new("/usr/bin/curl")
        .args(["-s", "-i", "-X", "POST"])
        .arg(format!("http://{host}/v2/{name}/blobs/uploads/"))
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let location = text
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .ok_or_else(|| format!("no Location in {text}"))?;
    Ok(if location.starts_with('/') {
        format!("http://{host}{location}")
    } else {
        location
    })
}
