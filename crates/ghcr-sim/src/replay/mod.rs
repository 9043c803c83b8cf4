//! The replayer: a wire service that answers from a cassette, with no
//! network, server or credentials.

mod check;
mod matcher;

pub use check::verify_replay;
pub use matcher::Matcher;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use tower::Service;

use crate::body::{BoxError, HttpBody};
use crate::cassette::{Cassette, Interaction, RecordedError, describe};
use crate::error::{Error, Result};
use crate::redact;
use matcher::{UrlParts, distance};

/// Whether [`Replayer::finish`] fails when recorded interactions were not
/// requested.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strictness {
    /// Every recorded interaction must be replayed.
    #[default]
    Strict,
    /// Interactions may be left over.
    Lenient,
}

/// Serves a cassette as a wire.
///
/// Each request is matched on method, path, query and body (see
/// [`Matcher`]); requests with the same key are answered in recorded order.
/// An unmatched request fails with [`Error::SimulationMismatch`] naming the
/// nearest recorded request. The same redaction the recorder applied is
/// applied to incoming requests before matching. Clones share one state.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use tower::{Layer, ServiceExt};
/// use http_body_util::BodyExt;
///
/// // Record one interaction against a script...
/// let dir = tempfile::tempdir()?;
/// let recorder = ghcr_sim::RecordLayer::new(dir.path().join("ping"));
/// let script = tower::service_fn(|_r: http::Request<ghcr_sim::HttpBody>| async {
///     Ok::<_, ghcr_sim::BoxError>(http::Response::new(ghcr_sim::full("pong")))
/// });
/// let request = || http::Request::get("http://127.0.0.1:1/v2/").body(ghcr_sim::empty()).unwrap();
/// recorder.layer(script).oneshot(request()).await?;
/// recorder.finish()?;
///
/// // ...and replay it with nothing listening.
/// let replayer = ghcr_sim::Replayer::load(&dir.path().join("ping"))?;
/// let response = replayer.clone().oneshot(request()).await?;
/// assert_eq!(response.into_body().collect().await?.to_bytes(), "pong");
/// replayer.finish()?; // Strict: every interaction was used.
/// # Ok::<(), ghcr_sim::BoxError>(())
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Replayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    cassette: Cassette,
    matcher: Matcher,
    strictness: Strictness,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    queues: HashMap<String, VecDeque<usize>>,
    served: Vec<bool>,
}

impl Replayer {
    /// Replays `cassette` with the default matcher, strictly.
    pub fn new(cassette: Cassette) -> Self {
        Self::build(cassette, Matcher::default(), Strictness::Strict)
    }

    /// Loads the cassette folder `dir` and replays it.
    ///
    /// # Errors
    ///
    /// As [`Cassette::load`].
    pub fn load(dir: &Path) -> Result<Self> {
        Cassette::load(dir).map(Self::new)
    }

    fn build(cassette: Cassette, matcher: Matcher, strictness: Strictness) -> Self {
        let mut queues: HashMap<String, VecDeque<usize>> = HashMap::new();
        for (index, interaction) in cassette.interactions.iter().enumerate() {
            let parts = UrlParts::parse(&interaction.request.url);
            queues
                .entry(matcher.key(&interaction.request.method, &parts))
                .or_default()
                .push_back(index);
        }
        let served = vec![false; cassette.interactions.len()];
        Self {
            shared: Arc::new(Shared {
                cassette,
                matcher,
                strictness,
                state: Mutex::new(State { queues, served }),
            }),
        }
    }

    /// Uses `matcher` to pair requests with recordings. Default:
    /// [`Matcher::default`] (method, path, query and body). Call before
    /// handing out clones.
    #[must_use]
    pub fn matcher(self, matcher: Matcher) -> Self {
        Self::build(
            self.shared.cassette.clone(),
            matcher,
            self.shared.strictness,
        )
    }

    /// Whether leftovers fail [`Replayer::finish`]. Default: strict.
    #[must_use]
    pub fn strictness(self, strictness: Strictness) -> Self {
        Self::build(
            self.shared.cassette.clone(),
            self.shared.matcher,
            strictness,
        )
    }

