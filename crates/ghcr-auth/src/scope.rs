//! Token scopes: what a bearer token allows (`repository:octo/app:pull,push`).
//!
//! Scopes are derived from the operation, never copied from a challenge:
//! ghcr.io's `/v2/` challenge names a placeholder repository.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// One action on a resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// Read manifests, blobs and tags.
    Pull,
    /// Write manifests and blobs.
    Push,
    /// Delete manifests and blobs.
    Delete,
    /// Everything (`*`), as catalogs ask.
    All,
    /// An action this crate does not know.
    Other(String),
}

impl Action {
    fn as_str(&self) -> &str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Delete => "delete",
            Self::All => "*",
            Self::Other(text) => text,
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "pull" => Self::Pull,
            "push" => Self::Push,
            "delete" => Self::Delete,
            "*" => Self::All,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Access to one resource.
///
/// ```
/// use ghcr_auth::{Scope, ScopeSet};
///
/// assert_eq!(Scope::push("octo/app").to_string(), "repository:octo/app:pull,push");
/// let mount = ScopeSet::mount("octo/base", "octo/app");
/// assert_eq!(mount.to_string(), "repository:octo/app:pull,push repository:octo/base:pull");
/// assert_eq!("repository:octo/app:pull".parse::<Scope>()?, Scope::pull("octo/app"));
/// # Ok::<(), ghcr_auth::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    resource_type: String,
    name: String,
    actions: BTreeSet<Action>,
}

impl Scope {
    /// A repository scope with `actions`.
    pub fn repository(name: &str, actions: impl IntoIterator<Item = Action>) -> Self {
        Self {
            resource_type: "repository".to_owned(),
            name: name.to_owned(),
            actions: actions.into_iter().collect(),
        }
    }

    /// Read access to a repository.
    pub fn pull(name: &str) -> Self {
        Self::repository(name, [Action::Pull])
    }

    /// Read and write access (a push also checks what exists).
    pub fn push(name: &str) -> Self {
        Self::repository(name, [Action::Pull, Action::Push])
    }

    /// Delete access, with read access to resolve what to delete.
    pub fn delete(name: &str) -> Self {
        Self::repository(name, [Action::Pull, Action::Delete])
    }

    /// The resource type (`repository`, `registry`).
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// The resource name (the repository path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The actions, sorted.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter()
    }

    /// Parses `type:name:action[,action]`; the name may itself hold colons
    /// (`registry:catalog:*`, `repository:host:5000/app:pull`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidScope`] when a part is missing or empty.
    pub fn parse(input: &str) -> Result<Self> {
        let invalid = || Error::InvalidScope {
            input: input.to_owned(),
        };
        let (resource_type, rest) = input.split_once(':').ok_or_else(invalid)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(invalid)?;
        if resource_type.is_empty() || name.is_empty() || actions.is_empty() {
            return Err(invalid());
        }
        let actions: BTreeSet<Action> = actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(Action::parse)
            .collect();
        if actions.is_empty() {
            return Err(invalid());
        }
        Ok(Self {
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            actions,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.resource_type, self.name)?;
        for (i, action) in self.actions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(action.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// A normalised set of scopes: one entry per resource, actions merged,
/// sorted, so that equal needs give equal cache keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeSet {
    scopes: Vec<Scope>,
}

impl ScopeSet {
    /// The set of one scope.
    pub fn single(scope: Scope) -> Self {
        Self::from_iter([scope])
    }

    /// What a cross-repository mount needs: pull on the source, push on the target.
    pub fn mount(from: &str, to: &str) -> Self {
        Self::from_iter([Scope::pull(from), Scope::push(to)])
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Self {
        let mut merged: BTreeMap<(String, String), BTreeSet<Action>> = BTreeMap::new();
        for scope in iter {
            merged
                .entry((scope.resource_type, scope.name))
                .or_default()
                .extend(scope.actions);
        }
        Self {
            scopes: merged
                .into_iter()
                .map(|((resource_type, name), actions)| Scope {
                    resource_type,
                    name,
                    actions,
                })
                .collect(),
        }
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.scopes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{scope}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_table() {
        for (input, shown) in [
            ("repository:octo/app:pull", "repository:octo/app:pull"),
            (
                "repository:octo/app:push,pull",
                "repository:octo/app:pull,push",
            ),
            (
                "repository:a:delete,pull,push",
                "repository:a:pull,push,delete",
            ),
            ("registry:catalog:*", "registry:catalog:*"),
            (
                "repository:localhost:5000/app:pull",
                "repository:localhost:5000/app:pull",
            ),
            (
                "repository:a:pull,,metadata_read",
                "repository:a:pull,metadata_read",
            ),
        ] {
            assert_eq!(Scope::parse(input).unwrap().to_string(), shown, "{input}");
        }
        for bad in [
            "",
            "repository",
            "repository:a",
            "repository::pull",
            ":a:pull",
            "repository:a:",
            "repository:a:,",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sets_merge_and_sort() {
        let set: ScopeSet = [Scope::pull("b"), Scope::push("a"), Scope::delete("b")]
            .into_iter()
            .collect();
        assert_eq!(
            set.to_string(),
            "repository:a:pull,push repository:b:pull,delete"
        );
        let same: ScopeSet = [Scope::delete("b"), Scope::pull("b"), Scope::push("a")]
            .into_iter()
            .collect();
        assert_eq!(set, same);
        assert_eq!(ScopeSet::mount("base", "app").iter().count(), 2);
    }
}
