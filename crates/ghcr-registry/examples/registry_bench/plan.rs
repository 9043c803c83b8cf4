//! The rows: what each tool runs for each task.

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

/// Builds a row's command for a run, given a scratch folder.
pub(crate) type Build<'a> = Box<dyn Fn(usize, &Path) -> Result<Command, String> + 'a>;

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

pub(crate) fn rows<'a>(
    host: &'a str,
    one: &'a Image,
    sixteen: &'a Image,
) -> Result<Vec<Row<'a>>, String> {
    let mut rows = transfer_rows(host, one, sixteen);
    rows.extend(curl_rows(host, one)?);
    Ok(rows)
}

fn transfer_rows<'a>(host: &'a str, one: &'a Image, sixteen: &'a Image) -> Vec<Row<'a>> {
    let layout = |image: &Image| image.dir.display().to_string();
    let oci = |image: &Image| format!("oci:{}:v1", image.dir.display());
    let repo = move |name: String| format!("{host}/bench/{name}:v1");
    let mut rows: Vec<Row<'a>> = Vec::new();
    for (image, short) in [(one, "one"), (sixteen, "sixteen")] {
        let (push, pull) = match short {
            "one" => ("push 1 GiB", "pull 1 GiB"),
            _ => ("push 16 x 64 MiB", "pull 16 x 64 MiB"),
        };
        rows.push(Row {
            task: push,
            tool: Tool::Ours,
            bytes: image.bytes,
            build: Box::new(move |rep, _| {
                ours(&[
                    "push".into(),
                    layout(image),
                    repo(format!("ours-{short}-{rep}")),
                ])
            }),
        });
        rows.push(Row {
            task: push,
            tool: Tool::Skopeo,
            bytes: image.bytes,
            build: Box::new(move |rep, _| {
                Ok(skopeo(
                    &oci(image),
                    &format!("docker://{}", repo(format!("sk-{short}-{rep}"))),
                ))
            }),
        });
        rows.push(Row {
            task: pull,
            tool: Tool::Ours,
            bytes: image.bytes,
            build: Box::new(move |_, scratch| {
                ours(&[
                    "pull".into(),
                    scratch.join("pulled").display().to_string(),
                    repo(format!("ours-{short}-0")),
                ])
            }),
        });
        rows.push(Row {
            task: pull,
            tool: Tool::Skopeo,
            bytes: image.bytes,
            build: Box::new(move |_, scratch| {
                Ok(skopeo(
                    &format!("docker://{}", repo(format!("sk-{short}-0"))),
                    &format!("oci:{}:v1", scratch.join("pulled").display()),
                ))
            }),
        });
    }
    rows.extend(repeat_and_copy_rows(host, sixteen));
    rows
}

/// Nothing new to send; a copy between repositories of one registry.
fn repeat_and_copy_rows<'a>(host: &'a str, sixteen: &'a Image) -> Vec<Row<'a>> {
    let layout = |image: &Image| image.dir.display().to_string();
    let oci = |image: &Image| format!("oci:{}:v1", image.dir.display());
    let repo = move |name: String| format!("{host}/bench/{name}:v1");
    let mut rows: Vec<Row<'a>> = Vec::new();
    rows.push(Row {
        task: "repeat push 16 x 64 MiB",
        tool: Tool::Ours,
        bytes: 0,
        build: Box::new(move |_, _| {
            ours(&[
                "push".into(),
                layout(sixteen),
                repo("ours-sixteen-0".into()),
            ])
        }),
    });
    rows.push(Row {
        task: "repeat push 16 x 64 MiB",
        tool: Tool::Skopeo,
        bytes: 0,
        build: Box::new(move |_, _| {
            Ok(skopeo(
                &oci(sixteen),
                &format!("docker://{}", repo("sk-sixteen-0".into())),
            ))
        }),
    });
    rows.push(Row {
        task: "push 16 x 64 MiB, 16 at once",
        tool: Tool::Ours,
        bytes: sixteen.bytes,
        build: Box::new(move |rep, _| {
            let target = repo(format!("ours-wide-{rep}"));
            ours(&["push".into(), layout(sixteen), target, "16".into()])
        }),
    });
    rows.push(Row {
        task: "copy 16 x 64 MiB to another repo",
        tool: Tool::Ours,
        bytes: sixteen.bytes,
        build: Box::new(move |rep, _| {
            ours(&[
                "copy".into(),
                repo("ours-sixteen-0".into()),
                repo(format!("ours-copy-{rep}")),
            ])
        }),
    });
    rows.push(Row {
        task: "copy 16 x 64 MiB to another repo",
        tool: Tool::Skopeo,
        bytes: sixteen.bytes,
        build: Box::new(move |rep, _| {
            Ok(skopeo(
                &format!("docker://{}", repo("sk-sixteen-0".into())),
                &format!("docker://{}", repo(format!("sk-copy-{rep}"))),
            ))
        }),
    });
    rows
}

/// The loopback ceiling: one monolithic PUT, one GET to a file.
fn curl_rows<'a>(host: &'a str, one: &'a Image) -> Result<Vec<Row<'a>>, String> {
    let mut rows: Vec<Row<'a>> = Vec::new();
    let (digest, file) = one.first_layer.clone();
    let layer_bytes = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();
    let put_digest = digest.clone();
    rows.push(Row {
        task: "push 1 GiB",
        tool: Tool::Curl,
        bytes: layer_bytes,
        build: Box::new(move |rep, _| {
            let location = open_upload(host, &format!("bench/curl-{rep}"))?;
            let separator = if location.contains('?') { '&' } else { '?' };
            let mut command = Command::new("/usr/bin/curl");
            command.args([
                "-s",
                "-f",
                "-H",
                "Expect:",
                "-H",
                "Content-Type: application/octet-stream",
                "-T",
            ]);
            command
                .arg(&file)
                .arg(format!("{location}{separator}digest={put_digest}"));
            Ok(command)
        }),
    });
    rows.push(Row {
        task: "pull 1 GiB",
        tool: Tool::Curl,
        bytes: layer_bytes,
        build: Box::new(move |_, scratch| {
            let mut command = Command::new("/usr/bin/curl");
            command.args(["-s", "-f", "-o"]).arg(scratch.join("blob"));
            command.arg(format!("http://{host}/v2/bench/ours-one-0/blobs/{digest}"));
            Ok(command)
        }),
    });
    Ok(rows)
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
