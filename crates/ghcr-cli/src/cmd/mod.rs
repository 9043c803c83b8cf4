//! One module per command (or per family of small ones); `run` picks it.

mod artifact;
mod blob;
mod cleanup;
mod cleanups;
mod copy;
mod demo;
mod docs;
mod journal;
mod login;
mod manifest;
mod packages;
mod pull;
mod push;
mod rate_limit;
mod referrers;
mod rm;
mod serve;
mod size;
mod sync;
mod sync_pairs;
mod tags;
mod verify;
mod versions;
mod vulns;
mod whole;

use crate::cli::{Args, Command};
use crate::context::Setup;
use crate::output::Output;

/// Runs the command the arguments name.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let out = Output::new(args.global.json);
    // The demo brings its own registry: the environment's settings do not apply.
    match &args.command {
        Command::Demo => return demo::run(out).await,
        // Neither reads the environment: they describe the command line.
        Command::Completion { shell } => return docs::completion(*shell),
        Command::Man { dir } => return docs::man(dir),
        _ => {}
    }
    let setup = Setup::from_env(&args.global, out)?;
    match args.command {
        Command::Demo => demo::run(out).await,
        Command::Completion { shell } => docs::completion(shell),
        Command::Man { dir } => docs::man(&dir),
        Command::Manifest(target) => manifest::manifest(setup, &target).await,
        Command::Digest(target) => manifest::digest(setup, &target).await,
        Command::Config(target) => manifest::config(setup, &target).await,
        Command::Ls { repository, filter } => tags::ls(setup, &repository, filter.as_deref()).await,
        Command::Sync(args) => sync::run(setup, &args).await,
        Command::Tag { reference, tags } => tags::tag(setup, &reference, &tags).await,
        Command::Push {
            layout,
            reference,
            platform,
        } => push::run(setup, &layout, &reference, platform.as_deref()).await,
        Command::Pull {
            reference,
            dir,
            platform,
            format,
        } => pull::run(setup, &reference, &dir, platform.as_deref(), format).await,
        Command::Cp {
            source,
            target,
            platform,
        } => copy::run(setup, &source, &target, platform.as_deref()).await,
        Command::Rm {
            reference,
            force,
            owner,
        } => rm::run(setup, &reference, force, owner).await,
        Command::Blob { reference, output } => {
            blob::run(setup, &reference, output.as_deref()).await
        }
        Command::Referrers {
            reference,
            artifact_type,
        } => referrers::run(setup, &reference, artifact_type.as_deref()).await,
        Command::Verify {
            reference,
            policy,
            kind,
            predicate_type,
        } => verify::run(setup, &reference, &policy, kind, predicate_type.as_deref()).await,
        Command::Artifact(command) => artifact::run(setup, command).await,
        Command::Size { reference } => size::run(setup, &reference).await,
        Command::Packages(command) => packages::run(setup, command).await,
        Command::Versions(command) => versions::run(setup, command).await,
        Command::Cleanup(cleanup) => cleanup::run(setup, &cleanup).await,
        Command::Vulns(vulns) => vulns::vulns(setup, &vulns).await,
        Command::Gate(gate) => vulns::gate(setup, &gate).await,
        Command::RateLimit => rate_limit::run(setup).await,
        Command::Login {
            registry,
            username,
            password,
            password_stdin,
        } => {
            let password = login::Password::from_flags(password, password_stdin)?;
            login::login(setup, registry.as_deref(), &username, password).await
        }
        Command::Logout { registry } => login::logout(&setup, registry.as_deref()).await,
        Command::Serve {
            policies,
            check: true,
            ..
        } => serve::check(setup.out, &policies, setup.registry()),
        Command::Serve {
            policies,
            once: true,
            ..
        } => serve::once(setup, &policies).await,
        Command::Serve {
            policies,
            bind,
            port,
            ..
        } => serve::run(setup, &policies, &bind, port).await,
    }
}
