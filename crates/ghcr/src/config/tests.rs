//! Table tests of the environment variables and the builder's checks.

use std::time::Duration;

use super::*;

fn from(vars: &[(&str, &str)]) -> crate::Result<GhcrConfig> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    GhcrConfigBuilder::from_lookup(|name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })?
    .build()
}

/// Each bad value fails naming its variable and what is accepted.
#[test]
fn invalid_values_name_the_variable_and_the_range() {
    let table: &[(&str, &str, &str)] = &[
        (TIMEOUT_VAR, "abc", "from 1 to 3600"),
        (TIMEOUT_VAR, "0", "1 to 3600 s"),
        (TIMEOUT_VAR, "3601", "1 to 3600 s"),
        (UPLOAD_TIMEOUT_VAR, "-5", "from 1 to 86400"),
        (UPLOAD_TIMEOUT_VAR, "86401", "1 to 86400 s"),
        (CHUNK_SIZE_VAR, "4MiB", "from 1024 to 1073741824"),
        (CHUNK_SIZE_VAR, "512", "1024 bytes (1 KiB)"),
        (
            CHUNK_SIZE_VAR,
            "5242880",
            "ghcr.io refuses larger upload chunks",
        ),
        (MAX_RETRIES_VAR, "11", "0 to 10"),
        (MAX_RETRIES_VAR, "three", "from 0 to 10"),
        (THROTTLE_THRESHOLD_VAR, "0", "above 0 and at most 1"),
        (THROTTLE_THRESHOLD_VAR, "1.5", "above 0 and at most 1"),
        (THROTTLE_THRESHOLD_VAR, "80%", "above 0 and at most 1"),
        (REGISTRY_VAR, "ghcr.io/octo", "not a registry host"),
        (API_BASE_VAR, "ftp://api.github.com", "not an http(s) URL"),
    ];
    for (variable, value, accepted) in table {
        let error = from(&[(variable, value)]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains(variable) && text.contains(accepted),
            "{variable}={value}: {text}"
        );
        assert!(matches!(error, crate::Error::Config { .. }), "{error:?}");
    }
}

#[test]
fn good_values_are_read() {
    let config = from(&[
        (REGISTRY_VAR, "127.0.0.1:5000"),
        (API_BASE_VAR, "github.example.com/api/v3/"),
        (USERNAME_VAR, "octo"),
        (TOKEN_VAR, "t0ken-value"),
        (TIMEOUT_VAR, " 10 "),
        (UPLOAD_TIMEOUT_VAR, "600"),
        (CHUNK_SIZE_VAR, "8388608"),
        (MAX_RETRIES_VAR, "0"),
        (THROTTLE_THRESHOLD_VAR, "0.5"),
        (SIMULATION_MODE_VAR, "off"),
    ])
    .unwrap();
    assert_eq!(config.registry(), "127.0.0.1:5000");
    assert_eq!(config.api_base(), "https://github.example.com/api/v3");
    assert_eq!(config.api_host(), "github.example.com");
    assert_eq!(config.username(), Some("octo"));
    assert!(config.has_token());
    assert_eq!(config.timeout(), Duration::from_secs(10));
    assert_eq!(config.upload_timeout(), Duration::from_secs(600));
    // Above 4 MiB is fine on a registry other than ghcr.io.
    assert_eq!(config.chunk_size(), 8 * 1024 * 1024);
    assert_eq!(config.max_retries(), 0);
    assert!((config.throttle_threshold() - 0.5).abs() < f64::EPSILON);
}

#[test]
fn defaults_without_variables() {
    let config = from(&[("UNRELATED", "x"), (TIMEOUT_VAR, "  ")]).unwrap();
    assert_eq!(config.registry(), "ghcr.io");
    assert_eq!(config.api_base(), "https://api.github.com");
    assert_eq!(config.username(), None);
    assert!(!config.has_token());
    assert_eq!(config.timeout(), Duration::from_secs(30));
    assert_eq!(config.upload_timeout(), Duration::from_secs(300));
    assert_eq!(config.chunk_size(), GHCR_MAX_CHUNK_SIZE);
    assert_eq!(config.max_retries(), 3);
}

