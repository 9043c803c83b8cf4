//! The small-image rows: [`Sizes::small`](crate::plan::Sizes) images of
//! four 64 KiB layers each, the first layer shared by all, pushed one
//! after another by one process into one repository (tags `i000`, …),
//! then pulled back the same way, each into its own folder. One client
//! for the whole row, so what it measures is connection and token reuse.
//! The images are one OCI layout whose index names every manifest.

use std::path::{Path, PathBuf};

use ghcr_types::Digest;
use serde_json::json;

use crate::layouts::{write_index, write_manifest, write_random};
use crate::plan::{self, Row, Seed, Task, Tool, ours, peer};

/// Bytes of each small layer.
pub(crate) const LAYER: usize = 64 << 10;

/// Layers of each small image, the shared base included.
pub(crate) const LAYERS: usize = 4;

/// The small images' layout.
pub(crate) struct Images {
    pub(crate) dir: PathBuf,
    pub(crate) count: usize,
    /// Blob bytes a push of all of them uploads (the base once).
    pub(crate) pushed: u64,
    /// Blob bytes a pull of all of them downloads (the base every time).
    pub(crate) pulled: u64,
}

/// `i007`.
pub(crate) fn tag(n: usize) -> String {
    format!("i{n:03}")
}

/// Writes `count` small images into one layout at `dir`.
pub(crate) fn write(dir: &Path, count: usize) -> Result<Images, String> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| e.to_string())?;
    let (base, _) = write_random(&blobs, LAYER, 5000)?;
    let mut entries = Vec::new();
    let (mut pushed, mut pulled) = (LAYER as u64, 0u64);
    for n in 0..count {
        let mut layers: Vec<Digest> = vec![base.clone()];
        for k in 1..LAYERS {
            let seed = 10_000 + (n * LAYERS + k) as u64;
            layers.push(write_random(&blobs, LAYER, seed)?.0);
        }
        let descriptors: Vec<_> = layers
            .iter()
            .map(|d| {
                json!({
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": d.as_str(),
                    "size": LAYER,
                })
            })
            .collect();
        let written = write_manifest(&blobs, &descriptors)?;
        let own = ((LAYERS - 1) * LAYER + written.config_size) as u64;
        pushed += own;
        pulled += own + LAYER as u64;
        entries.push(written.entry(&tag(n)));
    }
    write_index(dir, &entries)?;
    Ok(Images {
        dir: dir.to_path_buf(),
        count,
        pushed,
        pulled,
    })
}

/// Push then pull of the small images, ours then oci-client's; `token`
/// marks them for the token-auth registry. Each push starts from an empty
/// registry; each pull from one our client seeded with every image.
pub(crate) fn rows<'a>(images: &'a Images, oci: Option<&'a Path>, token: bool) -> Vec<Row<'a>> {
    let dir = || images.dir.display().to_string();
    let count = images.count.to_string();
    let repo = |host: &str, name: &str| format!("{host}/bench/{name}");
    let mut rows = Vec::new();
    let c = count.clone();
    rows.push(plan::row(
        Task::PushSmall,
        Tool::Ours,
        images.pushed,
        move |host, _| {
            ours(&[
                "push-small".into(),
                dir(),
                repo(host, "ours-small"),
                c.clone(),
            ])
        },
    ));
    if let Some(binary) = oci {
        let c = count.clone();
        rows.push(plan::row(
            Task::PushSmall,
            Tool::OciClient,
            images.pushed,
            move |host, _| {
                Ok(peer(
                    binary,
                    &[
                        "push-small".into(),
                        dir(),
                        repo(host, "oc-small"),
                        c.clone(),
                    ],
                ))
            },
        ));
    }
    let pulled = |scratch: &Path| scratch.join("pulled").display().to_string();
    let seeds = || -> Vec<Seed> {
        (0..images.count)
            .map(|n| Seed {
                dir: images.dir.clone(),
                name: tag(n),
                target: format!("bench/small:{}", tag(n)),
            })
            .collect()
    };
    let c = count.clone();
    rows.push(
        plan::row(
            Task::PullSmall,
            Tool::Ours,
            images.pulled,
            move |host, scratch| {
                ours(&[
                    "pull-small".into(),
                    pulled(scratch),
                    repo(host, "small"),
                    c.clone(),
                ])
            },
        )
        .seeded(seeds()),
    );
    if let Some(binary) = oci {
        rows.push(
            plan::row(
                Task::PullSmall,
                Tool::OciClient,
                images.pulled,
                move |host, scratch| {
                    let args = [
                        "pull-small".into(),
                        repo(host, "small"),
                        count.clone(),
                        pulled(scratch),
                    ];
                    Ok(peer(binary, &args))
                },
            )
            .seeded(seeds()),
        );
    }
    for each in &mut rows {
        each.token = token;
    }
    rows
}
