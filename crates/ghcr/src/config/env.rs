//! Reading the `GHCR_*` variables into a builder. Parsing errors name the
//! variable; ranges are checked by `build`, for both ways in.

use std::str::FromStr;
use std::time::Duration;

use super::builder::{CHUNK_SIZE_RANGE, MAX_RETRIES_LIMIT, TIMEOUT_RANGE, UPLOAD_TIMEOUT_RANGE};
use super::{
    ALLOW_ORIGINS_VAR, API_BASE_VAR, CHUNK_SIZE_VAR, GhcrConfigBuilder, MAX_RETRIES_VAR,
    REGISTRY_VAR, SIMULATION_MODE_VAR, SIMULATION_PATH_VAR, THROTTLE_THRESHOLD_VAR, TIMEOUT_VAR,
    TOKEN_VAR, UPLOAD_TIMEOUT_VAR, USERNAME_VAR,
};
use crate::error::{Error, Result};

/// The user name sent with a token when `GHCR_USERNAME` is not set (ghcr.io
/// accepts any name with a PAT).
const PLACEHOLDER_USER: &str = ghcr_auth::EnvProvider::PLACEHOLDER_USER;

impl GhcrConfigBuilder {
    /// A builder from the process environment (see [`super::ENV_VARS`]).
    ///
    /// # Errors
    ///
    /// As [`GhcrConfigBuilder::from_lookup`].
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// A builder from variables looked up through `lookup`; unset or empty
    /// ones keep their defaults.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a value that is not a number of the right kind,
    /// `GHCR_USERNAME` without `GHCR_TOKEN`, or a simulation mode this build
    /// cannot run.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let mut builder = Self::default();
        if let Some(registry) = var(REGISTRY_VAR) {
            builder = builder.registry(&registry);
        }
        if let Some(api_base) = var(API_BASE_VAR) {
            builder = builder.api_base(&api_base);
        }
        match (
            var(USERNAME_VAR),
            lookup(TOKEN_VAR).filter(|t| !t.trim().is_empty()),
        ) {
            (username, Some(token)) => {
                let username = username.unwrap_or_else(|| PLACEHOLDER_USER.to_owned());
                builder = builder.credentials(&username, token.trim());
            }
            (Some(_), None) => {
                return Err(Error::config(
                    "credentials",
                    TOKEN_VAR,
                    "GHCR_USERNAME is set but GHCR_TOKEN is not; set both, or neither for anonymous access",
                ));
            }
            (None, None) => {}
        }
        if let Some(text) = var(TIMEOUT_VAR) {
            let seconds = number::<u64>(&text, "timeout", TIMEOUT_VAR, &range(TIMEOUT_RANGE))?;
            builder = builder.timeout(Duration::from_secs(seconds));
        }
        if let Some(text) = var(UPLOAD_TIMEOUT_VAR) {
            let accepted = range(UPLOAD_TIMEOUT_RANGE);
            let seconds = number::<u64>(&text, "upload_timeout", UPLOAD_TIMEOUT_VAR, &accepted)?;
            builder = builder.upload_timeout(Duration::from_secs(seconds));
        }
        if let Some(text) = var(CHUNK_SIZE_VAR) {
            let accepted = format!(
                "a whole number of bytes from {} to {} (at most 4194304 on ghcr.io)",
                CHUNK_SIZE_RANGE.0, CHUNK_SIZE_RANGE.1
            );
            builder = builder.chunk_size(number(&text, "chunk_size", CHUNK_SIZE_VAR, &accepted)?);
        }
        if let Some(text) = var(MAX_RETRIES_VAR) {
            let accepted = format!("a whole number from 0 to {MAX_RETRIES_LIMIT}");
            builder =
                builder.max_retries(number(&text, "max_retries", MAX_RETRIES_VAR, &accepted)?);
        }
        if let Some(text) = var(THROTTLE_THRESHOLD_VAR) {
            let accepted = "a number above 0 and at most 1, such as 0.8";
            let share = number::<f64>(
                &text,
                "throttle_threshold",
                THROTTLE_THRESHOLD_VAR,
                accepted,
            )?;
            builder = builder.throttle_threshold(share);
        }
        if let Some(text) = var(ALLOW_ORIGINS_VAR) {
            for host in text.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                builder = builder.allow_origin(host);
            }
        }
        simulation(
            builder,
            var(SIMULATION_MODE_VAR).as_deref(),
            var(SIMULATION_PATH_VAR).as_deref(),
        )
    }
}

fn range((low, high): (u64, u64)) -> String {
    format!("a whole number of seconds from {low} to {high}")
}

/// Parses a number; the error does not repeat the text, which may be a
/// secret pasted into the wrong variable.
fn number<T: FromStr>(
    text: &str,
    setting: &'static str,
    variable: &'static str,
    accepted: &str,
) -> Result<T> {
    text.parse().map_err(|_| {
        Error::config(
            setting,
            variable,
            format!("the value (not repeated here) is not {accepted}"),
        )
    })
}

/// The simulation modes; anything else is refused without being repeated.
fn check_simulation_mode(mode: Option<&str>) -> Result<()> {
    match mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("off" | "none" | "record" | "replay") => Ok(()),
        Some(_) => Err(Error::config(
            "simulation",
            SIMULATION_MODE_VAR,
            "the value (not repeated here) is not a simulation mode; use off, record or replay",
        )),
    }
}

#[cfg(feature = "sim")]
fn simulation(
    builder: GhcrConfigBuilder,
    mode: Option<&str>,
    path: Option<&str>,
) -> Result<GhcrConfigBuilder> {
    check_simulation_mode(mode)?;
    let mode = ghcr_sim::SimulationMode::from_values(mode, path)?;
    Ok(builder.simulation(mode))
}

#[cfg(not(feature = "sim"))]
fn simulation(
    builder: GhcrConfigBuilder,
    mode: Option<&str>,
    _path: Option<&str>,
) -> Result<GhcrConfigBuilder> {
    check_simulation_mode(mode)?;
    match mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("off" | "none") => Ok(builder),
        Some(other) => Err(Error::config(
            "simulation",
            SIMULATION_MODE_VAR,
            format!(
                "`{other}` needs the `sim` feature of the ghcr crate, which this build lacks (the ghcr CLI has it); use off"
            ),
        )),
    }
}