#[test]
fn credentials_need_a_token() {
    let error = from(&[(USERNAME_VAR, "octo")]).unwrap_err();
    assert!(error.to_string().contains("GHCR_TOKEN is not"), "{error}");
    let config = from(&[(TOKEN_VAR, "only-a-token")]).unwrap();
    assert_eq!(config.username(), Some("ghcr-rs"));
    assert!(config.has_token());
}

#[test]
fn the_token_never_shows() {
    let config = from(&[
        (USERNAME_VAR, "octo"),
        (TOKEN_VAR, "ghp_supersecretvalue123"),
    ])
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("ghp_supersecretvalue123"), "{debug}");
    assert!(
        debug.contains("[redacted]") && debug.contains("octo"),
        "{debug}"
    );
    let builder = format!("{:?}", config.clone().into_builder());
    assert!(!builder.contains("ghp_supersecretvalue123"), "{builder}");
    // Credentials in the API base are refused without being repeated.
    let error = from(&[(
        API_BASE_VAR,
        "https://octo:ghp_supersecretvalue123@ghe.example/api/v3",
    )])
    .unwrap_err();
    assert!(error.to_string().contains(TOKEN_VAR), "{error}");
    assert!(!format!("{error} {error:?}").contains("ghp_supersecretvalue123"));
    // An invalid setting next to a token does not put the token in the error.
    let error = from(&[
        (TOKEN_VAR, "ghp_supersecretvalue123"),
        (MAX_RETRIES_VAR, "99"),
    ])
    .unwrap_err();
    assert!(!error.to_string().contains("ghp_supersecretvalue123"));
    assert!(!format!("{error:?}").contains("ghp_supersecretvalue123"));
}

#[test]
fn builder_checks_what_the_environment_checks() {
    let error = GhcrConfig::builder()
        .timeout(Duration::from_millis(10))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("GHCR_TIMEOUT_SECS"), "{error}");
    let error = GhcrConfig::builder()
        .registry("GHCR.IO")
        .chunk_size(GHCR_MAX_CHUNK_SIZE + 1)
        .build();
    assert!(error.is_err(), "ghcr.io's cap applies whatever the case");
    let config = GhcrConfig::builder()
        .registry("127.0.0.1:5000")
        .chunk_size(GHCR_MAX_CHUNK_SIZE + 1)
        .allow_plain_http("127.0.0.1:5000")
        .allow_plain_http("127.0.0.1:5000")
        .build()
        .unwrap();
    assert_eq!(config.plain_http_hosts(), ["127.0.0.1:5000"]);
}

#[test]
fn simulation_modes_come_from_the_environment() {
    let config = from(&[
        (SIMULATION_MODE_VAR, "replay"),
        (SIMULATION_PATH_VAR, "fixtures/x"),
    ])
    .unwrap();
    assert_eq!(
        config.simulation(),
        &ghcr_sim::SimulationMode::Replay("fixtures/x".into())
    );
    let error = from(&[(SIMULATION_MODE_VAR, "record")]).unwrap_err();
    assert!(error.to_string().contains(SIMULATION_PATH_VAR), "{error}");
    let error = from(&[(SIMULATION_MODE_VAR, "playback")]).unwrap_err();
    assert!(error.to_string().contains(SIMULATION_MODE_VAR), "{error}");
}

