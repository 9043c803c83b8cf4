//! Planning many packages within the primary rate limit: their listings
//! overlap ([`PLANS_AT_ONCE`] under way at once), and past 80 % of the
//! budget the transport's throttle spreads them, on a paused clock.

use std::time::Duration;

use bytes::Bytes;
use ghcr_packages::{PLANS_AT_ONCE, PackageSelection};
use ghcr_sim::fake::{Fault, Route};
use ghcr_types::Owner;
use http::{Method, StatusCode};
use tokio::time::Instant;

use crate::support::{self, Env, ORG, only_untagged};

/// Packages planned: twice [`PLANS_AT_ONCE`], so the plans go in two waves.
const PACKAGES: usize = 2 * PLANS_AT_ONCE;

/// Seeds [`PACKAGES`] packages of the organization, each a release and an
/// untagged leftover.
fn seed(env: &Env) {
    for n in 0..PACKAGES {
        let repository = format!("{ORG}/svc-{n}");
        env.fake
            .store()
            .push_image(&repository, Some("v1"), &[Bytes::from(format!("{n} v1"))])
            .unwrap_or_else(|error| panic!("seed: {error}"));
        env.push_untagged(&repository, 1);
    }
}

/// Plans every package, checking each plan deletes its leftover.
async fn plan_all(env: &Env) {
    let plans = env
        .client
        .plan_selected(&Owner::org(ORG), &PackageSelection::all(), &only_untagged())
        .await
        .unwrap_or_else(|error| panic!("plan: {error}"));
    assert_eq!(plans.len(), PACKAGES);
    for (package, plan) in plans {
        let plan = plan.unwrap_or_else(|error| panic!("{package}: {error}"));
        assert_eq!(plan.to_delete().count(), 1, "{package}: {plan}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_listings_of_many_packages_are_under_way_at_once() {
    let env = support::start(support::accounts()).await;
    seed(&env);
    // The fake holds each of the first PLANS_AT_ONCE version listings until
    // all of them have arrived: planned one after another, the first would
    // wait alone, and the paused clock would run out the timeout below
    // (well under the transport's 30 s, so no retry could fill the gate).
    let gate = u32::try_from(PLANS_AT_ONCE).unwrap();
    env.fake.faults().add(Fault::gather(
        Route::new(
            Method::GET,
            &format!("/orgs/{ORG}/packages/container/*/versions"),
        ),
        gate,
    ));
    tokio::time::timeout(Duration::from_secs(5), plan_all(&env))
        .await
        .unwrap_or_else(|_| {
            panic!("fewer than {PLANS_AT_ONCE} package listings were ever under way at once")
        });
    assert_eq!(env.fake.faults().fired(), gate);
}

/// Sends `count` cheap API requests (a package's metadata).
async fn spend(env: &Env, count: usize) {
    for _ in 0..count {
        env.client
            .get_package(&Owner::org(ORG), "svc-0")
            .await
            .unwrap_or_else(|error| panic!("spend: {error}"));
    }
}

#[tokio::test(start_paused = true)]
async fn past_80_percent_of_the_budget_a_many_package_plan_is_spread_out() {
    // 100 requests per 300 s. Planning sends 1 + PACKAGES API requests (the
    // package list, a page of versions each), far under the budget.
    let window = Duration::from_secs(300);
    let env = support::start(support::accounts().api_rate_limit(100, window)).await;
    seed(&env);

    // Unthrottled: the plan takes no time on the paused clock.
    let started = Instant::now();
    plan_all(&env).await;
    let unthrottled = started.elapsed();
    assert!(unthrottled < Duration::from_secs(10), "{unthrottled:?}");
    let used = env
        .client
        .transport()
        .rate_limits()
        .into_iter()
        .find(|budget| budget.resource == "core")
        .map(|budget| usize::try_from(budget.used).unwrap())
        .expect("the fake reports the budget");
    assert_eq!(used, 1 + PACKAGES, "the package list and a page a package");

    // Spend the budget up to 80 %: now the fake reports 20 remaining, and
    // the transport spaces each API request by the time to the reset over
    // what remains (about 300 s / 20 = 15 s), however many plans run.
    spend(&env, 80 - used).await;
    let started = Instant::now();
    plan_all(&env).await;
    let throttled = started.elapsed();
    let requests = u32::try_from(1 + PACKAGES).unwrap();
    // The reset is compared with the wall clock, which moves on while the
    // test runs: 10 s a request leaves room for a slow machine.
    assert!(
        throttled >= Duration::from_secs(10) * requests,
        "{requests} requests past 80 % took {throttled:?}, not about 15 s each"
    );
    assert!(throttled < window, "{throttled:?}");
    let refused = env.fake.log().count_where(|r| {
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::TOO_MANY_REQUESTS
    });
    assert_eq!(refused, 0, "the throttle kept the plan within the budget");
}
