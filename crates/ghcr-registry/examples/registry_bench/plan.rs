//! The transfer rows: what each tool runs for each task, the tools
//! alternating within each task (ours, oci-client, skopeo, then curl's
//! ceiling) so drift on the shared machine hits them alike. Every transfer
//! row gets a fresh registry (a push starts from an empty one; a pull,
//! repeat push or copy from one our client seeded with what it reads,
//! untimed), so repositories need no run suffix and skopeo's blob-info
//! cache knows no location on it to mount from.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::layouts::Image;

/// Who moves the bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Tool {
    Ours,
    OciClient,
    Skopeo,
    Curl,
    /// curl to a file, then `sync FILE` (fsync): the ceiling of a pull
    /// that keeps what it wrote across a crash, as ours does.
    CurlSynced,
}

impl Tool {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ours => "ghcr-registry",
            Self::OciClient => "oci-client 0.18",
            Self::Skopeo => "skopeo 1.9",
            Self::Curl => "curl",
            Self::CurlSynced => "curl, then fsync",
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
    /// Calls in each latency row.
    pub(crate) calls: usize,
    /// Tags of the tag-list repository.
    pub(crate) tags: usize,
    /// Images of the small-image rows (see `small.rs`).
    pub(crate) small: usize,
}

/// Layers of the many-layer image.
pub(crate) const LAYERS: usize = 16;

impl Sizes {
    /// What the issue measures: 1 GiB, 16 x 64 MiB, 1,000 calls, 10,000
    /// tags and 256 small images.
    pub(crate) const FULL: Self = Self {
        one: 1 << 30,
        each: 64 << 20,
        calls: 1000,
        tags: 10_000,
        small: 256,
    };
    /// A check that every row still runs: 64 MiB, 16 x 4 MiB, 100 calls,
    /// 1,000 tags and 32 small images.
    pub(crate) const QUICK: Self = Self {
        one: 64 << 20,
        each: 4 << 20,
        calls: 100,
        tags: 1000,
        small: 32,
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
    /// [`Task::WidePush`] with one PUT per blob (`UploadMode::Monolithic`).
    PutPush,
    Copy,
    PushSmall,
    PullSmall,
    ManifestHead,
    ManifestGet,
    TagList,
}

impl Task {
    /// The tasks that move the benchmark's two layouts.
    pub(crate) const TRANSFERS: [Self; 8] = [
        Self::PushOne,
        Self::PullOne,
        Self::PushMany,
        Self::PullMany,
        Self::RepeatPush,
        Self::WidePush,
        Self::PutPush,
        Self::Copy,
    ];

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
            Self::PutPush => format!("push {many}, {LAYERS} at once, one PUT each"),
            Self::Copy => format!("copy {many} to another repo"),
            Self::PushSmall | Self::PullSmall => format!(
                "{} {} small images of {} x 64 KiB (one shared), one process",
                if self == Self::PushSmall {
                    "push"
                } else {
                    "pull"
                },
                sizes.small,
                crate::small::LAYERS
            ),
            Self::ManifestHead => format!("{} manifest HEADs", sizes.calls),
            Self::ManifestGet => format!("{} manifest GETs", sizes.calls),
            Self::TagList => format!(
                "{} tag lists of {} tags, {} a page",
                sizes.calls,
                sizes.tags,
                crate::latency::PAGE
            ),
        }
    }
}

/// One task done by one tool.
pub(crate) struct Row<'a> {
    pub(crate) task: Task,
    pub(crate) tool: Tool,
    /// Blob bytes the row moves (0: nothing should move).
    pub(crate) bytes: u64,
    /// Against the token-auth registry rather than the open one.
    pub(crate) token: bool,
    /// `None`: the run's registry, seeded for the latency rows; else a
    /// fresh registry for this row alone, seeded with these first.
    pub(crate) seeds: Option<Vec<Seed>>,
    pub(crate) build: Build<'a>,
}

impl Row<'_> {
    /// On a fresh registry seeded with `seeds`.
    pub(crate) fn seeded(mut self, seeds: Vec<Seed>) -> Self {
        self.seeds = Some(seeds);
        self
    }

    /// On the run's registry (the latency rows' seeded one).
    pub(crate) fn shared(mut self) -> Self {
        self.seeds = None;
        self
    }

    /// The task's name, and the registry when it is the token-auth one.
    pub(crate) fn name(&self, sizes: Sizes) -> String {
        let name = self.task.name(sizes);
        if self.token {
            format!("{name}, token auth")
        } else {
            name
        }
    }

    /// Whether the row times calls (p50, p99) rather than a transfer.
    pub(crate) fn is_latency(&self) -> bool {
        matches!(
            self.task,
            Task::ManifestHead | Task::ManifestGet | Task::TagList
        )
    }
}

fn exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| e.to_string())
}

/// `registry_bench row <args>`.
pub(crate) fn ours(args: &[String]) -> Result<Command, String> {
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

/// `<peer> <args>`: the oci-client peer binary.
pub(crate) fn peer(binary: &Path, args: &[String]) -> Command {
    let mut command = Command::new(binary);
    command.args(args);
    command
}

pub(crate) fn repo(host: &str, name: &str) -> String {
    format!("{host}/bench/{name}:v1")
}

fn docker(host: &str, name: &str) -> String {
    format!("docker://{}", repo(host, name))
}

fn oci_dir(dir: &Path) -> String {
    format!("oci:{}:v1", dir.display())
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// A row on a fresh, empty registry; see [`Row::seeded`] and
/// [`Row::shared`].
pub(crate) fn row<'a>(
    task: Task,
    tool: Tool,
    bytes: u64,
    build: impl Fn(&str, &Path) -> Result<Command, String> + 'a,
) -> Row<'a> {
    Row {
        task,
        tool,
        bytes,
        token: false,
        seeds: Some(Vec::new()),
        build: Box::new(build),
    }
}

