//! `ghcr-fake`: the fake ghcr.io as a standalone server for people and other
//! tools (docker, skopeo, oras, the `ghcr` CLI), on plain HTTP.
//!
//! ```text
//! ghcr-fake --addr 127.0.0.1:5000 --profile ghcr --user alice:token-a --org octo-org:alice
//! ```

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use ghcr_sim::fake::{FakeGhcr, Profile};

/// A fake ghcr.io: registry, token endpoint and GitHub Packages API on one
/// address, the blob storage host on a second port. Stops on Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "ghcr-fake", version)]
struct Args {
    /// Address of the registry, token endpoint and Packages API.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Address of the storage host blob downloads are redirected to.
    #[arg(long, default_value = "127.0.0.1:0")]
    storage_addr: String,
    /// `ghcr` (ghcr.io's quirks) or `generic` (a spec-conforming registry).
    #[arg(long, default_value = "ghcr", value_parser = parse_profile)]
    profile: Profile,
    /// A user and its classic PAT, `NAME:TOKEN`; repeat for more.
    #[arg(long = "user", value_name = "NAME:TOKEN")]
    users: Vec<String>,
    /// An organization and its admins, `ORG:ADMIN[,ADMIN…]`; repeat for more.
    #[arg(long = "org", value_name = "ORG:ADMINS")]
    orgs: Vec<String>,
    /// The largest request body accepted, in bytes (blobs are kept in memory).
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024 * 1024)]
    max_request_body: u64,
}

/// Prints a line; a closed stdout (the reader went away) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn parse_profile(text: &str) -> Result<Profile, String> {
    match text {
        "ghcr" => Ok(Profile::Ghcr),
        "generic" => Ok(Profile::Generic),
        other => Err(format!("`{other}` is not a profile; use ghcr or generic")),
    }
}

fn split_pair<'a>(text: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    text.split_once(':')
        .filter(|(name, value)| !name.is_empty() && !value.is_empty())
        .ok_or_else(|| format!("`{text}` is not {what}"))
}

async fn run(args: Args) -> Result<(), String> {
    let mut builder = FakeGhcr::builder()
        .profile(args.profile)
        .addr(&args.addr)
        .storage_addr(&args.storage_addr)
        .max_request_body(args.max_request_body);
    let mut logins = Vec::new();
    for user in &args.users {
        let (name, token) = split_pair(user, "NAME:TOKEN")?;
        builder = builder.user(name, token);
        logins.push(name.to_owned());
    }
    for org in &args.orgs {
        let (name, admins) = split_pair(org, "ORG:ADMIN[,ADMIN…]")?;
        let admins: Vec<&str> = admins.split(',').map(str::trim).collect();
        builder = builder.org(name, &admins);
        logins.push(format!("{name} (org)"));
    }
    let fake = builder.start().await.map_err(|err| err.to_string())?;
    say!("ghcr-fake: {} profile", fake.profile().as_str());
    say!(
        "registry  {}  (plain HTTP: docker/skopeo need --tls-verify=false)",
        fake.registry_host()
    );
    say!("token     {}", fake.token_realm());
    say!("api       {}", fake.api_base());
    say!("storage   {}", fake.storage_host());
    if logins.is_empty() {
        say!("accounts  none: add --user NAME:TOKEN to push");
    } else {
        say!("accounts  {}", logins.join(", "));
    }
    say!("press Ctrl-C to stop");
    wait_for_stop().await;
    fake.shutdown().await;
    say!("ghcr-fake: stopped");
    Ok(())
}

/// Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("ghcr-fake: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ghcr-fake: {message}");
            ExitCode::FAILURE
        }
    }
}
