//! The command line as clap reads it: global flags, and one variant per
//! command with its arguments. Names here are fixed for scripts.

mod artifact;
mod github;
mod policy;

pub(crate) use artifact::{ArtifactCommand, ArtifactFiles};
pub(crate) use policy::PolicyArgs;

pub(crate) use github::{
    CleanupArgs, GateArgs, OwnerKind, PackagesCommand, VersionIds, VersionsCommand, VulnsArgs,
};

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};

use crate::exit::EXIT_CODES_HELP;

/// What `ghcr pull` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PullFormat {
    /// An OCI image layout folder.
    Oci,
    /// An OCI image layout in a tar file.
    OciArchive,
    /// A `docker save` tar file (one platform, uncompressed layers).
    DockerArchive,
}

/// What `ghcr verify` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VerifyType {
    /// cosign signatures (`cosign sign --key`): the .sig tag and referrers.
    Signature,
    /// Attestations: `cosign attest --key`'s DSSE envelopes of in-toto
    /// statements (the .att tag and referrers), and keyless Sigstore
    /// bundles (referrers).
    Attestation,
}

/// A fast and safe client for GitHub Container Registry (ghcr.io) and any
/// OCI registry, with the GitHub Packages API.
///
/// Credentials come from GHCR_USERNAME/GHCR_TOKEN, GITHUB_TOKEN, then the
/// Docker config and its credential helpers (`ghcr login` writes it).
/// GHCR_REGISTRY names the registry of references without one (default
/// ghcr.io); see the README for every GHCR_* setting.
#[derive(Debug, Parser)]
#[command(name = "ghcr", version, after_help = EXIT_CODES_HELP)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command takes.
#[derive(Debug, ClapArgs)]
pub(crate) struct Global {
    /// Print JSON on stdout instead of text, errors included.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Trace to stderr: -v for requests, -vv for everything.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Talk plain HTTP to the registries this command names (local test
    /// registries) and to an http:// GHCR_API_BASE; warns unless they are
    /// on loopback.
    #[arg(long, global = true)]
    pub(crate) plain_http: bool,
    /// Let a registry's upload Location or tag Link lead to this other
    /// `HOST[:PORT]` (its own upload or storage host), without credentials;
    /// repeatable (all on the same side of the command name), added to
    /// GHCR_ALLOW_ORIGINS.
    #[arg(long, global = true, value_name = "HOST[:PORT]")]
    pub(crate) allow_origin: Vec<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print an image's manifest (the exact bytes; JSON adds its digest).
    Manifest(PlatformRef),
    /// Print only the digest a reference resolves to.
    Digest(PlatformRef),
    /// Print an image's config blob.
    Config(PlatformRef),
    /// List a repository's tags, one a line.
    Ls {
        /// The repository (`ghcr.io/OWNER/NAME`).
        repository: String,
        /// Only tags this regular expression matches (anchor with ^…$).
        #[arg(long)]
        filter: Option<String>,
    },
    /// Push an OCI image layout (`DIR` or `DIR:TAG` for one of its entries)
    /// or a tarball (`docker save` output or an OCI layout tarball, plain
    /// or gzipped), streamed from the file without unpacking it.
    Push {
        /// The layout folder or tarball, optionally `:NAME` of one of its
        /// images (a layout's index.json name, or a docker `repo:tag`).
        #[arg(value_name = "DIR|FILE[:TAG]")]
        layout: String,
        /// Where to push; without a tag, the named image's tag is the tag.
        reference: String,
        /// Push only this platform of a multi-platform image.
        #[arg(long)]
        platform: Option<String>,
    },
    /// Pull an image into an OCI image layout (`skopeo inspect oci:DIR:TAG`
    /// reads it), or a tarball that `docker load -i`, `podman load` or
    /// `skopeo ... oci-archive:FILE` take.
    Pull {
        /// The image.
        reference: String,
        /// The layout folder (created when missing), or the tarball
        /// (replaced only once the new one is complete).
        #[arg(value_name = "OUT")]
        dir: PathBuf,
        /// Pull only this platform of a multi-platform image (a docker
        /// archive holds one: the host's unless this names another).
        #[arg(long)]
        platform: Option<String>,
        /// What to write: an OCI layout folder, an OCI layout tarball, or a
        /// `docker save` tarball.
        #[arg(long, value_enum, default_value_t = PullFormat::Oci)]
        format: PullFormat,
    },
    /// Copy an image (every platform) within or across registries.
    Cp {
        /// The image to copy.
        source: String,
        /// Where to; without a tag, the source's tag.
        target: String,
        /// Copy only this platform of a multi-platform image.
        #[arg(long)]
        platform: Option<String>,
    },
    /// Copy a repository's tags (all, or chosen) to another repository,
    /// within or across registries, with their signatures and attestations;
    /// tags the target already holds at the same digest are skipped.
    Sync(SyncArgs),
    /// Add tags to an image.
    Tag {
        /// The image.
        reference: String,
        /// The new tags.
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Delete an image: on ghcr.io its package version (restorable for 30
    /// days), elsewhere the tag (or, by digest or with --force, the manifest).
    Rm {
        /// The image.
        reference: String,
        /// Also delete the other tags of the same version (ghcr.io), or the
        /// whole manifest rather than one tag (other registries).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        owner: OwnerKind,
    },
    /// Write a blob to stdout (or a file, verified before it is kept).
    Blob {
        /// `REPOSITORY@DIGEST`.
        #[arg(value_name = "REPO@DIGEST")]
        reference: String,
        /// Write into this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List the signatures, SBOMs and attestations attached to an image.
    Referrers {
        /// The image.
        reference: String,
        /// Only this artifact type.
        #[arg(long)]
        artifact_type: Option<String>,
    },
    /// Verify an image's cosign signatures (the .sig tag and referrers)
    /// or, with `--type attestation`, its attestations (the .att tag, and
    /// referrers: keyed DSSE envelopes, keyless Sigstore bundles): prints
    /// each verified signer and why the others failed; exit 8 when none
    /// verifies. Give --key, or a keyless identity
    /// (--certificate-identity[-regexp] with --certificate-oidc-issuer, or
    /// --owner/--repo [--signer-workflow]).
    Verify {
        /// The image.
        reference: String,
        #[command(flatten)]
        policy: PolicyArgs,
        /// What to verify (keyless bundles are attestations).
        #[arg(long = "type", value_enum, default_value_t = VerifyType::Signature)]
        kind: VerifyType,
        /// With `--type attestation`: only attestations of this predicate
        /// type count (e.g. `https://slsa.dev/provenance/v0.2`).
        #[arg(long, value_name = "URI")]
        predicate_type: Option<String>,
    },
    /// ORAS-style artifacts: push files, attach them to an image, pull them.
    #[command(subcommand)]
    Artifact(ArtifactCommand),
    /// Print an image's size, per platform.
    Size {
        /// The image.
        reference: String,
    },
    /// GitHub packages of an account.
    #[command(subcommand)]
    Packages(PackagesCommand),
    /// Versions of a GitHub package: list, delete, restore.
    #[command(subcommand)]
    Versions(VersionsCommand),
    /// Delete package versions a retention policy does not keep (shows the
    /// plan; deletes only with --yes).
    Cleanup(CleanupArgs),
    /// Show the vulnerability scan attached to an image.
    Vulns(VulnsArgs),
    /// Pass or block an image on its attached vulnerability scan.
    Gate(GateArgs),
    /// Show the GitHub API rate limits of the token.
    RateLimit,
    /// Store credentials for a registry in the Docker config, as `docker login` does.
    Login {
        /// The registry (default: GHCR_REGISTRY or ghcr.io).
        registry: Option<String>,
        /// The user name.
        #[arg(short, long)]
        username: String,
        /// The password or token (insecure on a command line: prefer --password-stdin).
        #[arg(short, long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password or token from stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove stored credentials for a registry from the Docker config.
    Logout {
        /// The registry (default: GHCR_REGISTRY or ghcr.io).
        registry: Option<String>,
    },
    /// Walk the main jobs end to end on an embedded fake ghcr.io.
    Demo,
    /// Print a shell completion script: `source <(ghcr completion bash)`.
    Completion {
        /// The shell: bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Write man pages (ghcr.1 and one per command) into DIR.
    Man {
        /// The folder to write into (created if missing).
        dir: PathBuf,
    },
    /// Serve /health and /metrics, and run retention policies on a schedule.
    Serve {
        /// The TOML file of retention policies and their schedule.
        #[arg(long, value_name = "FILE")]
        policies: PathBuf,
        /// The address to listen on: loopback unless given (the container
        /// image passes 0.0.0.0). The endpoints need no authentication.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// The port to listen on.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Check the policy file, print what would run, and exit.
        #[arg(long)]
        check: bool,
        /// Run every policy once (delete unless the file says dry_run), log
        /// the plans and reports, and exit: non-zero when a plan or a
        /// deletion failed. No listener: --bind and --port are ignored.
        #[arg(long, conflicts_with = "check")]
        once: bool,
    },
}

/// `ghcr sync …`.
#[derive(Debug, ClapArgs)]
pub(crate) struct SyncArgs {
    /// The source repository (`ghcr.io/OWNER/NAME`; a tag is ignored).
    #[arg(required_unless_present = "config")]
    pub(crate) source: Option<String>,
    /// The target repository.
    #[arg(required_unless_present = "config")]
    pub(crate) target: Option<String>,
    /// Run the `[[sync]]` pairs of this TOML file (source, target, and
    /// optional tags, newest, no_referrers, concurrency per pair) instead.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["source", "target", "tags", "semver", "newest", "no_referrers", "platforms", "concurrency"])]
    pub(crate) config: Option<PathBuf>,
    /// Only tags this regular expression matches (anywhere in the tag, as
    /// `ls --filter`: anchor with ^…$).
    #[arg(long, value_name = "RE")]
    pub(crate) tags: Option<String>,
    /// Only tags that are semantic versions (a leading `v` allowed) in
    /// this range: Cargo's comparators, `>=1.2, <2`, `^3`, `~1.4`.
    #[arg(long, value_name = "RANGE")]
    pub(crate) semver: Option<String>,
    /// Only the last N of the chosen tags, in the order the registry lists
    /// them (lexical on distribution).
    #[arg(long, value_name = "N")]
    pub(crate) newest: Option<usize>,
    /// Leave signatures, SBOMs and attestations (cosign tags, referrers) behind.
    #[arg(long)]
    pub(crate) no_referrers: bool,
    /// Only this platform of each multi-platform image (repeatable): the
    /// target gets an index of those platforms, a digest of its own, and
    /// the source's signatures of the whole index stay behind.
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub(crate) platforms: Vec<String>,
    /// Images copied at once (default 4; blobs of each image go in parallel,
    /// and a blob two images share is uploaded once).
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Show the plan and copy nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// A reference and an optional platform.
#[derive(Debug, ClapArgs)]
pub(crate) struct PlatformRef {
    /// The image (`ghcr.io/OWNER/NAME:TAG` or `…@sha256:…`).
    pub(crate) reference: String,
    /// The platform of a multi-platform image (`linux/arm64`).
    #[arg(long)]
    pub(crate) platform: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let args =
            Args::try_parse_from(["ghcr", "ls", "--json", "octo/app", "-vv", "--plain-http"])
                .unwrap();
        assert!(args.global.json && args.global.plain_http);
        assert_eq!(args.global.verbose, 2);
        assert!(args.global.allow_origin.is_empty());
        let args = Args::try_parse_from([
            "ghcr",
            "push",
            "--allow-origin",
            "up.example",
            "dir",
            "ghcr.io/o/a:1",
            "--allow-origin=store.example:8443",
        ])
        .unwrap();
        assert_eq!(
            args.global.allow_origin,
            ["up.example", "store.example:8443"]
        );
        let args =
            Args::try_parse_from(["ghcr", "--allow-origin", "up.example", "ls", "o/a"]).unwrap();
        assert_eq!(args.global.allow_origin, ["up.example"]);
        let error =
            Args::try_parse_from(["ghcr", "login", "-u", "x", "-p", "y", "--password-stdin"])
                .unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    /// `serve` answers without authentication: loopback unless told otherwise.
    #[test]
    fn serve_listens_on_loopback_by_default() {
        let args = Args::try_parse_from(["ghcr", "serve", "--policies", "p.toml"]).unwrap();
        let Command::Serve { bind, port, .. } = args.command else {
            panic!("not serve: {:?}", args.command);
        };
        assert_eq!((bind.as_str(), port), ("127.0.0.1", 8080));
    }
}
