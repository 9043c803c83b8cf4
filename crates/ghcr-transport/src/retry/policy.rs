//! Whether an attempt's outcome is worth another attempt: a pure decision
//! on method, status and error, with no clock or socket.

use http::{Method, StatusCode};

use crate::body::BoxError;
use crate::request::Retry;

/// Whether the request may be repeated at all.
pub(crate) fn may_repeat(method: &Method, retry: Retry) -> bool {
    match retry {
        Retry::Always => true,
        Retry::Never => false,
        Retry::IdempotentOnly => matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ),
    }
}

/// Statuses that say "try again": gateway and availability failures and
/// 500 (which registries return for transient storage errors). 429 belongs
/// to the rate-limit layer; other 4xx never change on retry.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 500 | 502 | 503 | 504)
}

/// Errors that say the attempt did not get through: timeouts, refused or
/// reset connections. Configuration errors and our own decisions are final.
pub(crate) fn is_retryable_error(error: &BoxError) -> bool {
    if error.downcast_ref::<crate::timeout::Elapsed>().is_some() {
        return true;
    }
    if error.downcast_ref::<crate::Error>().is_some() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    while let Some(current) = source {
        if let Some(client) = current.downcast_ref::<hyper_util::client::legacy::Error>()
            && client.is_connect()
        {
            return true;
        }
        if let Some(hyper) = current.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed())
        {
            return true;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::{
                BrokenPipe, ConnectionAborted, ConnectionRefused, ConnectionReset, TimedOut,
                UnexpectedEof,
            };
            return matches!(
                io.kind(),
                ConnectionReset
                    | ConnectionAborted
                    | ConnectionRefused
                    | BrokenPipe
                    | TimedOut
                    | UnexpectedEof
            );
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeatable_methods() {
        for (method, retry, expected) in [
            (Method::GET, Retry::IdempotentOnly, true),
            (Method::PUT, Retry::IdempotentOnly, true),
            (Method::POST, Retry::IdempotentOnly, false),
            (Method::PATCH, Retry::IdempotentOnly, false),
            (Method::POST, Retry::Always, true),
            (Method::GET, Retry::Never, false),
        ] {
            assert_eq!(may_repeat(&method, retry), expected, "{method} {retry:?}");
        }
    }

    #[test]
    fn statuses() {
        for (status, expected) in [
            (500, true),
            (502, true),
            (503, true),
            (504, true),
            (408, true),
            (429, false),
            (404, false),
            (400, false),
            (501, false),
            (200, false),
        ] {
            assert_eq!(
                is_retryable_status(StatusCode::from_u16(status).unwrap()),
                expected,
                "{status}"
            );
        }
    }

    #[test]
    fn errors() {
        let reset: BoxError = Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_retryable_error(&reset));
        let denied: BoxError = Box::new(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(!is_retryable_error(&denied));
        let elapsed: BoxError =
            Box::new(crate::timeout::Elapsed(std::time::Duration::from_secs(1)));
        assert!(is_retryable_error(&elapsed));
        let ours: BoxError = Box::new(crate::Error::Config { reason: "x".into() });
        assert!(!is_retryable_error(&ours));
    }
}
