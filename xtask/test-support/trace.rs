//! Tracing into files for the secrets scan, shared by every crate's
//! `tests/it/support` (included with `#[path]`): with `GHCR_TEST_TRACE_DIR`
//! set, as `cargo xtask ci` sets it, a test binary writes its tracing to
//! `<dir>/<package>-<pid>.log`, our crates at TRACE and hyper, h2 and rustls
//! at info; `cargo xtask ci` then scans the files for the tests' secrets.
//! Without the variable nothing is installed.

use std::sync::Mutex;

use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The folder the trace files go to.
const DIR_VAR: &str = "GHCR_TEST_TRACE_DIR";

/// Ours at TRACE, the HTTP and TLS stack at info.
const FILTER: &str = "info,ghcr=trace,ghcr_auth=trace,ghcr_transport=trace,\
    ghcr_registry=trace,ghcr_packages=trace,ghcr_trust=trace,ghcr_sim=trace,ghcr_cli=trace,\
    hyper=info,hyper_util=info,h2=info,rustls=info";

/// A layer writing to this binary's trace file, when the variable names a
/// folder (created if missing).
pub(crate) fn file_layer<S>() -> Option<Box<dyn Layer<S> + Send + Sync>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let dir = std::env::var_os(DIR_VAR).filter(|dir| !dir.is_empty())?;
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).ok()?;
    let name = format!("{}-{}.log", env!("CARGO_PKG_NAME"), std::process::id());
    let file = std::fs::File::create(dir.join(name)).ok()?;
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .with_filter(EnvFilter::new(FILTER));
    Some(Box::new(layer))
}

/// Installs the file layer as this binary's subscriber, once; a no-op
/// without the variable or when another subscriber came first.
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some(layer) = file_layer() {
            let _ = tracing_subscriber::registry().with(layer).try_init();
        }
    });
}
