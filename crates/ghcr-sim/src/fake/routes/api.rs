//! GitHub REST conventions: who is calling, the User-Agent rule, primary
//! and secondary rate limits, error bodies and `Link` pagination.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, StatusCode};
use time::OffsetDateTime;

use super::auth::credentials;
use crate::fake::accounts::TokenInfo;
use crate::fake::server::{Request, Shared};
use crate::fake::state::Budget;

/// Where GitHub's error bodies point.
pub(crate) const DOCS: &str = "https://docs.github.com/rest";
const PRIMARY_DOCS: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits";
const SECONDARY_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// Unauthenticated callers get GitHub's per-IP budget.
const ANONYMOUS_LIMIT: u32 = 60;

/// A GitHub error answer: `{message, documentation_url, status}`.
pub(crate) fn github_error(
    status: StatusCode,
    message: &str,
    documentation_url: &str,
) -> http::Response<Bytes> {
    super::json(
        status,
        &serde_json::json!({
            "message": message,
            "documentation_url": documentation_url,
            "status": status.as_u16().to_string(),
        }),
    )
}

/// The caller, authenticated from `Authorization: Bearer|token TOKEN` or
/// Basic `NAME:TOKEN`; `Ok(None)` when anonymous.
fn caller(shared: &Shared, request: &Request) -> Result<Option<TokenInfo>, super::Refusal> {
    let bad = || {
        Box::new(github_error(
            StatusCode::UNAUTHORIZED,
            "Bad credentials",
            DOCS,
        ))
    };
    let Some((scheme, value)) = credentials(request) else {
        return Ok(None);
    };
    let state = shared.state();
    let found = match scheme.as_str() {
        "bearer" | "token" => state.accounts.token(&value),
        "basic" => STANDARD
            .decode(value)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| {
                let (user, token) = text.split_once(':')?;
                state.accounts.basic(user, token)
            }),
        _ => None,
    };
    found.cloned().map(Some).ok_or_else(bad)
}

/// The checks every REST call starts with: a User-Agent, then who calls.
pub(crate) fn admit(
    shared: &Shared,
    request: &Request,
) -> Result<Option<TokenInfo>, super::Refusal> {
    require_user_agent(request)?;
    caller(shared, request)
}

/// GitHub rejects requests without a User-Agent.
fn require_user_agent(request: &Request) -> Result<(), super::Refusal> {
    if request
        .header("user-agent")
        .is_some_and(|ua| !ua.trim().is_empty())
    {
        return Ok(());
    }
    Err(Box::new(super::text(
        StatusCode::FORBIDDEN,
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n",
    )))
}

/// A budget's state after a request, for the `x-ratelimit-*` headers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quota {
    pub(crate) limit: u32,
    pub(crate) used: u32,
    pub(crate) reset: i64,
}

impl Quota {
    pub(crate) fn remaining(self) -> u32 {
        self.limit.saturating_sub(self.used)
    }

    pub(crate) fn json(self) -> serde_json::Value {
        serde_json::json!({
            "limit": self.limit,
            "remaining": self.remaining(),
            "reset": self.reset,
            "used": self.used,
        })
    }

    /// Adds the `x-ratelimit-*` headers.
    pub(crate) fn apply(self, response: &mut http::Response<Bytes>) {
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining().to_string()),
            ("x-ratelimit-used", self.used.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
            ("x-ratelimit-resource", "core".to_owned()),
        ] {
            if let Ok(value) = value.parse() {
                headers.insert(name, value);
            }
        }
    }
}

/// The budget key and limit of a caller.
fn budget_of(shared: &Shared, caller: Option<&TokenInfo>) -> (String, u32) {
    match caller {
        None => ("anonymous".to_owned(), ANONYMOUS_LIMIT),
        Some(info) if info.is_installation() => (
            format!("installation:{}", info.login),
            shared.config.api_limit,
        ),
        Some(info) => (format!("user:{}", info.login), shared.config.api_limit),
    }
}

/// The current window of a budget, restarted when over.
fn window(budget: &mut Budget, now: OffsetDateTime, length: std::time::Duration) -> i64 {
    let length = time::Duration::try_from(length).unwrap_or(time::Duration::MAX);
    if now - budget.window_start >= length {
        budget.window_start = now;
        budget.used = 0;
    }
    budget.window_start.saturating_add(length).unix_timestamp()
}

