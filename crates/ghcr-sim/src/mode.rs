//! `SimulationMode`: the user-facing switch between the network, recording
//! and replaying, from configuration or `GHCR_SIMULATION_MODE` /
//! `GHCR_SIMULATION_PATH`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::record::RecordLayer;
use crate::replay::Replayer;

/// The variable naming the mode: `off`, `record` or `replay`.
pub const MODE_VAR: &str = "GHCR_SIMULATION_MODE";

/// The variable naming the cassette folder for `record` and `replay`.
pub const PATH_VAR: &str = "GHCR_SIMULATION_PATH";

/// Whether requests go to the network, are recorded, or are replayed.
///
/// ```
/// use std::path::PathBuf;
/// use ghcr_sim::SimulationMode;
///
/// let mode = SimulationMode::from_values(Some("replay"), Some("fixtures/pull_manifest"))?;
/// assert_eq!(mode, SimulationMode::Replay(PathBuf::from("fixtures/pull_manifest")));
/// assert_eq!(SimulationMode::from_values(None, None)?, SimulationMode::Off);
/// assert!(SimulationMode::from_values(Some("record"), None).is_err());
/// # Ok::<(), ghcr_sim::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimulationMode {
    /// The network, untouched.
    #[default]
    Off,
    /// The network, with every interaction recorded into this folder.
    Record(PathBuf),
    /// No network: answers come from the cassette in this folder.
    Replay(PathBuf),
}

impl SimulationMode {
    /// Reads [`MODE_VAR`] and [`PATH_VAR`].
    ///
    /// # Errors
    ///
    /// As [`SimulationMode::from_values`].
    pub fn from_env() -> Result<Self> {
        let mode = std::env::var(MODE_VAR).ok();
        let path = std::env::var(PATH_VAR).ok();
        Self::from_values(mode.as_deref(), path.as_deref())
    }

    /// Builds a mode from a mode word and a path, as configuration gives them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for an unknown mode, or `record`/`replay`
    /// without a path.
    pub fn from_values(mode: Option<&str>, path: Option<&str>) -> Result<Self> {
        let mode = mode.map(str::trim).unwrap_or_default().to_ascii_lowercase();
        let path = path
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        let need_path = |word: &str| {
            path.clone().ok_or_else(|| {
                Error::setting(
                    PATH_VAR,
                    format!("simulation mode `{word}` needs the cassette folder in {PATH_VAR}"),
                )
            })
        };
        match mode.as_str() {
            "" | "off" | "none" => Ok(Self::Off),
            "record" => need_path("record").map(Self::Record),
            "replay" => need_path("replay").map(Self::Replay),
            other => Err(Error::setting(
                MODE_VAR,
                format!("`{other}` is not a simulation mode; use off, record or replay"),
            )),
        }
    }

    /// Prepares the mode: a recorder, a loaded replayer, or nothing.
    ///
    /// # Errors
    ///
    /// For `Replay`, as [`Replayer::load`].
    pub fn start(&self) -> Result<Simulation> {
        match self {
            Self::Off => Ok(Simulation::Off),
            Self::Record(path) => Ok(Simulation::Record(RecordLayer::new(path.clone()))),
            Self::Replay(path) => Replayer::load(path).map(Simulation::Replay),
        }
    }
}

/// A started [`SimulationMode`]: what to put on the transport's wire.
///
/// `Record` goes in `TransportBuilder::wire_layer`, `Replay` replaces the
/// wire with `TransportBuilder::wire`.
#[derive(Clone, Debug)]
pub enum Simulation {
    /// The network, untouched.
    Off,
    /// Wrap the network wire in this recorder.
    Record(RecordLayer),
    /// Use this replayer as the wire.
    Replay(Replayer),
}

impl Simulation {
    /// Ends the session: writes the recording, or checks the replay was
    /// complete.
    ///
    /// # Errors
    ///
    /// As [`RecordLayer::finish`] or [`Replayer::finish`].
    pub fn finish(&self) -> Result<()> {
        match self {
            Self::Off => Ok(()),
            Self::Record(recorder) => recorder.finish().map(drop),
            Self::Replay(replayer) => replayer.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_from_values() {
        let path = Some("fixtures/x");
        for (mode, path, expected) in [
            (None, None, Some(SimulationMode::Off)),
            (Some("off"), path, Some(SimulationMode::Off)),
            (
                Some(" Record "),
                path,
                Some(SimulationMode::Record("fixtures/x".into())),
            ),
            (
                Some("replay"),
                path,
                Some(SimulationMode::Replay("fixtures/x".into())),
            ),
            (Some("replay"), Some("  "), None),
            (Some("record"), None, None),
            (Some("playback"), path, None),
        ] {
            let parsed = SimulationMode::from_values(mode, path);
            assert_eq!(
                parsed.as_ref().ok(),
                expected.as_ref(),
                "{mode:?} {path:?}: {parsed:?}"
            );
        }
        let err = SimulationMode::from_values(Some("playback"), None).unwrap_err();
        assert!(err.to_string().contains("off, record or replay"), "{err}");
    }

    #[test]
    fn starting_replay_needs_a_cassette_and_record_writes_one() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SimulationMode::Replay(dir.path().join("absent"))
            .start()
            .unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
        let recording = SimulationMode::Record(dir.path().join("new"))
            .start()
            .unwrap();
        assert!(matches!(recording, Simulation::Record(_)));
        recording.finish().unwrap();
        let replaying = SimulationMode::Replay(dir.path().join("new"))
            .start()
            .unwrap();
        assert!(matches!(replaying, Simulation::Replay(_)));
        replaying.finish().unwrap();
        SimulationMode::Off.start().unwrap().finish().unwrap();
    }
}
