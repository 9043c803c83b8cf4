//! Text is for people, JSON for programs: text shows spans as the flags
//! take them (`7d`, `36h`), sizes in IEC units and times in UTC to the
//! second, while `--json` of the same command keeps the exact numbers
//! (seconds, bytes) and the instant the API gave.

use bytes::Bytes;
use time::macros::datetime;

use crate::support::{Env, at, fake, seed};

#[tokio::test(flavor = "multi_thread")]
async fn sizes_show_in_iec_units_and_json_keeps_bytes() {
    let fake = fake().await;
    let layer = Bytes::from(vec![7u8; 1536 * 1024]);
    let image = fake
        .store()
        .push_image("octo/app", Some("v1"), std::slice::from_ref(&layer))
        .unwrap();
    let config = fake.store().blob(&image.config).unwrap();
    let total = image.bytes.len() + config.len() + layer.len();
    let env = Env::fake(&fake);
    let app = at(&fake, "octo/app:v1");

    let text = env.run(&["size", &app]).await;
    assert_eq!(
        text.ok().stdout,
        format!("{app} {}: 1.5 MiB ({total} bytes)\n", image.manifest)
    );
    let json = env.run(&["size", &app, "--json"]).await.ok().json();
    assert_eq!(json["total"], total, "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_show_as_the_flags_take_them_and_json_keeps_seconds() {
    let fake = fake().await;
    seed(&fake, "octo/app", None, "a fresh build");
    let env = Env::fake(&fake);

    // The plan's reasons: 168h is shown as 7d, 2160m as 36h.
    for (flag, shown) in [("168h", "7d"), ("2160m", "36h")] {
        env.run(&[
            "cleanup",
            "octo/app",
            "--only-untagged",
            "--keep-newer-than",
            flag,
            "--dry-run",
        ])
        .await
        .ok()
        .stdout_has(&format!("(created less than {shown} ago)"));
    }

    // The policy file's schedule: a span in text, seconds in JSON.
    let policies = env.home.path().join("policies.toml");
    std::fs::write(
        &policies,
        "interval = \"2160m\"\n[[policy]]\nowner = \"octo\"\npackage = \"app\"\nonly_untagged = true\nkeep_newer_than = \"168h\"\n",
    )
    .unwrap();
    let policies = policies.to_str().unwrap();
    let text = env.run(&["serve", "--policies", policies, "--check"]).await;
    assert_eq!(
        text.ok().stdout,
        format!("{policies}: 1 policy(ies) every 36h: octo/app\n")
    );
    let json = env
        .run(&["serve", "--policies", policies, "--check", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json["interval_seconds"], 36 * 3600, "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn times_show_in_utc_to_the_second_and_json_keeps_the_instant() {
    let fake = fake().await;
    let digest = seed(&fake, "octo/app", Some("v1"), "layer");
    let id = fake.store().version_id("octo/app", &digest).unwrap();
    // An offset and a fraction, which text drops and JSON keeps.
    let created = datetime!(2026-12-01 12:00:00.75 +02:00);
    fake.store()
        .set_version_created_at("octo/app", id, created)
        .unwrap();
    let env = Env::fake(&fake);

    let text = env.run(&["versions", "ls", "octo/app"]).await;
    assert_eq!(
        text.ok().stdout,
        format!("{id}  {digest}  v1  created 2026-12-01T10:00:00Z\n")
    );
    let json = env
        .run(&["versions", "ls", "octo/app", "--json"])
        .await
        .ok()
        .json();
    let shown = json[0]["created_at"].as_str().unwrap();
    let parsed =
        time::OffsetDateTime::parse(shown, &time::format_description::well_known::Rfc3339).unwrap();
    assert_eq!(parsed, created, "{shown}");
    assert_eq!(json[0]["id"], id.0);
}