    /// The cassette being replayed.
    pub fn cassette(&self) -> &Cassette {
        &self.shared.cassette
    }

    /// How many recorded interactions were not requested yet.
    pub fn remaining(&self) -> usize {
        self.state()
            .served
            .iter()
            .filter(|served| !**served)
            .count()
    }

    /// Ends the replay.
    ///
    /// # Errors
    ///
    /// In strict mode, [`Error::Unconsumed`] when recorded interactions were
    /// never requested.
    pub fn finish(&self) -> Result<()> {
        if self.shared.strictness == Strictness::Lenient {
            return Ok(());
        }
        let state = self.state();
        let left: Vec<usize> = (0..state.served.len())
            .filter(|index| !state.served[*index])
            .collect();
        match left.first() {
            None => Ok(()),
            Some(first) => Err(Error::Unconsumed {
                count: left.len(),
                first: self.shared.cassette.interactions[*first].describe(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Finds the interaction for a request, marking it served.
    fn take(&self, method: &str, url: &str, body: &Bytes) -> Result<&Interaction> {
        let parts = UrlParts::parse(url);
        let key = self.shared.matcher.key(method, &parts);
        let interactions = &self.shared.cassette.interactions;
        let mut state = self.state();
        let found = state.queues.get_mut(&key).and_then(|queue| {
            let position = queue.iter().position(|index| {
                let recorded = &interactions[*index].request;
                !self.shared.matcher.matches_body()
                    || !recorded.body_complete
                    || recorded.body == *body
            })?;
            queue.remove(position)
        });
        if let Some(index) = found {
            state.served[index] = true;
            return Ok(&interactions[index]);
        }
        let request = describe(method, url);
        let nearest = interactions
            .iter()
            .enumerate()
            .min_by_key(|(index, interaction)| {
                // The closest text; among equals, one not yet served.
                (
                    distance(&request, &interaction.describe()),
                    state.served[*index],
                )
            })
            .map(|(index, interaction)| {
                let used = if state.served[index] {
                    "already replayed"
                } else if interaction.describe() == request {
                    "same request with another body"
                } else {
                    "not replayed yet"
                };
                format!("#{index} {}, {used}", interaction.describe())
            });
        Err(Error::SimulationMismatch { request, nearest })
    }

    async fn answer(
        self,
        request: http::Request<HttpBody>,
    ) -> Result<http::Response<HttpBody>, BoxError> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let body = redact::body(&body, content_type);
        let url = redact::url(&parts.uri.to_string());
        let interaction = self.take(parts.method.as_str(), &url, &body)?;
        respond(interaction)
    }
}

fn respond(interaction: &Interaction) -> Result<http::Response<HttpBody>, BoxError> {
    let recorded = match &interaction.outcome {
        Ok(response) => response,
        Err(error) => return Err(Box::new(error.to_io_error())),
    };
    let mut response = http::Response::builder().status(recorded.status);
    for (name, values) in &recorded.headers {
        for value in values {
            response = response.header(name.as_str(), value.as_str());
        }
    }
    let body = match (&recorded.body_error, recorded.body_complete) {
        (None, true) => crate::body::full(recorded.body.clone()),
        (Some(error), _) => broken_body(recorded.body.clone(), error),
        (None, false) => broken_body(
            recorded.body.clone(),
            &RecordedError {
                kind: "unexpected_eof".into(),
                message: format!(
                    "the recording holds only the first {} bytes of this body: the recorded client stopped reading there",
                    recorded.body.len()
                ),
            },
        ),
    };
    Ok(response.body(body)?)
}

/// A body that yields `bytes`, then fails as the recording did.
fn broken_body(bytes: Bytes, error: &RecordedError) -> HttpBody {
    crate::body::Frames::broken(bytes, Box::new(error.to_io_error())).boxed_unsync()
}

/// The response future of [`Replayer`].
pub type ReplayFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<HttpBody>, BoxError>> + Send>>;

impl Service<http::Request<HttpBody>> for Replayer {
    type Response = http::Response<HttpBody>;
    type Error = BoxError;
    type Future = ReplayFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<HttpBody>) -> ReplayFuture {
        Box::pin(self.clone().answer(request))
    }
}
