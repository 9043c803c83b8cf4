//! Lists a repository's tags, all of them or those matching a pattern.
//!
//! ```text
//! cargo run -p ghcr --example list_tags                  # an embedded fake ghcr.io
//! GHCR_TOKEN=ghp_… cargo run -p ghcr --example list_tags -- ghcr.io/OWNER/IMAGE '^v[0-9]'
//! ```

pub(crate) mod support;

use ghcr::GhcrClient;
use ghcr::types::{Reference, Tag};

use support::{BoxError, Target};

/// The tags of `repository`, only those `pattern` matches when given.
pub(crate) async fn run(
    client: &GhcrClient,
    repository: &Reference,
    pattern: Option<&str>,
) -> Result<Vec<Tag>, BoxError> {
    let tags = match pattern {
        Some(pattern) => {
            client
                .registry()
                .list_tags_matching(repository, pattern)
                .await?
        }
        None => client.registry().list_tags(repository).await?,
    };
    Ok(tags)
}

/// What `cargo run --example list_tags -- [REPOSITORY [PATTERN]]` does
/// on `target` (on the fake, a seeded repository when none is named).
pub(crate) async fn example(target: &Target, args: &[String]) -> Result<Vec<Tag>, BoxError> {
    let repository: Reference = match (args.first(), &target.fake) {
        (Some(repository), _) => repository.parse()?,
        (None, Some(fake)) => {
            let repository = format!("{}/hello", target.namespace);
            let image = fake.store().push_image(
                &repository,
                Some("v1.0.0"),
                &[bytes::Bytes::from_static(b"layer")],
            )?;
            for tag in ["v1.1.0", "latest", "pr-7"] {
                fake.store().tag(&repository, tag, &image.manifest)?;
            }
            target.image("hello").parse()?
        }
        (None, None) => return Err("name the repository: list_tags REPOSITORY [PATTERN]".into()),
    };
    let tags = run(&target.client, &repository, args.get(1).map(String::as_str)).await?;
    for tag in &tags {
        println!("{tag}");
    }
    Ok(tags)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    example(&support::connect().await?, &args).await?;
    Ok(())
}
