//! Tracing to stderr: warnings by default (retries, rate-limit waits), `-v`
//! for each request, `-vv` for everything; `serve` logs its runs at info.
//! `RUST_LOG`, when set, wins. With `--json` every line is a JSON object.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::cli::Command;

/// The crates whose events `-v` shows (`ghcr` is both the library and
/// this binary, whose modules log as `ghcr::cmd::…`).
const OURS: [&str; 5] = [
    "ghcr",
    "ghcr_auth",
    "ghcr_transport",
    "ghcr_registry",
    "ghcr_packages",
];

/// The filter for a verbosity and command.
pub(crate) fn filter(verbose: u8, command: &Command) -> String {
    let ours = |level: &str| {
        OURS.iter()
            .map(|name| format!("{name}={level}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    match (verbose, command) {
        (0, Command::Serve { .. }) => "warn,ghcr::cmd=info".to_owned(),
        (0, _) => "warn".to_owned(),
        (1, _) => format!("warn,{}", ours("debug")),
        _ => format!("info,hyper=debug,{}", ours("trace")),
    }
}

/// Installs the subscriber: text, or with --json one JSON object a line
/// (what log collectors read from `ghcr serve`).
pub(crate) fn init(verbose: u8, json: bool, command: &Command) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| filter(verbose, command));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !json)
        .with_target(verbose > 0);
    // A second subscriber (never in practice) leaves the first in place.
    let _ = if json {
        tracing::subscriber::set_global_default(builder.json().finish())
    } else {
        tracing::subscriber::set_global_default(builder.finish())
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_widens_the_filter() {
        assert_eq!(filter(0, &Command::RateLimit), "warn");
        assert!(filter(1, &Command::RateLimit).contains("ghcr_transport=debug"));
        assert!(filter(2, &Command::RateLimit).contains("ghcr_registry=trace"));
        let serve = Command::Serve {
            policies: "p.toml".into(),
            bind: "0.0.0.0".into(),
            port: 8080,
            check: false,
            once: false,
        };
        assert!(filter(0, &serve).contains("ghcr::cmd=info"));
        for level in [filter(0, &serve), filter(3, &serve)] {
            assert!(EnvFilter::try_new(&level).is_ok(), "{level}");
        }
    }
}
