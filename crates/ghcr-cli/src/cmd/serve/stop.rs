//! Stopping cleanly: SIGTERM or Ctrl-C sets a flag and wakes whoever waits
//! on it. The scheduler starts no new run once it is set and abandons a
//! plan being made (planning only reads), and a cleanup under way gets it
//! as its stop signal
//! (`PackagesClient::execute_cleanup_until`): the deletion on its way
//! completes, no other starts, and the report lists the rest as not
//! attempted. Then the service exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// The stop flag, shared by the signal task, the scheduler and the cleanup under way.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stop {
    stopping: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Stop {
    /// Sets the flag and wakes whoever waits.
    pub(crate) fn trigger(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Waits until the flag is set.
    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        if self.is_set() {
            return;
        }
        notified.await;
    }

    /// Sets the flag on SIGTERM or Ctrl-C.
    pub(crate) fn on_signals(&self) {
        let stop = self.clone();
        tokio::spawn(async move {
            signalled().await;
            tracing::info!("stopping: no new deletion starts, the one under way completes");
            stop.trigger();
        });
    }
}

/// Waits for SIGTERM or Ctrl-C (SIGINT). Once this is first polled, those
/// signals no longer end the process: the caller decides how to stop.
pub(crate) async fn signalled() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let term = async {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_when_the_flag_is_set_and_after() {
        let stop = Stop::default();
        assert!(!stop.is_set());
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        stop.trigger();
        waiter.await.unwrap();
        assert!(stop.is_set());
        // A wait that starts after the trigger ends at once.
        stop.wait().await;
    }
}
