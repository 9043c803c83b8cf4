//! Progress bars for push, pull and copy: one bar per blob on stderr, only
//! when stderr is a terminal (quiet in CI and under tests).

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, PoisonError};

use ghcr::registry::{Progress, ProgressEvent, SkipReason};
use ghcr::types::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Whether bars are drawn: stderr is a terminal and nobody asked for quiet.
pub(crate) fn wanted() -> bool {
    std::io::stderr().is_terminal()
}

/// A progress sink drawing bars, or none when stderr is not a terminal.
pub(crate) fn bars() -> Progress {
    if !wanted() {
        return Progress::none();
    }
    let multi = MultiProgress::new();
    let bars: Arc<Mutex<HashMap<Option<Digest>, ProgressBar>>> = Arc::default();
    Progress::new(move |event| {
        let mut bars = bars.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            ProgressEvent::Started { digest, total, .. } => {
                let bar = multi.add(new_bar(total, digest.as_ref()));
                bars.insert(digest, bar);
            }
            ProgressEvent::Advanced {
                digest,
                done,
                total,
            } => {
                if let Some(bar) = bars.get(&digest) {
                    if let Some(total) = total {
                        bar.set_length(total);
                    }
                    bar.set_position(done);
                }
            }
            ProgressEvent::Finished { digest, size } => {
                if let Some(bar) = bars.remove(&Some(digest.clone())) {
                    bar.set_position(size);
                    bar.finish_with_message("done");
                }
            }
            ProgressEvent::Skipped { digest, reason, .. } => {
                let bar = multi.add(new_bar(None, Some(&digest)));
                bar.finish_with_message(skip_word(reason));
            }
            ProgressEvent::TagSynced {
                tag,
                copied,
                done,
                total,
            } => {
                let _ = multi.println(tag_line(&tag, copied, done, total));
            }
            _ => {}
        }
    })
}

/// A sync's line for a finished tag: `[3/30] v1.2 copied`.
pub(crate) fn tag_line(tag: &str, copied: bool, done: usize, total: usize) -> String {
    let what = if copied {
        "copied"
    } else {
        "failed (its target tag is unchanged)"
    };
    format!("[{done}/{total}] {tag} {what}")
}

/// What a skipped blob's line says.
pub(crate) fn skip_word(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::Exists => "already there",
        SkipReason::Mounted => "mounted",
        _ => "skipped",
    }
}

/// `sha256:0123456789ab`, enough to tell blobs apart.
pub(crate) fn short(digest: &Digest) -> String {
    let encoded = digest.encoded();
    format!(
        "{}:{}",
        digest.algorithm_name(),
        &encoded[..encoded.len().min(12)]
    )
}

fn new_bar(total: Option<u64>, digest: Option<&Digest>) -> ProgressBar {
    let bar = ProgressBar::new(total.unwrap_or(0));
    let template = "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(digest.map_or_else(|| "blob".to_owned(), short));
    bar
}
