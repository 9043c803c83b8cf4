//! `ghcr`: the command line of the ghcr workspace. Parses the arguments,
//! sets up tracing, runs the command and turns its outcome into a stable
//! exit code (see `exit.rs`). Only this crate prints or exits.

mod cli;
mod cmd;
mod context;
mod duration;
mod exit;
mod logging;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let out = output::Output::new(args.global.json);
    logging::init(args.global.verbose, args.global.json, &args.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return exit::report(
                &anyhow::Error::new(error).context("cannot start the async runtime"),
                out,
            );
        }
    };
    match runtime.block_on(cmd::run(args)) {
        Ok(()) => match output::write_failure() {
            // A result that did not reach stdout is no success.
            Some(failure) => exit::report(
                &anyhow::anyhow!("the result could not be written to stdout: {failure}"),
                out,
            ),
            None => ExitCode::SUCCESS,
        },
        Err(error) => exit::report(&error, out),
    }
}
