//! The distribution reference grammar, written out by hand so that every
//! rejection can say which part is wrong.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ host [ ":" port ] "/" ] path
//! host       := domain-name | "[" IPv6 "]"
//! path       := component ( "/" component )*
//! component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! ```

use super::{MAX_REPOSITORY_LENGTH, Reference, Tag};
use crate::Digest;
use crate::error::{Error, Result};

pub(super) fn parse(input: &str, default_registry: &str) -> Result<Reference> {
    let fail = |reason: String| Error::reference(input, reason);
    if input.is_empty() {
        return Err(fail("the reference is empty".into()));
    }
    let (name, digest) = match input.split_once('@') {
        Some((name, digest)) => {
            let digest = Digest::parse(digest).map_err(|err| match err {
                Error::InvalidDigest { reason, .. } => fail(format!("digest `{digest}`: {reason}")),
                other => other,
            })?;
            (name, Some(digest))
        }
        None => (input, None),
    };
    let (registry, remainder) = match name.split_once('/') {
        Some((first, rest)) if looks_like_host(first) => (first, rest),
        _ => (default_registry, name),
    };
    let (repository, tag) = match remainder.rsplit_once(':') {
        Some((path, tag)) => (path, Some(tag)),
        None => (remainder, None),
    };
    let official = super::docker_hub::repository(registry, repository);
    let repository = official.as_deref().unwrap_or(repository);
    let registry = super::docker_hub::canonical_registry(registry);
    validate_name(input, registry, repository)?;
    let tag = match tag {
        Some(tag) => {
            validate_tag(tag).map_err(|reason| fail(format!("tag `{tag}`: {reason}")))?;
            Some(Tag(tag.into()))
        }
        None => None,
    };
    Ok(Reference {
        registry: registry.into(),
        repository: repository.into(),
        tag,
        digest,
    })
}

/// A registry and a repository path given apart, as [`Reference::new`] takes
/// them: the path is never searched for a host, so a first component with a
/// dot (`my.team/app`) stays part of the path, as it does in a full reference.
pub(super) fn from_parts(registry: &str, repository: &str) -> Result<Reference> {
    let official = super::docker_hub::repository(registry, repository);
    let repository = official.as_deref().unwrap_or(repository);
    let registry = super::docker_hub::canonical_registry(registry);
    validate_name(&format!("{registry}/{repository}"), registry, repository)?;
    Ok(Reference {
        registry: registry.into(),
        repository: repository.into(),
        tag: None,
        digest: None,
    })
}

fn validate_name(input: &str, registry: &str, repository: &str) -> Result<()> {
    let fail = |reason: String| Error::reference(input, reason);
    validate_host(registry).map_err(|reason| fail(format!("registry `{registry}`: {reason}")))?;
    validate_repository(repository)
        .map_err(|reason| fail(format!("repository `{repository}`: {reason}")))?;
    if registry.eq_ignore_ascii_case(super::DEFAULT_REGISTRY) && !repository.contains('/') {
        return Err(fail(format!(
            "ghcr.io images live under an owner: write ghcr.io/OWNER/{repository}"
        )));
    }
    Ok(())
}

/// docker's rule: the first component is a host when it has a dot or a
/// colon, is `localhost`, or has uppercase letters (paths never do).
fn looks_like_host(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

pub(super) fn validate_host(host: &str) -> std::result::Result<(), String> {
    if host.is_empty() {
        return Err("the registry host is empty".into());
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return Err("an IPv6 address needs a closing `]`".into());
        };
        address
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{address}` is not an IPv6 address"))?;
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err("only `:port` may follow an IPv6 address".into()),
            },
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    if let Some(name) = name {
        for component in name.split('.') {
            validate_domain_component(component)?;
        }
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(format!("port `{port}` is not a number from 1 to 65535"));
        }
    }
    Ok(())
}

fn validate_domain_component(component: &str) -> std::result::Result<(), String> {
    let bytes = component.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return Err("the host has an empty label (two dots in a row, or a dot at an end)".into());
    };
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(format!(
            "host label `{component}` must start and end with a letter or digit"
        ));
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return Err(format!(
            "host label `{component}` may only hold letters, digits and `-`"
        ));
    }
    Ok(())
}

pub(super) fn validate_repository(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("the repository path is empty".into());
    }
    if path.len() > MAX_REPOSITORY_LENGTH {
        return Err(format!(
            "the repository path is {} bytes, the limit is {MAX_REPOSITORY_LENGTH}",
            path.len()
        ));
    }
    for component in path.split('/') {
        validate_path_component(component)?;
    }
    Ok(())
}

fn validate_path_component(component: &str) -> std::result::Result<(), String> {
    if component.is_empty() {
        return Err("a path component is empty (a doubled or trailing `/`)".into());
    }
    if component.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "`{component}` has uppercase letters; repository names must be lowercase"
        ));
    }
    if let Some(bad) = component
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{component}` holds `{bad}`; use a-z, 0-9 and the separators . _ __ -"
        ));
    }
    let bytes = component.as_bytes();
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Err(format!(
            "`{component}` must start and end with a letter or digit"
        ));
    }
    for separator in component
        .split(|c: char| c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
    {
        let allowed = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !allowed {
            return Err(format!(
                "`{component}` has the separator `{separator}`; only `.`, `_`, `__` or dashes may join letters"
            ));
        }
    }
    Ok(())
}

pub(super) fn validate_tag(tag: &str) -> std::result::Result<(), String> {
    let Some(first) = tag.bytes().next() else {
        return Err("the tag is empty".into());
    };
    if tag.len() > Tag::MAX_LENGTH {
        return Err(format!(
            "the tag is {} characters, the limit is {}",
            tag.len(),
            Tag::MAX_LENGTH
        ));
    }
    if !(first.is_ascii_alphanumeric() || first == b'_') {
        return Err("a tag starts with a letter, digit or `_`".into());
    }
    if !tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err("a tag may only hold letters, digits, `_`, `.` and `-`".into());
    }
    Ok(())
}
