//! The undo of a cleanup covers every version the run may have deleted: a
//! DELETE GitHub carried out but whose answer was lost (a 502) is sent
//! again and answered 404, and one whose every attempt lost its answer
//! ends as a failure; both were deleted, and both are in the restore hint.

use std::collections::BTreeSet;

use ghcr_sim::fake::{Fault, Route};
use ghcr_types::{Owner, PackageVersionId};
use http::{Method, StatusCode};

use crate::support::{self, USER};

fn deleted_in_fake(env: &support::Env) -> BTreeSet<PackageVersionId> {
    env.fake
        .store()
        .versions("octo/app")
        .into_iter()
        .filter(|v| v.deleted_at.is_some())
        .map(|v| v.id)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn deletions_whose_answer_was_lost_are_in_the_undo() {
    let env = support::start(support::accounts()).await;
    let owner = Owner::user(USER);
    let plan = env.release_and_leftovers(&env.client, 4).await;
    let delete_route = || {
        Route::new(
            Method::DELETE,
            "/users/octo/packages/container/app/versions/*",
        )
    };
    let lost = || Fault::lose_answer(delete_route(), StatusCode::BAD_GATEWAY);
    // Newest first. The first DELETE is carried out, its answer lost; the
    // retry (request 2) finds the version gone.
    env.fake.faults().add(lost().nth(1));
    // The second version's four attempts (requests 3 to 6) all lose their
    // answer; reading the version then shows it deleted.
    env.fake.faults().add(lost().skip(2).times(4));
    // The third's too (requests 7 to 10), and reading it fails as well:
    // a failure that may have deleted it.
    env.fake.faults().add(lost().skip(6).times(4));
    env.fake.faults().add(
        Fault::fail(
            Route::new(Method::GET, "/users/octo/packages/container/app/versions/*"),
            StatusCode::BAD_GATEWAY,
        )
        .skip(1)
        .times(4),
    );
    let report = env.client.execute_cleanup(&plan).await;
    let deleted = deleted_in_fake(&env);
    assert_eq!(deleted.len(), 3, "{report}");
    let hint = report.restore_hint();
    let undo: BTreeSet<PackageVersionId> = hint.ids.iter().copied().collect();
    assert_eq!(
        undo, deleted,
        "every deleted version is in the undo: {report}"
    );
    // Two are known deleted; the third is a failure that says it may be.
    assert_eq!(report.deleted().len(), 2, "{report}");
    let failed = report.failed();
    assert_eq!(failed.len(), 1, "{report}");
    assert!(failed[0].may_have_applied);
    assert_eq!(hint.uncertain, [failed[0].id]);
    let text = report.to_string();
    assert!(text.contains("may have been deleted"), "{text}");
    assert!(text.contains("harmless"), "{text}");
    // What it references is unknown (its manifest is gone): nothing more is deleted.
    assert_eq!(report.skipped().len(), 1, "{report}");

    // The undo brings all four back.
    let restored = env.client.restore_versions(&owner, "app", &hint.ids).await;
    assert!(restored.failed.is_empty(), "{restored:?}");
    assert_eq!(restored.restored.len(), 3);
    assert!(deleted_in_fake(&env).is_empty());
}
