//! The GitHub Packages REST API over the same store: `/user`, `/users/{u}`
//! and `/orgs/{o}` owners; packages and versions listed, read, deleted and
//! restored; `/rate_limit`.

use bytes::Bytes;
use http::{Method, StatusCode};
use time::OffsetDateTime;

use super::api::{DOCS, Page, Quota, admit, charge, github_error, quota};
use super::package_json::{package, simple_user, version};
use crate::fake::accounts::{AccountKind, PatScope, Permission, TokenInfo};
use crate::fake::server::{Request, Shared, decode};
use crate::fake::state::{ApiRefusal, State, VersionState};

const PACKAGES_DOCS: &str = "https://docs.github.com/rest/packages/packages";

/// Who the path names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owner {
    Me,
    User(String),
    Org(String),
}

/// What the path after the owner addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    List,
    Package(String),
    RestorePackage(String),
    Versions(String),
    Version(String, u64),
    RestoreVersion(String, u64),
}

/// Splits `/user/packages…`, `/users/{u}/packages…`, `/orgs/{o}/packages…`.
fn parse(path: &str) -> Option<(Owner, Target)> {
    let (owner, rest) = if let Some(rest) = path.strip_prefix("/user/") {
        (Owner::Me, rest)
    } else if let Some(rest) = path.strip_prefix("/users/") {
        let (login, rest) = rest.split_once('/')?;
        (Owner::User(login.to_owned()), rest)
    } else {
        let rest = path.strip_prefix("/orgs/")?;
        let (login, rest) = rest.split_once('/')?;
        (Owner::Org(login.to_owned()), rest)
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let id = |text: &str| text.parse::<u64>().ok();
    let target = match segments.as_slice() {
        ["packages"] => Target::List,
        ["packages", _, name] => Target::Package(decode(name)),
        ["packages", _, name, "restore"] => Target::RestorePackage(decode(name)),
        ["packages", _, name, "versions"] => Target::Versions(decode(name)),
        ["packages", _, name, "versions", v] => Target::Version(decode(name), id(v)?),
        ["packages", _, name, "versions", v, "restore"] => {
            Target::RestoreVersion(decode(name), id(v)?)
        }
        _ => return None,
    };
    Some((owner, target))
}

/// The endpoint a request is counted against for the secondary limit:
/// the method and the route, as GitHub documents it
/// (`DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}`).
fn endpoint(method: &Method, path: &str) -> String {
    let Some((owner, target)) = parse(path) else {
        return format!("{method} {path}");
    };
    let owner = match owner {
        Owner::Me => "/user",
        Owner::User(_) => "/users/{username}",
        Owner::Org(_) => "/orgs/{org}",
    };
    let package = "/{package_type}/{package_name}";
    let version = "/versions/{package_version_id}";
    let target = match target {
        Target::List => String::new(),
        Target::Package(_) => package.to_owned(),
        Target::RestorePackage(_) => format!("{package}/restore"),
        Target::Versions(_) => format!("{package}/versions"),
        Target::Version(..) => format!("{package}{version}"),
        Target::RestoreVersion(..) => format!("{package}{version}/restore"),
    };
    format!("{method} {owner}/packages{target}")
}

/// The `package_type` segment, when the path has one.
fn package_type(path: &str) -> Option<&str> {
    let after = path.split("/packages/").nth(1)?;
    after.split('/').next()
}

pub(super) fn handle(shared: &Shared, request: &Request) -> http::Response<Bytes> {
    let caller = match admit(shared, request) {
        Ok(caller) => caller,
        Err(refusal) => return *refusal,
    };
    if request.path == "/rate_limit" {
        return rate_limit(shared, caller.as_ref());
    }
    let endpoint = endpoint(&request.method, &request.path);
    let quota = match charge(shared, caller.as_ref(), &request.method, &endpoint) {
        Ok(quota) => quota,
        Err(refusal) => return *refusal,
    };
    let mut response = match caller {
        None => github_error(StatusCode::UNAUTHORIZED, "Requires authentication", DOCS),
        Some(caller) => answer(shared, request, &caller),
    };
    quota.apply(&mut response);
    response
}

fn rate_limit(shared: &Shared, caller: Option<&TokenInfo>) -> http::Response<Bytes> {
    let core = quota(shared, caller);
    let other = |limit: u32| {
        Quota {
            limit,
            used: 0,
            reset: core.reset,
        }
        .json()
    };
    let mut response = super::json(
        StatusCode::OK,
        &serde_json::json!({
            "resources": {
                "core": core.json(),
                "search": other(30),
                "graphql": other(5000),
                "integration_manifest": other(5000),
                "code_search": other(10),
            },
            "rate": core.json(),
        }),
    );
    core.apply(&mut response);
    response
}

fn not_found() -> http::Response<Bytes> {
    github_error(StatusCode::NOT_FOUND, "Not Found", DOCS)
}

fn refusal(refusal: &ApiRefusal, operation: &str) -> http::Response<Bytes> {
    github_error(
        refusal.status,
        &refusal.message,
        &format!("{PACKAGES_DOCS}#{operation}"),
    )
}

fn integration_refused() -> http::Response<Bytes> {
    github_error(
        StatusCode::FORBIDDEN,
        "Resource not accessible by integration",
        DOCS,
    )
}

fn answer(shared: &Shared, request: &Request, caller: &TokenInfo) -> http::Response<Bytes> {
    if request.path == "/user" {
        if caller.is_installation() {
            return integration_refused();
        }
        let state = shared.state();
        return match state.accounts.account(&caller.login) {
            Some(account) => super::json(
                StatusCode::OK,
                &simple_user(&api(shared), &caller.login, account),
            ),
            None => not_found(),
        };
    }
    let Some((owner, target)) = parse(&request.path) else {
        return not_found();
    };
    let login = match &owner {
        Owner::Me if caller.is_installation() => return integration_refused(),
        Owner::Me => caller.login.clone(),
        Owner::User(login) | Owner::Org(login) => login.clone(),
    };
    let kind = shared.state().accounts.account(&login).map(|a| a.kind);
    let expected = match owner {
        Owner::Org(_) => AccountKind::Organization,
        Owner::Me | Owner::User(_) => AccountKind::User,
    };
    if kind != Some(expected) {
        return not_found();
    }
    if target != Target::List && package_type(&request.path) != Some("container") {
        return github_error(StatusCode::NOT_FOUND, "Package not found.", DOCS);
    }
    let is_org = expected == AccountKind::Organization;
    let call = Call {
        shared,
        request,
        caller,
        login: &login,
        is_org,
    };
    match (&request.method, target) {
        (&Method::GET, Target::List) => call.list(),
        (&Method::GET, Target::Package(name)) => call.get_package(&name),
        (&Method::DELETE, Target::Package(name)) => call.delete_package(&name),
        (&Method::POST, Target::RestorePackage(name)) => call.restore_package(&name),
        (&Method::GET, Target::Versions(name)) => call.list_versions(&name),
        (&Method::GET, Target::Version(name, id)) => call.get_version(&name, id),
        (&Method::DELETE, Target::Version(name, id)) => call.delete_version(&name, id),
        (&Method::POST, Target::RestoreVersion(name, id)) => call.restore_version(&name, id),
        _ => not_found(),
    }
}

fn api(shared: &Shared) -> String {
    format!("http://{}", shared.registry_host)
}

/// One API call, with who makes it and whose packages it addresses.
struct Call<'a> {
    shared: &'a Shared,
    request: &'a Request,
    caller: &'a TokenInfo,
    login: &'a str,
    is_org: bool,
}

