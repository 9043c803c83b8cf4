//! The facade's own calls: health, rate limits, owners, and record/replay
//! switched on from the config.

use bytes::Bytes;
use ghcr::types::Owner;
use ghcr::{GhcrClient, TokenCheck};

use crate::support::{ORG, TOKEN, USER, client, config_for, fake, reference};

#[tokio::test(flavor = "multi_thread")]
async fn health_check_acquires_a_token_and_reads_the_budget() {
    let fake = fake().await;
    let status = client(&fake).health_check().await;
    assert!(status.healthy, "{status:?}");
    assert_eq!(status.token, TokenCheck::Acquired);
    assert_eq!(status.registry.target, fake.registry_host());
    assert!(status.registry.error.is_none());
    assert!(status.api.as_ref().is_some_and(|api| api.ok), "{status:?}");
    let core = status.rate_limits.iter().find(|r| r.resource == "core");
    assert!(core.is_some_and(|core| core.limit == 5000), "{status:?}");
    assert_eq!(fake.log().token_fetches(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_latency_includes_the_wait_for_the_answer() {
    use ghcr_sim::fake::{Fault, Route};
    let fake = fake().await;
    let slow = std::time::Duration::from_millis(120);
    fake.faults()
        .add(Fault::delay(Route::new(http::Method::GET, "/v2/"), slow));
    fake.faults().add(Fault::delay(
        Route::new(http::Method::GET, "/rate_limit"),
        slow,
    ));
    let status = client(&fake).health_check().await;
    assert!(status.healthy, "{status:?}");
    // Each check's latency is the wait for its answer, token included.
    assert!(status.registry.latency >= slow, "{status:?}");
    assert!(status.api.is_some_and(|api| api.latency >= slow));
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_reports_refused_credentials_and_anonymous_access() {
    let fake = fake().await;
    let wrong = config_for(&fake)
        .credentials(USER, "not-the-token")
        .build()
        .unwrap();
    let status = GhcrClient::new(wrong).unwrap().health_check().await;
    assert!(!status.healthy);
    assert_eq!(status.token, TokenCheck::Failed);
    let error = status.registry.error.unwrap();
    assert!(!error.contains("not-the-token"), "{error}");
    // Without credentials the registry's challenge shows it is up.
    let anonymous = GhcrClient::new(config_for(&fake).build().unwrap()).unwrap();
    let status = anonymous.health_check().await;
    assert!(status.registry.ok, "{status:?}");
    assert_eq!(status.token, TokenCheck::Anonymous);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_fails_when_the_registry_is_gone() {
    let fake = fake().await;
    let config = config_for(&fake).credentials(USER, TOKEN).max_retries(0);
    let client = GhcrClient::new(config.build().unwrap()).unwrap();
    fake.shutdown().await;
    let status = client.health_check().await;
    assert!(!status.healthy);
    assert!(!status.registry.ok && status.registry.error.is_some());
    assert!(status.api.is_some_and(|api| !api.ok));
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_lists_every_budget() {
    let fake = fake().await;
    let limits = client(&fake).rate_limit().await.unwrap();
    let resources: Vec<&str> = limits.iter().map(|l| l.resource.as_str()).collect();
    assert!(
        resources.contains(&"core") && resources.contains(&"search"),
        "{resources:?}"
    );
    let search = limits.iter().find(|l| l.resource == "search").unwrap();
    assert_eq!(search.limit, 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn owners_are_told_apart_and_remembered() {
    let fake = fake().await;
    let client = client(&fake);
    assert_eq!(client.resolve_owner(ORG).await.unwrap(), Owner::org(ORG));
    assert_eq!(client.resolve_owner(USER).await.unwrap(), Owner::user(USER));
    let asked = fake.log().len();
    assert_eq!(client.resolve_owner(ORG).await.unwrap(), Owner::org(ORG));
    assert_eq!(fake.log().len(), asked, "the answer is remembered");
}

#[tokio::test(flavor = "multi_thread")]
async fn simulation_records_then_replays_without_the_network() {
    let fake = fake().await;
    fake.store()
        .push_image("octo/app", Some("v1"), &[Bytes::from_static(b"layer")])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("list_tags");
    let record = config_for(&fake)
        .credentials(USER, TOKEN)
        .simulation(ghcr_sim::SimulationMode::Record(cassette.clone()))
        .build()
        .unwrap();
    let recorder = GhcrClient::new(record).unwrap();
    let repository = reference(&fake, "octo/app");
    let live = recorder.registry().list_tags(&repository).await.unwrap();
    recorder.finish_simulation().unwrap();
    let text = std::fs::read_to_string(cassette.join("cassette.json")).unwrap();
    assert!(
        !text.contains(TOKEN),
        "the token never reaches the cassette"
    );
    fake.shutdown().await;
    let replay = ghcr::GhcrConfig::builder()
        .registry(repository.registry())
        .allow_plain_http(repository.registry())
        .credentials(USER, TOKEN)
        .simulation(ghcr_sim::SimulationMode::Replay(cassette))
        .build()
        .unwrap();
    let offline = GhcrClient::new(replay).unwrap();
    let replayed = offline.registry().list_tags(&repository).await.unwrap();
    assert_eq!(replayed, live);
    offline.finish_simulation().unwrap();
}
