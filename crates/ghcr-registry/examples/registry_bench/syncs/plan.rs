//! The sync rows: what each does, with which tool, and where it lands.
//! Every row syncs from the first registry to the second.

use std::process::Command;

use super::seed::{SMALL_LAYER, SMALL_LAYERS, SyncSizes};

/// What a row does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Task {
    Small,
    Large,
    Unchanged,
}

impl Task {
    /// `a`, `b` or `c`, as issue 14 lists them.
    pub(crate) fn letter(self) -> &'static str {
        match self {
            Self::Small => "a",
            Self::Large => "b",
            Self::Unchanged => "c",
        }
    }

    pub(crate) fn name(self, sizes: SyncSizes) -> String {
        match self {
            Self::Small => format!(
                "a) {} tags x {SMALL_LAYERS} x {} KiB (shared base), registry to registry",
                sizes.small_tags,
                SMALL_LAYER >> 10
            ),
            Self::Large => format!(
                "b) {} tags x {} x {} MiB, registry to registry",
                sizes.large_tags,
                sizes.large_layers,
                sizes.large_layer >> 20
            ),
            Self::Unchanged => "c) (b) again, nothing changed".to_owned(),
        }
    }

    /// Tags the target must hold after the row.
    pub(crate) fn tags(self, sizes: SyncSizes) -> usize {
        match self {
            Self::Small => sizes.small_tags,
            Self::Large | Self::Unchanged => sizes.large_tags,
        }
    }
}

/// Who runs a row.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tool {
    /// Our library with its defaults: the rows issue 14's targets are for.
    Ours,
    /// A variant of ours (`--explain`), no target.
    Variant,
    Skopeo,
}

/// Builds a row's command from the two registries' hosts.
type Build = Box<dyn Fn(&str, &str) -> Command>;

/// One task done by one tool.
pub(crate) struct Row {
    pub(crate) task: Task,
    /// `ghcr-registry`, `skopeo 1.9`, or a variant of ours.
    pub(crate) name: String,
    pub(crate) tool: Tool,
    /// The repository the tags land in, on the target registry.
    pub(crate) lands: &'static str,
    /// `(source registry, target registry)` to the command.
    pub(crate) build: Build,
}

fn ours(source: String, target: String, extra: &[&str]) -> Command {
    let mut command =
        Command::new(std::env::current_exe().unwrap_or_else(|_| "registry_bench".into()));
    command.arg("sync-row").arg(source).arg(target).args(extra);
    command
}

/// `skopeo sync` of a whole repository into `prefix` (it lands at
/// `prefix/<the source's last path component>`).
fn skopeo(source: String, prefix: String) -> Command {
    let mut command = Command::new("/usr/bin/skopeo");
    command.args([
        "sync",
        "--src",
        "docker",
        "--dest",
        "docker",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--preserve-digests",
    ]);
    command.arg(source).arg(prefix);
    command
}

fn row(
    (task, name, tool): (Task, &str, Tool),
    lands: &'static str,
    build: impl Fn(&str, &str) -> Command + 'static,
) -> Row {
    Row {
        task,
        name: name.to_owned(),
        tool,
        lands,
        build: Box::new(build),
    }
}

/// Every row, in the order they run within one run.
pub(crate) fn rows(explain: bool) -> Vec<Row> {
    const OURS: &str = "ghcr-registry";
    const SKOPEO: &str = "skopeo 1.9";
    let mut rows = vec![
        row(
            (Task::Small, OURS, Tool::Ours),
            "bench/ours-small",
            |here, far| {
                ours(
                    format!("{here}/bench/small"),
                    format!("{far}/bench/ours-small"),
                    &[],
                )
            },
        ),
        row(
            (Task::Small, SKOPEO, Tool::Skopeo),
            "sk/small",
            |here, far| skopeo(format!("{here}/bench/small"), format!("{far}/sk")),
        ),
    ];
    for task in [Task::Large, Task::Unchanged] {
        rows.extend([
            row((task, OURS, Tool::Ours), "bench/ours-large", |here, far| {
                ours(
                    format!("{here}/bench/large"),
                    format!("{far}/bench/ours-large"),
                    &[],
                )
            }),
            row((task, SKOPEO, Tool::Skopeo), "sk/large", |here, far| {
                skopeo(format!("{here}/bench/large"), format!("{far}/sk"))
            }),
        ]);
    }
    if explain {
        for (name, repo, extra) in [
            (
                "ours, defaults, after the rest",
                "bench/ours-again",
                &[][..],
            ),
            ("ours, 1 image at a time", "bench/ours-images", &["1"][..]),
            (
                "ours, 1 blob per image",
                "bench/ours-blobs",
                &["0", "1"][..],
            ),
            (
                "ours, 1 MiB resume buffer",
                "bench/ours-window",
                &["0", "0", "1048576"][..],
            ),
        ] {
            let build = move |here: &str, far: &str| {
                ours(
                    format!("{here}/bench/large"),
                    format!("{far}/{repo}"),
                    extra,
                )
            };
            rows.push(row((Task::Large, name, Tool::Variant), repo, build));
        }
    }
    rows
}
