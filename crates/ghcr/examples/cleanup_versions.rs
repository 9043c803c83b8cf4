//! Plans a retention cleanup of a package (delete untagged versions older
//! than a week) and, when asked, carries it out. Nothing a kept image needs
//! (the platform images of a tagged index, its attestations) is deleted.
//!
//! ```text
//! cargo run -p ghcr --example cleanup_versions           # an embedded fake ghcr.io
//! GHCR_TOKEN=ghp_… cargo run -p ghcr --example cleanup_versions -- OWNER PACKAGE [--yes]
//! ```

pub(crate) mod support;

use ghcr::GhcrClient;
use ghcr::packages::{CleanupPlan, CleanupReport, RetentionPolicy};
use ghcr::types::Owner;

use support::{BoxError, Target};

/// Whether the plan is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Execute {
    /// Show the plan only.
    DryRun,
    /// Delete what the plan deletes.
    Yes,
}

const WEEK: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The example's policy.
pub(crate) fn policy() -> Result<RetentionPolicy, BoxError> {
    Ok(RetentionPolicy::builder()
        .only_untagged()
        .keep_newer_than(WEEK)
        .build()?)
}

/// Plans the cleanup of `package` and carries it out on [`Execute::Yes`].
pub(crate) async fn run(
    client: &GhcrClient,
    owner: &Owner,
    package: &str,
    execute: Execute,
) -> Result<(CleanupPlan, Option<CleanupReport>), BoxError> {
    let plan = client
        .packages()
        .plan_cleanup(owner, package, &policy()?)
        .await?;
    let report = match execute {
        Execute::Yes => Some(client.packages().execute_cleanup(&plan).await),
        Execute::DryRun => None,
    };
    Ok((plan, report))
}

/// What `cargo run --example cleanup_versions -- [OWNER PACKAGE] [--yes]`
/// does on `target` (on the fake, a seeded package, cleaned for real).
pub(crate) async fn example(
    target: &Target,
    args: &[String],
) -> Result<(CleanupPlan, Option<CleanupReport>), BoxError> {
    let execute = if args.iter().any(|a| a == "--yes") || target.fake.is_some() {
        Execute::Yes
    } else {
        Execute::DryRun
    };
    let named: Vec<&String> = args.iter().filter(|a| *a != "--yes").collect();
    let (owner, package) = match (named.first(), named.get(1), &target.fake) {
        (Some(owner), Some(package), _) => (
            target.client.resolve_owner(owner).await?,
            (*package).clone(),
        ),
        (_, _, Some(fake)) => {
            let repository = format!("{}/hello", target.namespace);
            fake.store()
                .push_index(&repository, "v1.0.0", &["linux/amd64", "linux/arm64"])?;
            for days in [12, 10, 8, 6, 4] {
                let layer = bytes::Bytes::from(format!("nightly build from {days} days ago"));
                let build = fake.store().push_image(&repository, None, &[layer])?;
                let id = fake
                    .store()
                    .version_id(&repository, &build.manifest)
                    .ok_or("no version")?;
                let created = time::OffsetDateTime::now_utc() - time::Duration::days(days);
                fake.store()
                    .set_version_created_at(&repository, id, created)?;
            }
            (Owner::user(&target.namespace), "hello".to_owned())
        }
        _ => return Err("name the package: cleanup_versions OWNER PACKAGE [--yes]".into()),
    };
    let (plan, report) = run(&target.client, &owner, &package, execute).await?;
    for entry in &plan.entries {
        println!(
            "{} {} {}",
            entry.version.id, entry.version.name, entry.decision
        );
    }
    match &report {
        Some(report) => println!("{report}"),
        None => println!(
            "dry run: add --yes to delete {} version(s)",
            plan.to_delete().count()
        ),
    }
    Ok((plan, report))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    example(&support::connect().await?, &args).await?;
    Ok(())
}