/// A value that could be a secret (a token pasted into the wrong variable,
/// `user:token@` in a host) is never repeated by the error it causes.
#[test]
fn errors_never_repeat_a_value_that_could_be_a_secret() {
    const SECRET: &str = "ghp_PastedByMistake0123456789";
    let table: Vec<(&str, String)> = vec![
        (REGISTRY_VAR, format!("octo:{SECRET}@ghcr.io")),
        (REGISTRY_VAR, format!("https://octo:{SECRET}@ghcr.io")),
        (REGISTRY_VAR, SECRET.to_owned()),
        (REGISTRY_VAR, format!("ghcr.io/{SECRET}")),
        (
            API_BASE_VAR,
            format!("https://octo:{SECRET}@ghe.example/api/v3"),
        ),
        (API_BASE_VAR, format!("ftp://{SECRET}")),
        (API_BASE_VAR, format!("https://ghe.example/api v3/{SECRET}")),
        (TIMEOUT_VAR, SECRET.to_owned()),
        (UPLOAD_TIMEOUT_VAR, SECRET.to_owned()),
        (CHUNK_SIZE_VAR, SECRET.to_owned()),
        (MAX_RETRIES_VAR, SECRET.to_owned()),
        (THROTTLE_THRESHOLD_VAR, SECRET.to_owned()),
        (SIMULATION_MODE_VAR, SECRET.to_owned()),
        (USERNAME_VAR, SECRET.to_owned()),
    ];
    for (variable, value) in &table {
        let error = from(&[(variable, value)]).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(SECRET), "{variable}={value}: {shown}");
        assert!(shown.contains(variable), "{variable}={value}: {shown}");
    }
    // The builder's way in says the same.
    let error = GhcrConfig::builder()
        .registry(&format!("octo:{SECRET}@ghcr.io"))
        .build()
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(
        shown.contains(TOKEN_VAR),
        "says where the token goes: {shown}"
    );
}

/// `GHCR_API_BASE=http://…` off loopback would send the token in clear
/// text: refused unless plain HTTP to that host is allowed explicitly, as
/// for registries. Loopback (a local fake or proxy) stays allowed.
#[test]
fn plain_http_api_base_off_loopback_needs_an_explicit_allow() {
    let error = from(&[(API_BASE_VAR, "http://ghe.example/api/v3")]).unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, crate::Error::Config { .. }), "{error:?}");
    assert!(
        text.contains(API_BASE_VAR)
            && text.contains("allow_plain_http")
            && text.contains("--plain-http"),
        "names the variable and how to allow it: {text}"
    );
    for base in [
        "http://127.0.0.1:8080",
        "http://localhost:8080/api/v3",
        "http://[::1]:9000",
        "https://ghe.example/api/v3",
    ] {
        let config = from(&[(API_BASE_VAR, base)]).unwrap();
        assert_eq!(config.api_base(), base);
    }
    // Allowed explicitly, for the host or for the API base wherever it is.
    for builder in [
        GhcrConfig::builder().allow_plain_http("ghe.example"),
        GhcrConfig::builder().allow_plain_http_api(),
    ] {
        let config = builder
            .api_base("http://ghe.example/api/v3")
            .build()
            .unwrap();
        assert_eq!(config.api_base(), "http://ghe.example/api/v3");
    }
    // Another host allowed is not this one.
    let error = GhcrConfig::builder()
        .allow_plain_http("ghe.example:8080")
        .api_base("http://ghe.example/api/v3")
        .build();
    assert!(error.is_err(), "{error:?}");
}

/// `GHCR_ALLOW_ORIGINS` lists bare hosts; anything else is refused without
/// being repeated (it may carry a token).
#[test]
fn allowed_origins_come_from_the_environment_as_bare_hosts() {
    const SECRET: &str = "ghp_PastedByMistake0123456789";
    let config = from(&[(
        ALLOW_ORIGINS_VAR,
        " uploads.example , storage.example:8443,uploads.example,",
    )])
    .unwrap();
    assert_eq!(
        config.allowed_origins(),
        ["uploads.example", "storage.example:8443"]
    );
    for value in [
        format!("octo:{SECRET}@uploads.example"),
        "https://uploads.example".to_owned(),
        "uploads.example/path".to_owned(),
        "bad host".to_owned(),
    ] {
        let error = from(&[(ALLOW_ORIGINS_VAR, value.as_str())]).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(shown.contains(ALLOW_ORIGINS_VAR), "{value}: {shown}");
        assert!(!shown.contains(SECRET), "{value}: {shown}");
    }
}