/// Looks at a caller's primary budget without charging it.
pub(crate) fn quota(shared: &Shared, caller: Option<&TokenInfo>) -> Quota {
    let (key, limit) = budget_of(shared, caller);
    let now = shared.clock.now();
    let mut state = shared.state();
    let budget = state.budgets.entry(key).or_insert(Budget {
        used: 0,
        window_start: now,
    });
    let reset = window(budget, now, shared.config.api_window);
    Quota {
        limit,
        used: budget.used,
        reset,
    }
}

/// Charges a request to the caller's budgets: the primary budget by one,
/// the secondary budget of `endpoint` by points (5 for writes, 1 for reads).
///
/// # Errors
///
/// The 403 GitHub sends when a budget is spent (the quota is still applied).
pub(crate) fn charge(
    shared: &Shared,
    caller: Option<&TokenInfo>,
    method: &Method,
    endpoint: &str,
) -> Result<Quota, super::Refusal> {
    let (key, limit) = budget_of(shared, caller);
    let now = shared.clock.now();
    let mut state = shared.state();
    let budget = state.budgets.entry(key.clone()).or_insert(Budget {
        used: 0,
        window_start: now,
    });
    let reset = window(budget, now, shared.config.api_window);
    let used = budget.used;
    if used >= limit {
        let mut refusal = github_error(
            StatusCode::FORBIDDEN,
            &format!(
                "API rate limit exceeded for {key}. If you reach out to GitHub Support for help, please include the request ID {}.",
                state.next_request_id()
            ),
            PRIMARY_DOCS,
        );
        Quota { limit, used, reset }.apply(&mut refusal);
        return Err(Box::new(refusal));
    }
    if let Some(per_minute) = shared.config.secondary_points {
        let points = if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            1
        } else {
            5
        };
        let spent = state
            .points
            .entry(format!("{key} {endpoint}"))
            .or_insert(Budget {
                used: 0,
                window_start: now,
            });
        let ends = window(spent, now, std::time::Duration::from_secs(60));
        if spent.used + points > per_minute {
            let request_id = state.next_request_id();
            let mut refusal = github_error(
                StatusCode::FORBIDDEN,
                &format!(
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {request_id}."
                ),
                SECONDARY_DOCS,
            );
            let wait = (ends - now.unix_timestamp()).max(1);
            if let Ok(value) = wait.to_string().parse() {
                refusal
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, value);
            }
            Quota { limit, used, reset }.apply(&mut refusal);
            return Err(Box::new(refusal));
        }
        spent.used += points;
    }
    if let Some(budget) = state.budgets.get_mut(&key) {
        budget.used += 1;
    }
    Ok(Quota {
        limit,
        used: used + 1,
        reset,
    })
}

/// `page` and `per_page` as GitHub reads them: per_page 1 to 100 (default
/// 30), page from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) page: usize,
    pub(crate) per_page: usize,
}

impl Page {
    pub(crate) fn of(request: &Request) -> Self {
        let number = |name: &str| request.param(name).and_then(|v| v.parse::<usize>().ok());
        Self {
            page: number("page").unwrap_or(1).max(1),
            per_page: number("per_page").unwrap_or(30).clamp(1, 100),
        }
    }

    /// This page of `items`, with the `Link` header for the whole list.
    pub(crate) fn slice<T: Clone>(
        self,
        items: &[T],
        base: &str,
        request: &Request,
    ) -> (Vec<T>, Option<String>) {
        let start = (self.page - 1).saturating_mul(self.per_page);
        let page: Vec<T> = items
            .iter()
            .skip(start)
            .take(self.per_page)
            .cloned()
            .collect();
        let last = items.len().div_ceil(self.per_page).max(1);
        let url = |page: usize| link_target(base, request, &["page"], &format!("page={page}"));
        let mut links = Vec::new();
        if self.page > 1 {
            links.push(format!("{}; rel=\"prev\"", url((self.page - 1).min(last))));
        }
        if self.page < last {
            links.push(format!("{}; rel=\"next\"", url(self.page + 1)));
            links.push(format!("{}; rel=\"last\"", url(last)));
        }
        if self.page > 1 {
            links.push(format!("{}; rel=\"first\"", url(1)));
        }
        (page, (!links.is_empty()).then(|| links.join(", ")))
    }
}

/// `<BASE PATH?QUERY>` for a `Link` header: this request's query without the
/// `replaced` parameters, then `added`.
pub(crate) fn link_target(base: &str, request: &Request, replaced: &[&str], added: &str) -> String {
    let mut query: Vec<&str> = request
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !pair.is_empty() && !replaced.contains(&name)
        })
        .collect();
    query.push(added);
    format!("<{base}{}?{}>", request.path, query.join("&"))
}