impl Call<'_> {
    fn repository(&self, name: &str) -> String {
        format!("{}/{name}", self.login)
    }

    /// The caller's permission on a live package; `None` when it cannot see it.
    fn permission(&self, name: &str) -> Option<Permission> {
        let repository = self.repository(name);
        let state = self.shared.state();
        state.live_repo(&repository)?;
        state.accounts.permission(
            Some(&self.caller.login),
            &repository,
            state.is_public(&repository),
        )
    }

    /// Checks a scope and an admin permission (plus org admin for org paths).
    fn require_admin(
        &self,
        name: &str,
        scope: PatScope,
        operation: &str,
    ) -> Result<(), super::Refusal> {
        let Some(permission) = self.permission(name) else {
            return Err(Box::new(github_error(
                StatusCode::NOT_FOUND,
                "Package not found.",
                DOCS,
            )));
        };
        if !self.caller.has(scope) {
            let word = match scope {
                PatScope::ReadPackages => "read:packages",
                PatScope::WritePackages => "write:packages",
                PatScope::DeletePackages => "delete:packages",
            };
            return Err(Box::new(github_error(
                StatusCode::FORBIDDEN,
                &format!("You need at least {word} scope to perform this operation."),
                &format!("{PACKAGES_DOCS}#{operation}"),
            )));
        }
        let org_admin = !self.is_org
            || self
                .shared
                .state()
                .accounts
                .is_org_admin(&self.caller.login, self.login);
        if permission < Permission::Admin || !org_admin {
            return Err(Box::new(github_error(
                StatusCode::FORBIDDEN,
                "You must have admin permissions on this package to perform this operation.",
                &format!("{PACKAGES_DOCS}#{operation}"),
            )));
        }
        Ok(())
    }

    fn operation(&self, what: &str) -> String {
        let owner = if self.request.path.starts_with("/user/") {
            "the-authenticated-user"
        } else if self.is_org {
            "an-organization"
        } else {
            "a-user"
        };
        format!("{what}-for-{owner}")
    }

    fn list(&self) -> http::Response<Bytes> {
        if self.is_org && self.caller.is_installation() {
            return integration_refused();
        }
        let Some(package_type) = self.request.param("package_type") else {
            return github_error(
                StatusCode::BAD_REQUEST,
                "Invalid request.\n\n\"package_type\" wasn't supplied.",
                &format!("{PACKAGES_DOCS}#{}", self.operation("list-packages")),
            );
        };
        let page = Page::of(self.request);
        if page.page.saturating_mul(page.per_page) > 10_000 {
            return github_error(
                StatusCode::BAD_REQUEST,
                "Pagination is limited to 10000 results: page x per_page must not exceed 10000.",
                &format!("{PACKAGES_DOCS}#{}", self.operation("list-packages")),
            );
        }
        let visibility = self.request.param("visibility");
        let api = api(self.shared);
        let state = self.shared.state();
        let Some(account) = state.accounts.account(self.login) else {
            return not_found();
        };
        let prefix = format!("{}/", self.login);
        let mut packages = Vec::new();
        for (repository, repo) in &state.repos {
            let Some(name) = repository.strip_prefix(&prefix) else {
                continue;
            };
            let public = state.is_public(repository);
            let visible = state.live_repo(repository).is_some()
                && state
                    .accounts
                    .permission(Some(&self.caller.login), repository, public)
                    .is_some();
            let wanted = package_type == "container"
                && visibility
                    .as_deref()
                    .is_none_or(|v| v == repo.package.visibility.as_str());
            if visible && wanted {
                packages.push(package(&api, self.login, account, name, repo));
            }
        }
        let (page, link) = page.slice(&packages, &api, self.request);
        with_link(super::json(StatusCode::OK, &serde_json::json!(page)), link)
    }

    fn get_package(&self, name: &str) -> http::Response<Bytes> {
        if self.permission(name).is_none() {
            return github_error(StatusCode::NOT_FOUND, "Package not found.", DOCS);
        }
        let state = self.shared.state();
        let (Some(account), Some(repo)) = (
            state.accounts.account(self.login),
            state.live_repo(&self.repository(name)),
        ) else {
            return not_found();
        };
        let body = package(&api(self.shared), self.login, account, name, repo);
        super::json(StatusCode::OK, &serde_json::json!(body))
    }

    fn delete_package(&self, name: &str) -> http::Response<Bytes> {
        self.write(
            name,
            PatScope::DeletePackages,
            "delete-a-package",
            State::delete_package,
        )
    }

    /// A write on a package the caller must administer: checks `scope` and
    /// the admin permission, then applies `change` (204, or GitHub's refusal).
    fn write(
        &self,
        name: &str,
        scope: PatScope,
        operation: &str,
        change: impl FnOnce(&mut State, &str, OffsetDateTime) -> Result<(), ApiRefusal>,
    ) -> http::Response<Bytes> {
        let operation = self.operation(operation);
        if let Err(refused) = self.require_admin(name, scope, &operation) {
            return *refused;
        }
        let now = self.shared.clock.now();
        match change(&mut self.shared.state(), &self.repository(name), now) {
            Ok(()) => super::empty(StatusCode::NO_CONTENT, &[]),
            Err(refused) => refusal(&refused, &operation),
        }
    }

    fn restore_package(&self, name: &str) -> http::Response<Bytes> {
        let operation = self.operation("restore-a-package");
        let repository = self.repository(name);
        let now = self.shared.clock.now();
        let window = self.shared.config.restore_window;
        let allowed = {
            let state = self.shared.state();
            state
                .accounts
                .permission(Some(&self.caller.login), &repository, false)
        };
        if allowed < Some(Permission::Admin) || !self.caller.has(PatScope::WritePackages) {
            return github_error(StatusCode::NOT_FOUND, "Package not found.", DOCS);
        }
        match self
            .shared
            .state()
            .restore_package(&repository, now, window)
        {
            Ok(()) => super::empty(StatusCode::NO_CONTENT, &[]),
            Err(refused) => refusal(&refused, &operation),
        }
    }

    fn list_versions(&self, name: &str) -> http::Response<Bytes> {
        if self.permission(name).is_none() {
            return github_error(StatusCode::NOT_FOUND, "Package not found.", DOCS);
        }
        let wanted = match self.request.param("state").as_deref() {
            None | Some("active") => VersionState::Active,
            Some("deleted") => VersionState::Deleted,
            Some(other) => {
                return github_error(
                    StatusCode::BAD_REQUEST,
                    &format!("Invalid state `{other}`: use active or deleted."),
                    DOCS,
                );
            }
        };
        let api = api(self.shared);
        let now = self.shared.clock.now();
        let window = self.shared.config.restore_window;
        let state = self.shared.state();
        let (Some(account), Some(repo)) = (
            state.accounts.account(self.login),
            state.live_repo(&self.repository(name)),
        ) else {
            return not_found();
        };
        let versions: Vec<_> = repo
            .version_ids(wanted, now, window)
            .into_iter()
            .filter_map(|id| {
                repo.versions
                    .get(&id)
                    .map(|v| version(&api, self.login, account, name, repo, id, v))
            })
            .collect();
        let (page, link) = Page::of(self.request).slice(&versions, &api, self.request);
        with_link(super::json(StatusCode::OK, &serde_json::json!(page)), link)
    }

    fn get_version(&self, name: &str, id: u64) -> http::Response<Bytes> {
        if self.permission(name).is_none() {
            return github_error(StatusCode::NOT_FOUND, "Package not found.", DOCS);
        }
        let state = self.shared.state();
        let found = state
            .accounts
            .account(self.login)
            .zip(state.live_repo(&self.repository(name)));
        let Some((account, repo)) = found else {
            return not_found();
        };
        match repo.versions.get(&id) {
            Some(v) => {
                let body = version(&api(self.shared), self.login, account, name, repo, id, v);
                super::json(StatusCode::OK, &serde_json::json!(body))
            }
            None => refusal(
                &ApiRefusal::version_not_found(),
                &self.operation("get-a-package-version"),
            ),
        }
    }

    fn delete_version(&self, name: &str, id: u64) -> http::Response<Bytes> {
        self.write(
            name,
            PatScope::DeletePackages,
            "delete-package-version",
            |state, repository, now| state.delete_version(repository, id, now),
        )
    }

    fn restore_version(&self, name: &str, id: u64) -> http::Response<Bytes> {
        let window = self.shared.config.restore_window;
        self.write(
            name,
            PatScope::WritePackages,
            "restore-a-package-version",
            |state, repository, now| state.restore_version(repository, id, now, window),
        )
    }
}

