//! The rows: what each tool runs for each task. Every run gets a fresh
//! registry, so repositories need no run suffix and skopeo's blob-info
//! cache knows no location on it to mount from.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::layouts::Image;

/// Who moves the bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Tool {
    Ours,
    Skopeo,
    Curl,
}

impl Tool {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ours => "ghcr-registry",
            Self::Skopeo => "skopeo 1.9",
            Self::Curl => "curl",
        }
    }
}

/// Builds a row's command, given the registry host and a scratch folder.
pub(crate) type Build<'a> = Box<dyn Fn(&str, &Path) -> Result<Command, String> + 'a>;

/// One task done by one tool.
pub(crate) struct Row<'a> {
    pub(crate) task: &'static str,
    pub(crate) tool: Tool,
    /// Blob bytes the row moves (0: nothing should move).
    pub(crate) bytes: u64,
    pub(crate) build: Build<'a>,
}

fn exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| e.to_string())
}

/// `registry_bench row <args>`.
fn ours(args: &[String]) -> Result<Command, String> {
    let mut command = Command::new(exe()?);
    command.arg("row").args(args);
    Ok(command)
}

fn skopeo(source: &str, destination: &str) -> Command {
    let mut command = Command::new("/usr/bin/skopeo");
    command.args([
        "copy",
        "--quiet",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        source,
        destination,
    ]);
    command
}

fn repo(host: &str, name: &str) -> String {
    format!("{host}/bench/{name}:v1")
}

fn docker(host: &str, name: &str) -> String {
    format!("docker://{}", repo(host, name))
}

fn oci(dir: &Path) -> String {
    format!("oci:{}:v1", dir.display())
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

fn row<'a>(
    task: &'static str,
    tool: Tool,
    bytes: u64,
    build: impl Fn(&str, &Path) -> Result<Command, String> + 'a,
) -> Row<'a> {
    Row {
        task,
        tool,
        bytes,
        build: Box::new(build),
    }
}

/// Every row, in the order they run within one run.
pub(crate) fn rows<'a>(one: &'a Image, sixteen: &'a Image) -> Result<Vec<Row<'a>>, String> {
    let mut rows = Vec::new();
    for (image, name, push, pull) in [
        (one, "one", "push 1 GiB", "pull 1 GiB"),
        (sixteen, "sixteen", "push 16 x 64 MiB", "pull 16 x 64 MiB"),
    ] {
        let (ours_repo, skopeo_repo) = (format!("ours-{name}"), format!("sk-{name}"));
        let (from_ours, from_skopeo) = (ours_repo.clone(), skopeo_repo.clone());
        rows.extend([
            row(push, Tool::Ours, image.bytes, move |host, _| {
                ours(&["push".into(), text(&image.dir), repo(host, &ours_repo)])
            }),
            row(push, Tool::Skopeo, image.bytes, move |host, _| {
                Ok(skopeo(&oci(&image.dir), &docker(host, &skopeo_repo)))
            }),
            row(pull, Tool::Ours, image.bytes, move |host, scratch| {
                ours(&[
                    "pull".into(),
                    text(&scratch.join("pulled")),
                    repo(host, &from_ours),
                ])
            }),
            row(pull, Tool::Skopeo, image.bytes, move |host, scratch| {
                Ok(skopeo(
                    &docker(host, &from_skopeo),
                    &oci(&scratch.join("pulled")),
                ))
            }),
        ]);
    }
    let repeat = "repeat push 16 x 64 MiB";
    let wide = "push 16 x 64 MiB, 16 at once";
    let copy = "copy 16 x 64 MiB to another repo";
    rows.extend([
        row(repeat, Tool::Ours, 0, move |host, _| {
            ours(&[
                "push".into(),
                text(&sixteen.dir),
                repo(host, "ours-sixteen"),
            ])
        }),
        row(repeat, Tool::Skopeo, 0, move |host, _| {
            Ok(skopeo(&oci(&sixteen.dir), &docker(host, "sk-sixteen")))
        }),
        row(wide, Tool::Ours, sixteen.bytes, move |host, _| {
            let target = repo(host, "ours-wide");
            ours(&["push".into(), text(&sixteen.dir), target, "16".into()])
        }),
        row(copy, Tool::Ours, sixteen.bytes, move |host, _| {
            let (from, to) = (repo(host, "ours-sixteen"), repo(host, "ours-copy"));
            ours(&["copy".into(), from, to])
        }),
        row(copy, Tool::Skopeo, sixteen.bytes, move |host, _| {
            Ok(skopeo(
                &docker(host, "sk-sixteen"),
                &docker(host, "sk-copy"),
            ))
        }),
    ]);
    rows.extend(curl_rows(one)?);
    Ok(rows)
}

/// The loopback ceiling: one monolithic PUT, one GET to a file.
fn curl_rows(one: &Image) -> Result<Vec<Row<'_>>, String> {
    let (digest, file) = one.first_layer.clone();
    let bytes = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();
    let put_digest = digest.clone();
    Ok(vec![
        row("push 1 GiB", Tool::Curl, bytes, move |host, _| {
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
        row("pull 1 GiB", Tool::Curl, bytes, move |host, scratch| {
            let mut command = Command::new("/usr/bin/curl");
            command.args(["-s", "-f", "-o"]).arg(scratch.join("blob"));
            command.arg(format!("http://{host}/v2/bench/ours-one/blobs/{digest}"));
            Ok(command)
        }),
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
