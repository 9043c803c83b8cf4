//! The connections the fake is serving, so a test can wait until it has
//! finished with a client that is gone: a request the client wrote
//! completely before it was killed is still read and handled after its
//! death, and a check of the fake's state made before that would miss it.

use tokio::sync::watch;

/// Connections accepted and not yet finished.
#[derive(Debug)]
pub(crate) struct Connections {
    open: watch::Sender<usize>,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            open: watch::Sender::new(0),
        }
    }
}

impl Connections {
    /// One more is accepted.
    pub(crate) fn opened(&self) {
        self.open.send_modify(|open| *open += 1);
    }

    /// One has ended (its client closed it and every request on it was
    /// answered or dropped).
    pub(crate) fn closed(&self) {
        self.open.send_modify(|open| *open = open.saturating_sub(1));
    }

    /// Waits until no connection is open.
    pub(crate) async fn none_open(&self) {
        let mut open = self.open.subscribe();
        // The sender lives as long as `self`.
        let _ = open.wait_for(|open| *open == 0).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_the_last_connection_to_close() {
        let connections = std::sync::Arc::new(Connections::default());
        connections.none_open().await;
        connections.opened();
        connections.opened();
        let waiting = tokio::spawn({
            let connections = connections.clone();
            async move { connections.none_open().await }
        });
        connections.closed();
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "one connection is still open");
        connections.closed();
        waiting.await.unwrap();
    }
}
