//! Replaying a cassette against itself: what `cargo xtask fixtures-check`
//! runs for every cassette, whoever recorded it.

use http_body_util::BodyExt;
use tower::ServiceExt;

use super::Replayer;
use crate::cassette::Cassette;
use crate::error::{Error, Result};

/// Sends each recorded request, in order, to a strict [`Replayer`] of the
/// cassette and checks that the recorded answer comes back (status, headers,
/// body, or the recorded failure) and that nothing is left over. Returns how
/// many interactions were replayed.
///
/// Loading the cassette already verified its side files; this proves the
/// cassette is self-consistent and replayable without the code that
/// recorded it.
///
/// # Errors
///
/// [`Error::InvalidCassette`] naming the first interaction that did not
/// replay as recorded, or the replayer's own error.
pub async fn verify_replay(cassette: &Cassette) -> Result<usize> {
    let replayer = Replayer::new(cassette.clone());
    let invalid = |index: usize, what: String| Error::InvalidCassette {
        path: cassette
            .meta
            .name
            .clone()
            .unwrap_or_else(|| "cassette".into())
            .into(),
        reason: format!("interaction #{index} does not replay as recorded: {what}"),
        source: None,
    };
    for (index, interaction) in cassette.interactions.iter().enumerate() {
        let recorded = &interaction.request;
        let mut request = http::Request::builder()
            .method(recorded.method.as_str())
            .uri(recorded.url.as_str());
        for (name, values) in &recorded.headers {
            for value in values {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let request = request
            .body(crate::body::full(recorded.body.clone()))
            .map_err(|err| invalid(index, format!("the request cannot be rebuilt: {err}")))?;
        let answer = replayer.clone().oneshot(request).await;
        match (&interaction.outcome, answer) {
            (Ok(expected), Ok(response)) => {
                if response.status().as_u16() != expected.status {
                    return Err(invalid(index, format!("status {}", response.status())));
                }
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map(http_body_util::Collected::to_bytes);
                let complete = expected.body_error.is_none() && expected.body_complete;
                match (complete, body) {
                    (true, Ok(body)) if body == expected.body => {}
                    (false, Err(_)) => {}
                    (_, other) => return Err(invalid(index, format!("body {other:?}"))),
                }
            }
            (Err(_), Err(_)) => {}
            (_, answer) => {
                return Err(invalid(
                    index,
                    format!("got {:?}", answer.map(|r| r.status())),
                ));
            }
        }
    }
    replayer.finish()?;
    Ok(cassette.interactions.len())
}
