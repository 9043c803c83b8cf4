//! The cleanup rows of `cargo xtask bench`: an organization of 200
//! packages planned at once, and deletions at GitHub's secondary limit.
//!
//! `cleanup_bench all [--quick] [--out DIR]` runs, for 10,000 and 100,000
//! versions (50 and 500 a package; `--quick`: 10,000 only), a seeded fake
//! (`serve plan`) and the client planning an only-untagged cleanup of every
//! package (`plan`) as two processes, so the client's peak RSS is its own;
//! it reads the fake's request log. Each size runs with the release shape
//! and again with few and with many manifests to read (`--quick`: many
//! only). Then it deletes 300 untagged leftovers (`--quick`: 30) with the
//! client's default pacing, again as two processes (`serve deletes`,
//! `execute`). It prints Markdown tables and JSON lines, and writes both to
//! `DIR/cleanup.md` and `DIR/cleanup.json` when `--out` is given.

mod client;
mod orchestrate;
mod seed;
mod serve;
mod table;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("all") => orchestrate::run(&args[1..]),
        Some("serve") => serve::run(&args[1..]),
        Some("plan") => client::plan(&args[1..]),
        Some("execute") => client::execute(&args[1..]),
        _ => Err(
            "usage: cleanup_bench all [--quick] [--out DIR] | serve (plan VERSIONS_PER_PACKAGE SHAPE | deletes COUNT) | plan HOST | execute HOST"
                .to_owned(),
        ),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cleanup_bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
