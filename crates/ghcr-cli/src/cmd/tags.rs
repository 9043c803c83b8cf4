//! `ls` and `tag`.

use ghcr::types::Tag;
use serde_json::json;

use crate::context::Setup;
use crate::exit::usage;

pub(crate) async fn ls(setup: Setup, repository: &str, filter: Option<&str>) -> anyhow::Result<()> {
    let repository = setup.reference(repository)?.without_tag_or_digest();
    let context = setup.connect(&[repository.registry()])?;
    let registry = context.client.registry();
    let tags = match filter {
        Some(pattern) => registry.list_tags_matching(&repository, pattern).await?,
        None => registry.list_tags(&repository).await?,
    };
    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    context.out.result(
        || names.join("\n"),
        || json!({"repository": repository.to_string(), "tags": names}),
    );
    context.finish()
}

pub(crate) async fn tag(setup: Setup, reference: &str, tags: &[String]) -> anyhow::Result<()> {
    let source = setup.reference(reference)?;
    let tags = tags
        .iter()
        .map(|tag| Tag::parse(tag).map_err(|error| usage(format!("`{tag}` is not a tag: {error}"))))
        .collect::<anyhow::Result<Vec<Tag>>>()?;
    let context = setup.connect(&[source.registry()])?;
    let repository = source.without_tag_or_digest();
    let mut digest = None;
    for tag in &tags {
        let tagged = context.client.registry().tag(&source, tag).await?;
        if !context.out.is_json() {
            context
                .out
                .line(format!("tagged {repository}:{tag} {tagged}"));
        }
        digest = Some(tagged);
    }
    if context.out.is_json() {
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        context.out.value(&json!({
            "source": source.to_string(),
            "digest": digest.map(|d| d.to_string()),
            "tags": names,
        }));
    }
    context.finish()
}
