//! Lists a repository's tags, all of them or those matching a pattern.
//!
//! ```text
//! cargo run -p ghcr --example list_tags                  # an embedded fake ghcr.io
//! GHCR_TOKEN=ghp_… cargo run -p ghcr --example list_tags -- ghcr.io/OWNER/IMAGE '^v[0-9]'
//! ```

mod support;

use ghcr::GhcrClient;
use ghcr::types::{Reference, Tag};

use support::BoxError;

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

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let target = support::connect().await?;
    let mut args = std::env::args().skip(1);
    let repository: Reference = match (args.next(), &target.fake) {
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
    let pattern = args.next();
    for tag in run(&target.client, &repository, pattern.as_deref()).await? {
        println!("{tag}");
    }
    Ok(())
}
