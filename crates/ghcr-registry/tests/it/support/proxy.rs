//! A TCP proxy in front of a registry that drops one connection when a
//! condition on the forwarded bytes holds, or cuts one blob answer after
//! some bytes, and notes each request line and head.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// When to drop: given the bytes just read from the client and the
/// client bytes forwarded so far, in all connections.
pub(crate) type Cut = Arc<dyn Fn(&[u8], u64) -> bool + Send + Sync>;

/// What the proxy saw.
#[derive(Default)]
pub(crate) struct Seen {
    /// Client bytes forwarded.
    pub(crate) forwarded: AtomicU64,
    /// Whether the cut happened.
    pub(crate) cut: AtomicBool,
    /// Request lines (`PATCH /v2/...`), in order.
    pub(crate) requests: Mutex<Vec<String>>,
    /// Request heads (line and headers, lowercased), in order.
    pub(crate) heads: Mutex<Vec<String>>,
    /// Whether a blob answer was cut.
    pub(crate) answer_cut: AtomicBool,
}

impl Seen {
    /// Request lines starting with `prefix`.
    pub(crate) fn count(&self, prefix: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }
}

/// Proxies 127.0.0.1:<new port> to `upstream`, dropping the first
/// connection for which `cut` holds.
pub(crate) async fn start(upstream: String, cut: Cut) -> (SocketAddr, Arc<Seen>) {
    start_cutting(upstream, cut, None).await
}

/// Proxies to `upstream`, dropping the connection of the first answer to a
/// blob GET once `after` of its bytes went through.
pub(crate) async fn cutting_a_blob_answer(upstream: String, after: u64) -> (SocketAddr, Arc<Seen>) {
    start_cutting(upstream, Arc::new(|_, _| false), Some(after)).await
}

async fn start_cutting(
    upstream: String,
    cut: Cut,
    answer_after: Option<u64>,
) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let shared = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            tokio::spawn(pipe(
                client,
                server,
                cut.clone(),
                answer_after,
                shared.clone(),
            ));
        }
    });
    (addr, seen)
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    cut: Cut,
    answer_after: Option<u64>,
    seen: Arc<Seen>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // The connection's latest request line and how many it has had, so
    // that the answer side knows what it is answering.
    let current = Mutex::new((String::new(), 0u64));
    let upstream = async {
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let Ok(read) = client_read.read(&mut buffer).await else {
                return;
            };
            if read == 0 {
                return;
            }
            let piece = &buffer[..read];
            if let Some(line) = request_line(piece) {
                let head = String::from_utf8_lossy(piece);
                let head = head.split("\r\n\r\n").next().unwrap_or_default();
                seen.heads.lock().unwrap().push(head.to_ascii_lowercase());
                let mut current = current.lock().unwrap();
                *current = (line.clone(), current.1 + 1);
                seen.requests.lock().unwrap().push(line);
            }
            let before = seen.forwarded.load(Ordering::SeqCst);
            if !seen.cut.load(Ordering::SeqCst) && cut(piece, before) {
                seen.cut.store(true, Ordering::SeqCst);
                return;
            }
            if server_write.write_all(piece).await.is_err() {
                return;
            }
            seen.forwarded.fetch_add(read as u64, Ordering::SeqCst);
        }
    };
    let downstream = async {
        let mut buffer = vec![0u8; 256 * 1024];
        let (mut answering, mut sent) = (0u64, 0u64);
        loop {
            let Ok(read) = server_read.read(&mut buffer).await else {
                return;
            };
            if read == 0 {
                return;
            }
            let mut piece = &buffer[..read];
            let (line, number) = current.lock().unwrap().clone();
            if number != answering {
                (answering, sent) = (number, 0);
            }
            if let Some(after) = answer_after
                && !seen.answer_cut.load(Ordering::SeqCst)
                && line.starts_with("GET ")
                && line.contains("/blobs/sha256:")
            {
                let room = usize::try_from(after.saturating_sub(sent)).unwrap_or(usize::MAX);
                if read > room {
                    piece = &piece[..room];
                    seen.answer_cut.store(true, Ordering::SeqCst);
                    let _ = client_write.write_all(piece).await;
                    return;
                }
                sent += read as u64;
            }
            if client_write.write_all(piece).await.is_err() {
                return;
            }
        }
    };
    // Whichever side ends first ends the connection, both ways.
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}

fn request_line(piece: &[u8]) -> Option<String> {
    const METHODS: [&str; 6] = ["GET ", "HEAD ", "POST ", "PUT ", "PATCH ", "DELETE "];
    let text = std::str::from_utf8(piece.get(..piece.len().min(512))?)
        .ok()
        .or_else(|| {
            let end = piece.iter().position(|b| *b == b'\r')?;
            std::str::from_utf8(&piece[..end]).ok()
        })?;
    METHODS
        .iter()
        .any(|m| text.starts_with(m))
        .then(|| text.lines().next().unwrap_or_default().to_owned())
}
