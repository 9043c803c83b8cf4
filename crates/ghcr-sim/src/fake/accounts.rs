//! Users, organizations, their tokens, and who may do what to a package.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a user may do to a package, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Permission {
    /// Pull and read metadata.
    Read,
    /// Also push.
    Write,
    /// Also delete versions.
    Delete,
    /// Everything, including deleting and restoring the package.
    Admin,
}

/// A classic personal access token's package scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatScope {
    /// `read:packages`.
    ReadPackages,
    /// `write:packages` (implies reading).
    WritePackages,
    /// `delete:packages`.
    DeletePackages,
}

/// Every package scope, what [`crate::fake::FakeGhcrBuilder::user`] grants.
pub const ALL_SCOPES: [PatScope; 3] = [
    PatScope::ReadPackages,
    PatScope::WritePackages,
    PatScope::DeletePackages,
];

/// The kind of a GitHub token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A classic PAT with these scopes.
    Classic(Vec<PatScope>),
    /// A `GITHUB_TOKEN`-like installation token: it acts for a login but
    /// GitHub refuses it some listings.
    Installation,
}

/// A GitHub token the fake knows.
#[derive(Clone, Debug)]
pub(crate) struct TokenInfo {
    pub(crate) login: String,
    pub(crate) kind: TokenKind,
}

impl TokenInfo {
    /// Whether the token carries a scope (installation tokens carry all
    /// package scopes of the workflow).
    pub(crate) fn has(&self, scope: PatScope) -> bool {
        match &self.kind {
            TokenKind::Installation => true,
            TokenKind::Classic(scopes) => {
                scopes.contains(&scope)
                    || (scope == PatScope::ReadPackages
                        && scopes.contains(&PatScope::WritePackages))
            }
        }
    }

    pub(crate) fn is_installation(&self) -> bool {
        self.kind == TokenKind::Installation
    }
}

/// A user or an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccountKind {
    User,
    Organization,
}

#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub(crate) id: u64,
    pub(crate) kind: AccountKind,
    /// For organizations: the members who administer it.
    pub(crate) admins: BTreeSet<String>,
}

/// Everything about identities and grants. Its `Debug` names the logins
/// and counts the tokens: it never prints one.
#[derive(Clone, Default)]
pub(crate) struct Accounts {
    by_login: BTreeMap<String, Account>,
    tokens: HashMap<String, TokenInfo>,
    grants: HashMap<(String, String), Permission>,
    next_id: u64,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("logins", &self.by_login.keys().collect::<Vec<_>>())
            .field("tokens", &self.tokens.len())
            .field("grants", &self.grants.len())
            .finish_non_exhaustive()
    }
}

impl Accounts {
    fn add_account(&mut self, login: &str, kind: AccountKind) -> &mut Account {
        let id = 1000 + self.next_id;
        self.next_id += 1;
        self.by_login
            .entry(login.to_owned())
            .or_insert_with(|| Account {
                id,
                kind,
                admins: BTreeSet::new(),
            })
    }

    pub(crate) fn add_user(&mut self, login: &str) {
        self.add_account(login, AccountKind::User);
    }

    pub(crate) fn add_org(&mut self, login: &str, admins: &[&str]) {
        let org = self.add_account(login, AccountKind::Organization);
        org.admins.extend(admins.iter().map(|a| (*a).to_owned()));
    }

    pub(crate) fn add_token(&mut self, login: &str, token: &str, kind: TokenKind) {
        self.add_user(login);
        self.tokens.insert(
            token.to_owned(),
            TokenInfo {
                login: login.to_owned(),
                kind,
            },
        );
    }

    pub(crate) fn grant(&mut self, login: &str, repository: &str, permission: Permission) {
        self.grants
            .insert((login.to_owned(), repository.to_owned()), permission);
    }

    pub(crate) fn account(&self, login: &str) -> Option<&Account> {
        self.by_login.get(login)
    }

    /// The token's identity, when it is known.
    pub(crate) fn token(&self, token: &str) -> Option<&TokenInfo> {
        self.tokens.get(token)
    }

    /// Basic credentials: the token must belong to the user (installation
    /// tokens accept any user name, as GitHub's `GITHUB_TOKEN` does).
    pub(crate) fn basic(&self, user: &str, token: &str) -> Option<&TokenInfo> {
        self.token(token)
            .filter(|info| info.is_installation() || info.login.eq_ignore_ascii_case(user))
    }

    /// What `login` may do to `repository` (`owner/name`); `public` packages
    /// can be read by anyone, anonymous included.
    pub(crate) fn permission(
        &self,
        login: Option<&str>,
        repository: &str,
        public: bool,
    ) -> Option<Permission> {
        let owner = repository.split('/').next().unwrap_or_default();
        let derived = login.and_then(|login| {
            if login == owner {
                return Some(Permission::Admin);
            }
            if self.by_login.get(owner).is_some_and(|org| {
                org.kind == AccountKind::Organization && org.admins.contains(login)
            }) {
                return Some(Permission::Admin);
            }
            self.grants
                .get(&(login.to_owned(), repository.to_owned()))
                .copied()
        });
        let public = public.then_some(Permission::Read);
        derived.max(public)
    }

    /// Whether `login` administers organization `org`.
    pub(crate) fn is_org_admin(&self, login: &str, org: &str) -> bool {
        self.by_login
            .get(org)
            .is_some_and(|account| account.admins.contains(login))
    }

    /// The logins of every account, for the binary's banner.
    pub(crate) fn logins(&self) -> impl Iterator<Item = (&String, &Account)> {
        self.by_login.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions() {
        let mut accounts = Accounts::default();
        accounts.add_token("alice", "ta", TokenKind::Classic(ALL_SCOPES.to_vec()));
        accounts.add_token(
            "bob",
            "tb",
            TokenKind::Classic(vec![PatScope::ReadPackages]),
        );
        accounts.add_org("octo-org", &["alice"]);
        accounts.grant("bob", "octo-org/app", Permission::Write);
        let check = |login: Option<&str>, repository: &str, public: bool| {
            accounts.permission(login, repository, public)
        };
        for (login, repository, public, expected) in [
            (Some("alice"), "alice/app", false, Some(Permission::Admin)),
            (
                Some("alice"),
                "octo-org/app",
                false,
                Some(Permission::Admin),
            ),
            (Some("bob"), "octo-org/app", false, Some(Permission::Write)),
            (Some("bob"), "octo-org/other", false, None),
            (Some("bob"), "octo-org/other", true, Some(Permission::Read)),
            (None, "octo-org/app", false, None),
            (None, "octo-org/app", true, Some(Permission::Read)),
            (Some("bob"), "alice/app", false, None),
        ] {
            assert_eq!(
                check(login, repository, public),
                expected,
                "{login:?} {repository} {public}"
            );
        }
        assert!(accounts.basic("alice", "ta").is_some());
        assert!(
            accounts.basic("bob", "ta").is_none(),
            "a PAT belongs to its user"
        );
        let bob = accounts.token("tb").unwrap();
        assert!(bob.has(PatScope::ReadPackages));
        assert!(!bob.has(PatScope::WritePackages));
        let write_only = TokenInfo {
            login: "x".into(),
            kind: TokenKind::Classic(vec![PatScope::WritePackages]),
        };
        assert!(write_only.has(PatScope::ReadPackages), "write implies read");
        assert!(accounts.is_org_admin("alice", "octo-org"));
        assert!(!accounts.is_org_admin("bob", "octo-org"));
    }
}
