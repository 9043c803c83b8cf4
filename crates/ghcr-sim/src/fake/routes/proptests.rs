//! Fuzz-style property tests: whatever a client sends (method, path,
//! query, headers, body), every handler answers; none panics.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;

use super::route;
use crate::fake::accounts::{ALL_SCOPES, Accounts, TokenKind};
use crate::fake::clock::Clock;
use crate::fake::faults::Faults;
use crate::fake::log::{Listener, RequestLog};
use crate::fake::server::{Request, Shared};
use crate::fake::state::{Action, Bearer, Config, Profile, State};

/// A registry token the fuzzed requests may carry, allowing everything on
/// `octo/app`, so requests get past authorization into the handlers.
const BEARER: &str = "fuzz-bearer";

fn shared(profile: Profile) -> Shared {
    let mut accounts = Accounts::default();
    accounts.add_token("octo", "t-octo", TokenKind::Classic(ALL_SCOPES.to_vec()));
    accounts.add_token("bot", "t-bot", TokenKind::Installation);
    accounts.add_org("octo-org", &["octo"]);
    let clock = Clock::default();
    let mut state = State::new(accounts);
    let now = clock.now();
    let layer = state.put_blob("octo/app", Bytes::from_static(b"layer"), now);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":5}}]}}"#,
        ghcr_types::Digest::sha256_of(b"{}")
    );
    for tag in ["v1", "v2"] {
        let _ = state.put_manifest("octo/app", tag, Bytes::from(manifest.clone()), None, now);
    }
    state.start_upload("octo/app");
    let all = [Action::Pull, Action::Push, Action::Delete].into();
    state.bearers.insert(
        BEARER.to_owned(),
        Bearer {
            access: [("octo/app".to_owned(), all)].into(),
            expires_at: now.saturating_add(time::Duration::hours(1)),
        },
    );
    Shared {
        config: Config {
            profile,
            token_lifetime: Duration::from_secs(300),
            storage_url_lifetime: Duration::from_secs(300),
            patch_limit: Some(64),
            tags_page_size: Some(2),
            chunk_min_length: Some(1),
            api_limit: 1000,
            api_window: Duration::from_secs(3600),
            secondary_points: Some(1000),
            restore_window: Duration::from_secs(3600),
            max_request_body: 1024,
        },
        state: Mutex::new(state),
        clock,
        log: RequestLog::default(),
        connections: crate::fake::connections::Connections::default(),
        faults: Faults::default(),
        registry_host: "127.0.0.1:1".to_owned(),
        storage_host: "localhost:2".to_owned(),
        signing_key: "key".to_owned(),
    }
}

/// Path pieces the fake's routers look for, and ones that break them.
const SEGMENTS: [&str; 34] = [
    "v2",
    "octo",
    "app",
    "team",
    "manifests",
    "blobs",
    "uploads",
    "tags",
    "list",
    "referrers",
    "_catalog",
    "token",
    "user",
    "users",
    "orgs",
    "octo-org",
    "packages",
    "container",
    "versions",
    "restore",
    "rate_limit",
    "team%2Fapp",
    "%ff%fe",
    "%",
    "v1",
    "sha256:49fc8e2c4fe7bb5e12fbdbfa7e2f7bf4c8a4b1bd3c7c3c54e1a5a2b35c6f4b4f",
    "sha256-49fc8e2c4fe7bb5e12fbdbfa7e2f7bf4c8a4b1bd3c7c3c54e1a5a2b35c6f4b4f",
    "sha256:zz",
    "00000000-0000-4000-8000-000000000001",
    "100001",
    "99999999999999999999999",
    "",
    "..",
    "é",
];

const PARAMS: [&str; 17] = [
    "n",
    "last",
    "digest",
    "mount",
    "from",
    "scope",
    "service",
    "page",
    "per_page",
    "state",
    "package_type",
    "visibility",
    "_state",
    "artifactType",
    "expires",
    "sig",
    "token",
];

/// Requests the routers know, with placeholders for the parts fuzzed.
const ROUTES: [(&str, &str); 24] = [
    ("GET", "/v2/"),
    ("GET", "/v2/_catalog"),
    ("GET", "/v2/octo/app/manifests/{ref}"),
    ("HEAD", "/v2/octo/app/manifests/{ref}"),
    ("PUT", "/v2/octo/app/manifests/{ref}"),
    ("DELETE", "/v2/octo/app/manifests/{ref}"),
    ("GET", "/v2/octo/app/blobs/{ref}"),
    ("DELETE", "/v2/octo/app/blobs/{ref}"),
    ("POST", "/v2/octo/app/blobs/uploads/"),
    ("PATCH", "/v2/octo/app/blobs/uploads/{upload}"),
    ("PUT", "/v2/octo/app/blobs/uploads/{upload}"),
    ("GET", "/v2/octo/app/blobs/uploads/{upload}"),
    ("GET", "/v2/octo/app/tags/list"),
    ("GET", "/v2/octo/app/referrers/{ref}"),
    ("GET", "/token"),
    ("GET", "/rate_limit"),
    ("GET", "/user"),
    ("GET", "/{owner}/packages"),
    ("GET", "/{owner}/packages/container/{name}"),
    ("DELETE", "/{owner}/packages/container/{name}"),
    ("POST", "/{owner}/packages/container/{name}/restore"),
    ("GET", "/{owner}/packages/container/{name}/versions"),
    ("DELETE", "/{owner}/packages/container/{name}/versions/{id}"),
    (
        "POST",
        "/{owner}/packages/container/{name}/versions/{id}/restore",
    ),
];