/// What our client pushes (untimed) onto a row's fresh registry first: a
/// layout's manifest `name` as `target` (`bench/many:v1`).
pub(crate) struct Seed {
    pub(crate) dir: PathBuf,
    pub(crate) name: String,
    pub(crate) target: String,
}

impl Seed {
    /// `image`'s `v1` as `bench/<repository>:v1`.
    pub(crate) fn image(image: &Image, repository: &str) -> Self {
        Self {
            dir: image.dir.clone(),
            name: "v1".to_owned(),
            target: format!("bench/{repository}:v1"),
        }
    }
}

/// Every transfer row, in the order they run within one run; the
/// oci-client rows only with its binary. Each runs on a fresh registry:
/// pushes on an empty one, the rest on one our client seeded (untimed)
/// with what they read, the same for every tool.
pub(crate) fn rows<'a>(
    one: &'a Image,
    many: &'a Image,
    oci: Option<&'a Path>,
) -> Result<Vec<Row<'a>>, String> {
    let mut rows = Vec::new();
    for (image, name, push, pull) in [
        (one, "one", Task::PushOne, Task::PullOne),
        (many, "many", Task::PushMany, Task::PullMany),
    ] {
        let bytes = image.bytes;
        let dir = || text(&image.dir);
        let pulled = |scratch: &Path| text(&scratch.join("pulled"));
        let (ours_repo, oc_repo, sk_repo) = (
            format!("ours-{name}"),
            format!("oc-{name}"),
            format!("sk-{name}"),
        );
        rows.push(row(push, Tool::Ours, bytes, move |host, _| {
            ours(&["push".into(), dir(), repo(host, &ours_repo)])
        }));
        if let Some(binary) = oci {
            rows.push(row(push, Tool::OciClient, bytes, move |host, _| {
                Ok(peer(binary, &["push".into(), dir(), repo(host, &oc_repo)]))
            }));
        }
        rows.push(row(push, Tool::Skopeo, bytes, move |host, _| {
            Ok(skopeo(&oci_dir(&image.dir), &docker(host, &sk_repo)))
        }));
        let seeds = || vec![Seed::image(image, name)];
        rows.push(
            row(pull, Tool::Ours, bytes, move |host, scratch| {
                ours(&["pull".into(), pulled(scratch), repo(host, name)])
            })
            .seeded(seeds()),
        );
        if let Some(binary) = oci {
            rows.push(
                row(pull, Tool::OciClient, bytes, move |host, scratch| {
                    Ok(peer(
                        binary,
                        &["pull".into(), repo(host, name), pulled(scratch)],
                    ))
                })
                .seeded(seeds()),
            );
        }
        rows.push(
            row(pull, Tool::Skopeo, bytes, move |host, scratch| {
                Ok(skopeo(
                    &docker(host, name),
                    &oci_dir(&scratch.join("pulled")),
                ))
            })
            .seeded(seeds()),
        );
    }
    rows.extend(repeat_and_copy(many, oci));
    rows.extend(crate::curl::rows(one)?);
    Ok(rows)
}

/// The many-layer image pushed again onto a registry that has it (no blob
/// should move), pushed 16 at once by us (oci-client's push is 16 at once
/// already), also with one PUT per blob as oci-client sends them, and
/// copied to another repository.
fn repeat_and_copy<'a>(many: &'a Image, oci: Option<&'a Path>) -> Vec<Row<'a>> {
    let dir = || text(&many.dir);
    let seeds = || vec![Seed::image(many, "many")];
    let mut rows = vec![
        row(Task::RepeatPush, Tool::Ours, 0, move |host, _| {
            ours(&["push".into(), dir(), repo(host, "many")])
        })
        .seeded(seeds()),
    ];
    if let Some(binary) = oci {
        rows.push(
            row(Task::RepeatPush, Tool::OciClient, 0, move |host, _| {
                Ok(peer(binary, &["push".into(), dir(), repo(host, "many")]))
            })
            .seeded(seeds()),
        );
    }
    rows.push(
        row(Task::RepeatPush, Tool::Skopeo, 0, move |host, _| {
            Ok(skopeo(&oci_dir(&many.dir), &docker(host, "many")))
        })
        .seeded(seeds()),
    );
    rows.push(row(
        Task::WidePush,
        Tool::Ours,
        many.bytes,
        move |host, _| {
            let target = repo(host, "ours-wide");
            ours(&["push".into(), dir(), target, LAYERS.to_string()])
        },
    ));
    rows.push(row(
        Task::PutPush,
        Tool::Ours,
        many.bytes,
        move |host, _| {
            let target = repo(host, "ours-put");
            let mut command = ours(&["push".into(), dir(), target, LAYERS.to_string()])?;
            command.env("BENCH_UPLOAD", "monolithic");
            Ok(command)
        },
    ));
    rows.push(
        row(Task::Copy, Tool::Ours, many.bytes, move |host, _| {
            let (from, to) = (repo(host, "many"), repo(host, "ours-copy"));
            ours(&["copy".into(), from, to])
        })
        .seeded(seeds()),
    );
    if let Some(binary) = oci {
        rows.push(
            row(Task::Copy, Tool::OciClient, many.bytes, move |host, _| {
                let (from, to) = (repo(host, "many"), repo(host, "oc-copy"));
                Ok(peer(binary, &["copy".into(), from, to]))
            })
            .seeded(seeds()),
        );
    }
    rows.push(
        row(Task::Copy, Tool::Skopeo, many.bytes, move |host, _| {
            Ok(skopeo(&docker(host, "many"), &docker(host, "sk-copy")))
        })
        .seeded(seeds()),
    );
    rows
}
