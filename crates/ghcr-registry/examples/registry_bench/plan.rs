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

/// How big the benchmark's images are: one layer of `one` bytes, and
/// [`LAYERS`] layers of `each` bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub(crate) one: u64,
    pub(crate) each: u64,
}

/// Layers of the many-layer image.
pub(crate) const LAYERS: usize = 16;

impl Sizes {
    /// What the issue measures: 1 GiB, and 16 x 64 MiB.
    pub(crate) const FULL: Self = Self {
        one: 1 << 30,
        each: 64 << 20,
    };
    /// A check that every row still runs: 64 MiB, and 16 x 4 MiB.
    pub(crate) const QUICK: Self = Self {
        one: 64 << 20,
        each: 4 << 20,
    };

    pub(crate) fn is_full(self) -> bool {
        self.one == Self::FULL.one && self.each == Self::FULL.each
    }
}

/// `1 GiB`, `64 MiB`.
pub(crate) fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// What a row does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Task {
    PushOne,
    PullOne,
    PushMany,
    PullMany,
    RepeatPush,
    WidePush,
    Copy,
}

impl Task {
    pub(crate) fn name(self, sizes: Sizes) -> String {
        let (one, many) = (
            human(sizes.one),
            format!("{LAYERS} x {}", human(sizes.each)),
        );
        match self {
            Self::PushOne => format!("push {one}"),
            Self::PullOne => format!("pull {one}"),
            Self::PushMany => format!("push {many}"),
            Self::PullMany => format!("pull {many}"),
            Self::RepeatPush => format!("repeat push {many}"),
            Self::WidePush => format!("push {many}, {LAYERS} at once"),
            Self::Copy => format!("copy {many} to another repo"),
        }
    }
}

/// One task done by one tool.
pub(crate) struct Row<'a> {
    pub(crate) task: Task,
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
    task: Task,
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
pub(crate) fn rows<'a>(one: &'a Image, many: &'a Image) -> Result<Vec<Row<'a>>, String> {
    let mut rows = Vec::new();
    for (image, name, push, pull) in [
        (one, "one", Task::PushOne, Task::PullOne),
        (many, "many", Task::PushMany, Task::PullMany),
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
    rows.extend([
        row(Task::RepeatPush, Tool::Ours, 0, move |host, _| {
            ours(&["push".into(), text(&many.dir), repo(host, "ours-many")])
        }),
        row(Task::RepeatPush, Tool::Skopeo, 0, move |host, _| {
            Ok(skopeo(&oci(&many.dir), &docker(host, "sk-many")))
        }),
        row(Task::WidePush, Tool::Ours, many.bytes, move |host, _| {
            let target = repo(host, "ours-wide");
            ours(&["push".into(), text(&many.dir), target, LAYERS.to_string()])
        }),
        row(Task::Copy, Tool::Ours, many.bytes, move |host, _| {
            let (from, to) = (repo(host, "ours-many"), repo(host, "ours-copy"));
            ours(&["copy".into(), from, to])
        }),
        row(Task::Copy, Tool::Skopeo, many.bytes, move |host, _| {
            Ok(skopeo(&docker(host, "sk-many"), &docker(host, "sk-copy")))
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
        row(Task::PullOne, Tool::Curl, bytes, move |host, scratch| {
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