/// A path of random segments.
fn random_path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&SEGMENTS[..]), 0..8)
        .prop_map(|segments| format!("/{}", segments.join("/")))
}

fn segment(valid: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(valid).prop_map(str::to_owned),
        1 => prop::sample::select(&SEGMENTS[..]).prop_map(str::to_owned),
    ]
}

/// A known route with its placeholders filled, mostly with valid values;
/// or any method on a random path.
fn target() -> impl Strategy<Value = (Method, String)> {
    let known = (
        prop::sample::select(&ROUTES[..]),
        segment(&[
            "v1",
            "sha256:49fc8e2c4fe7bb5e12fbdbfa7e2f7bf4c8a4b1bd3c7c3c54e1a5a2b35c6f4b4f",
        ]),
        segment(&["00000000-0000-4000-8000-000000000001"]),
        segment(&["user", "users/octo", "orgs/octo-org", "users/octo-org"]),
        segment(&["app", "team%2Fapp"]),
        segment(&["100002", "100003"]),
    )
        .prop_map(|((method, template), reference, upload, owner, name, id)| {
            let path = template
                .replace("{ref}", &reference)
                .replace("{upload}", &upload)
                .replace("{owner}", &owner)
                .replace("{name}", &name)
                .replace("{id}", &id);
            (
                Method::from_bytes(method.as_bytes()).unwrap_or_default(),
                path,
            )
        });
    prop_oneof![
        7 => known,
        3 => (method(), random_path()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&SEGMENTS[..]).prop_map(str::to_owned),
        "[0-9]{1,25}",
        "-?[0-9]{1,5}",
        "\\PC{0,12}",
        "repository:octo/app:(pull|push|delete|\\*)(,pull)?",
    ]
}

fn query() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::collection::vec((prop::sample::select(&PARAMS[..]), value()), 0..5).prop_map(
            |pairs| {
                pairs
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join("&")
            },
        ),
    )
}

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let authorization = prop_oneof![
        6 => Just(format!("Bearer {BEARER}")),
        1 => Just("Bearer t-octo".to_owned()),
        1 => Just("token t-bot".to_owned()),
        1 => Just("Basic b2N0bzp0LW9jdG8=".to_owned()),
        1 => Just("Basic !!!".to_owned()),
        1 => "(Bearer|Basic|token)? ?\\PC{0,20}",
    ];
    let range = prop_oneof![
        2 => Just("0-18446744073709551615".to_owned()),
        1 => Just("0-0".to_owned()),
        1 => "(bytes )?[0-9]{1,20}-[0-9]{1,20}(/[0-9*]{1,20})?",
        1 => "bytes=[0-9]{0,20}-[0-9]{0,20}",
        1 => "\\PC{0,12}",
    ];
    (
        prop::option::weighted(0.8, authorization),
        prop::option::of(range.clone()),
        prop::option::of(range),
        prop::option::of(prop_oneof![
            Just("application/vnd.oci.image.manifest.v1+json".to_owned()),
            Just("application/vnd.oci.image.index.v1+json".to_owned()),
            "\\PC{0,20}",
        ]),
        prop::option::weighted(0.9, "\\PC{0,8}"),
    )
        .prop_map(
            |(authorization, content_range, range, content_type, agent)| {
                [
                    ("authorization", authorization),
                    ("content-range", content_range),
                    ("range", range),
                    ("content-type", content_type),
                    ("user-agent", agent),
                ]
                .into_iter()
                .filter_map(|(name, value)| Some((name, value?)))
                .collect()
            },
        )
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80),
        Just(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:zz","size":-1}]}"#.to_vec()),
        Just(br#"{"schemaVersion":2,"manifests":[{"digest":"sha256:49fc8e2c4fe7bb5e12fbdbfa7e2f7bf4c8a4b1bd3c7c3c54e1a5a2b35c6f4b4f","size":18446744073709551615}]}"#.to_vec()),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(
        &[
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ][..],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn every_request_gets_an_answer(
        generic in any::<bool>(),
        storage in prop::bool::weighted(0.1),
        (method, path) in target(),
        query in query(),
        headers in headers(),
        body in body(),
    ) {
        let profile = if generic { Profile::Generic } else { Profile::Ghcr };
        let shared = shared(profile);
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        let request = Request { method, path, query, headers: map, body: Bytes::from(body) };
        let listener = if storage { Listener::Storage } else { Listener::Registry };
        let answer = route(&shared, listener, &request);
        prop_assert!(answer.status().as_u16() >= 200);
    }
}