fn with_link(mut response: http::Response<Bytes>, link: Option<String>) -> http::Response<Bytes> {
    if let Some(value) = link.and_then(|link| link.parse().ok()) {
        response.headers_mut().insert(http::header::LINK, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        for (path, expected) in [
            ("/user/packages", Some((Owner::Me, Target::List))),
            (
                "/orgs/o/packages/container/team%2Fapp",
                Some((Owner::Org("o".into()), Target::Package("team/app".into()))),
            ),
            (
                "/users/u/packages/container/app/versions/12/restore",
                Some((
                    Owner::User("u".into()),
                    Target::RestoreVersion("app".into(), 12),
                )),
            ),
            (
                "/user/packages/container/app/versions",
                Some((Owner::Me, Target::Versions("app".into()))),
            ),
            // An unencoded nested name is not a package path.
            ("/orgs/o/packages/container/team/app", None),
            ("/orgs/o/packages/container/app/versions/x", None),
            ("/orgs/o", None),
        ] {
            assert_eq!(parse(path), expected, "{path}");
        }
        assert_eq!(package_type("/user/packages/npm/x"), Some("npm"));
    }

    #[test]
    fn endpoints_are_routes() {
        for (method, path, expected) in [
            (
                Method::DELETE,
                "/orgs/o/packages/container/team%2Fapp/versions/12",
                "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}",
            ),
            (
                Method::DELETE,
                "/orgs/p/packages/container/other/versions/99",
                "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}",
            ),
            (
                Method::GET,
                "/users/u/packages/container/app/versions",
                "GET /users/{username}/packages/{package_type}/{package_name}/versions",
            ),
            (
                Method::POST,
                "/user/packages/container/app/restore",
                "POST /user/packages/{package_type}/{package_name}/restore",
            ),
            (Method::GET, "/user/packages", "GET /user/packages"),
            (Method::GET, "/user", "GET /user"),
        ] {
            assert_eq!(endpoint(&method, path), expected, "{method} {path}");
        }
    }
}
