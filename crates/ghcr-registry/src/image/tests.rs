//! Walking image trees: children before parents, blobs once, foreign
//! layers left out, runaway nesting refused.

use std::collections::HashMap;

use super::*;

fn digest(text: &str) -> Digest {
    Digest::sha256_of(text.as_bytes())
}

fn image(config: &str, layers: &[(&str, &str)]) -> Manifest {
    let layers: Vec<String> = layers
        .iter()
        .map(|(media_type, name)| {
            format!(
                r#"{{"mediaType":"{media_type}","size":{},"digest":"{}"}}"#,
                name.len(),
                digest(name)
            )
        })
        .collect();
    let text = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{},"digest":"{}"}},"layers":[{}]}}"#,
        config.len(),
        digest(config),
        layers.join(",")
    );
    Manifest::from_bytes(text.into_bytes(), None).unwrap()
}

fn index(children: &[&Manifest]) -> Manifest {
    let entries: Vec<String> = children
        .iter()
        .map(|m| {
            format!(
                r#"{{"mediaType":"{}","size":{},"digest":"{}"}}"#,
                m.media_type(),
                m.size(),
                m.digest()
            )
        })
        .collect();
    let text = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        entries.join(",")
    );
    Manifest::from_bytes(text.into_bytes(), None).unwrap()
}

async fn walk(top: Manifest, known: &[&Manifest]) -> Result<Tree> {
    let known: HashMap<Digest, Manifest> = known
        .iter()
        .map(|m| (m.digest().clone(), (*m).clone()))
        .collect();
    Tree::walk(top, |child| {
        let found = Digest::try_from(child.digest())
            .ok()
            .and_then(|d| known.get(&d).cloned());
        async move {
            found.ok_or_else(|| Error::Protocol {
                url: String::new(),
                reason: "unknown child".into(),
            })
        }
    })
    .await
}

const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const FOREIGN: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

#[tokio::test]
async fn shared_blobs_appear_once_and_children_come_first() {
    let amd64 = image("cfg-amd64", &[(GZIP, "base"), (GZIP, "app-amd64")]);
    let arm64 = image("cfg-arm64", &[(GZIP, "base"), (FOREIGN, "windows")]);
    let top = index(&[&amd64, &arm64]);
    let tree = walk(top.clone(), &[&amd64, &arm64]).await.unwrap();
    assert_eq!(tree.children, vec![amd64, arm64]);
    let names: Vec<Digest> = tree.blobs.iter().map(|b| b.digest.clone()).collect();
    assert_eq!(
        names,
        vec![
            digest("cfg-amd64"),
            digest("base"),
            digest("app-amd64"),
            digest("cfg-arm64")
        ]
    );
    assert_eq!(
        tree.blob_bytes(),
        ["cfg-amd64", "base", "app-amd64", "cfg-arm64"]
            .iter()
            .map(|n| n.len() as u64)
            .sum::<u64>()
    );
}

#[tokio::test]
async fn nested_indexes_put_grandchildren_first() {
    let leaf = image("cfg", &[(GZIP, "layer")]);
    let inner = index(&[&leaf]);
    let outer = index(&[&inner]);
    let tree = walk(outer, &[&leaf, &inner]).await.unwrap();
    assert_eq!(tree.children, vec![leaf, inner]);
}

#[tokio::test]
async fn a_child_that_cannot_be_loaded_fails_the_walk() {
    let leaf = image("cfg", &[]);
    let top = index(&[&leaf]);
    let error = walk(top, &[]).await.unwrap_err();
    assert!(error.to_string().contains("unknown child"), "{error}");
}

#[tokio::test]
async fn an_index_with_too_many_children_is_refused_before_any_load() {
    let leaves: Vec<Manifest> = (0..=MAX_CHILDREN)
        .map(|i| image(&format!("cfg-{i}"), &[]))
        .collect();
    let top = index(&leaves.iter().collect::<Vec<_>>());
    // No child is known: a load would fail with "unknown child" instead.
    let error = walk(top, &[]).await.unwrap_err();
    assert!(
        matches!(error, Error::LimitExceeded { limit, .. } if limit == MAX_CHILDREN as u64),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("more than 4096 children of one index"),
        "{error}"
    );
}

#[tokio::test]
async fn a_tree_with_too_many_manifests_is_refused() {
    // Five indexes of 4000 distinct images each: every index is within
    // its own cap, the tree is not.
    let groups: Vec<Vec<Manifest>> = (0..5)
        .map(|g| {
            (0..4000)
                .map(|i| image(&format!("cfg-{g}-{i}"), &[]))
                .collect()
        })
        .collect();
    let inner: Vec<Manifest> = groups
        .iter()
        .map(|group| index(&group.iter().collect::<Vec<_>>()))
        .collect();
    let top = index(&inner.iter().collect::<Vec<_>>());
    let known: Vec<&Manifest> = groups.iter().flatten().chain(&inner).collect();
    let error = walk(top, &known).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("more than 16384 manifests in one image"),
        "{error}"
    );
}
