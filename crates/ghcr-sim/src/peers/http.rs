//! The smallest HTTP/1.1 client that can ask a peer whether it is up: one
//! request per connection, the answer read to its end.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer: the status, the headers (names lowercased) and the body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The first value of header `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, lossily.
    pub(crate) fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// Answers bigger than this are cut (a peer's `/v2/` says little).
const MAX_ANSWER: u64 = 1024 * 1024;

/// `GET path` on `host` (`127.0.0.1:port`) with extra header lines, within
/// `limit` for the whole exchange.
pub(crate) async fn get(
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    limit: Duration,
) -> io::Result<Answer> {
    tokio::time::timeout(limit, exchange(host, path, headers))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("{host} did not answer")))?
}

async fn exchange(host: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<Answer> {
    let mut stream = TcpStream::connect(host).await?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.take(MAX_ANSWER).read_to_end(&mut raw).await?;
    parse(&raw).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{host} answered something that is not HTTP"),
        )
    })
}

/// Splits a raw answer; the body is what follows the headers, as sent
/// (the peers answer `/v2/` with a small, unchunked body).
fn parse(raw: &[u8]) -> Option<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(raw.get(..end)?).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Some(Answer {
        status,
        headers,
        body: raw.get(end + 4..).unwrap_or_default().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_split_into_status_headers_and_body() {
        let answer =
            parse(b"HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer x\r\nA: b\r\n\r\n{}")
                .unwrap();
        assert_eq!(answer.status, 401);
        assert_eq!(answer.header("www-authenticate"), Some("Bearer x"));
        assert_eq!(answer.header("a"), Some("b"));
        assert_eq!(answer.body, b"{}");
        for broken in [
            &b""[..],
            b"HTTP/1.1 200 OK\r\n",
            b"HTTP/1.1 abc\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert!(parse(broken).is_none(), "{broken:?}");
        }
    }
}
