//! `rate-limit`: the token's GitHub API budgets.

use crate::context::Setup;
use crate::output::time;

pub(crate) async fn run(setup: Setup) -> anyhow::Result<()> {
    let context = setup.connect(&[])?;
    let limits = context.client.rate_limit().await?;
    if context.out.is_json() {
        context.out.value(&limits);
    } else {
        for limit in &limits {
            context.out.line(format!(
                "{}: {} of {} left ({} used), resets {}",
                limit.resource,
                limit.remaining,
                limit.limit,
                limit.used,
                time(limit.reset)
            ));
        }
        context
            .out
            .note("ghcr.io itself publishes no limits; 429 answers are waited out automatically");
    }
    context.finish()
}
