//! Nothing of the crate prints a credential: the fake, its builder and
//! store, a recording fixture, and the request log show names, never tokens.

use bytes::Bytes;
use ghcr_sim::fake::{AuthSeen, FakeGhcr};
use ghcr_sim::{Fixture, FixtureMode};

use crate::support::{authed, bearer};

#[tokio::test]
async fn debug_output_never_holds_a_token() {
    let pat = "ghp_0123456789abcdefghijABCDEFGHIJ0123";
    let actions = "ghs_installation-token-of-the-workflow";
    let builder = FakeGhcr::builder()
        .user("octo", pat)
        .installation_token("octo", actions);
    let printed = format!("{builder:?}");
    assert!(printed.contains("octo"), "logins still show: {printed}");
    let fake = builder.start().await.unwrap();
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"l")])
        .unwrap();
    // A registry token the fake issued is a credential too.
    let issued = bearer(&fake, "octo", pat, "repository:octo/app:pull").await;
    let issued = issued.trim_start_matches("Bearer ");
    let dir = tempfile::tempdir().unwrap();
    let fixture = Fixture::builder("secrets")
        .mode(FixtureMode::Record)
        .dir(dir.path().join("secrets"))
        .start()
        .await
        .unwrap();
    let fixture_token = fixture.token().to_owned();
    for text in [
        printed,
        format!("{fake:?}"),
        format!("{:?}", fake.store()),
        format!("{fixture:?}"),
    ] {
        for secret in [pat, actions, issued, fixture_token.as_str()] {
            assert!(!text.contains(secret), "`{secret}` in {text}");
        }
    }
    fixture.finish().unwrap();
}

#[tokio::test]
async fn a_credential_sent_without_a_scheme_is_not_logged() {
    let fake = FakeGhcr::builder()
        .user("octo", "t-octo")
        .start()
        .await
        .unwrap();
    let bare = "ghp_0123456789abcdefghijABCDEFGHIJ0123";
    let reply = authed("GET", &format!("{}/v2/", fake.registry_url()), bare).await;
    assert_eq!(reply.status, 401);
    let logged = fake.log().entries();
    assert_eq!(logged[0].authorization, AuthSeen::Other(String::new()));
    assert!(!format!("{logged:?}").contains(bare));
}
