//! The fake is also a standalone server other tools talk to: hostile or
//! broken input gets an answer, never a dropped connection from a panic.

use bytes::Bytes;
use ghcr_sim::fake::Profile;

use crate::support::{authed, bearer, fake, send, start_upload};

#[tokio::test]
async fn a_content_range_ending_at_u64_max_is_refused() {
    let fake = fake(Profile::Ghcr).await;
    let base = fake.registry_url();
    let auth = bearer(&fake, "octo", "t-octo", "repository:octo/app:pull,push").await;
    let started = start_upload(&base, &auth).await;
    let location = format!("{base}{}", started.header("location").unwrap());
    for range in ["0-18446744073709551615", "bytes 0-18446744073709551615/*"] {
        let refused = send(
            "PATCH",
            &location,
            &[("authorization", &auth), ("content-range", range)],
            Bytes::from_static(b"x"),
        )
        .await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (400, "BLOB_UPLOAD_INVALID"),
            "{range}: {}",
            refused.text()
        );
    }
    // The session is untouched and still usable.
    let status = authed("GET", &location, &auth).await;
    assert_eq!(status.header("range"), Some("0-0"));
}
