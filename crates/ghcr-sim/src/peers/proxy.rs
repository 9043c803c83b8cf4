//! A loopback TCP proxy in front of a peer (a [`super::DockerRegistry`], a
//! fake) that counts the bytes going each way and breaks one connection
//! when told to: cut it after some bytes, hold it, or reset it.
//!
//! It knows nothing of HTTP: a fault is about bytes, so a test names the
//! byte where the network fails, and the proxy's counters say what the
//! client sent in all (a restarted upload shows as bytes sent twice).
//!
//! ```no_run
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ghcr_sim::peers::{Auth, DockerRegistry, FaultProxy, ProxyFault};
//!
//! let registry = DockerRegistry::start(Auth::None).await?;
//! let proxy = FaultProxy::start(registry.host()).await?;
//! // Clients go to `proxy.host()`; the connection carrying the 64 MiB + 1st
//! // byte from now is closed there, that byte and the rest never sent.
//! proxy.arm(ProxyFault::CutAfter(64 << 20));
//! // ... an upload through the proxy ...
//! assert!(proxy.upstream_bytes() <= 64 << 20 || proxy.fired() == 1);
//! # Ok::<(), std::io::Error>(())
//! # });
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one connection. Each armed fault fires once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyFault {
    /// Let this many more client bytes through (counted over every
    /// connection from when it is armed), then close the connection that
    /// carries the next one, both ways; the bytes past the limit never
    /// reach the upstream.
    CutAfter(u64),
    /// Hold the next piece a client sends for this long before forwarding
    /// it (a `tokio::time::sleep`: instant under a paused test clock).
    Delay(Duration),
    /// Reset the connection that sends the next client bytes: both sides
    /// get a TCP RST, and those bytes are not forwarded.
    Reset,
}

/// A running proxy on 127.0.0.1; stops accepting when dropped (open
/// connections end with their peers).
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    upstream_bytes: AtomicU64,
    downstream_bytes: AtomicU64,
    connections: AtomicU64,
    fired: AtomicU64,
    armed: Mutex<VecDeque<ProxyFault>>,
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream_bytes", &self.upstream_bytes())
            .field("downstream_bytes", &self.downstream_bytes())
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// Listens on a free 127.0.0.1 port and forwards every connection to
    /// `upstream` (`host:port`).
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub async fn start(upstream: &str) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let serving = shared.clone();
        let upstream = upstream.to_owned();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = serving.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    // An upstream that refuses: the client sees its connection close.
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        shared.connections.fetch_add(1, Ordering::SeqCst);
                        relay(client, server, &shared).await;
                    }
                });
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:<port>`, for references and `allow_plain_http`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `fault`; faults fire one at a time, in the order armed.
    pub fn arm(&self, fault: ProxyFault) {
        self.shared.lock().push_back(fault);
    }

    /// Client bytes forwarded to the upstream so far, in all connections.
    pub fn upstream_bytes(&self) -> u64 {
        self.shared.upstream_bytes.load(Ordering::SeqCst)
    }

    /// Upstream bytes forwarded to clients so far, in all connections.
    pub fn downstream_bytes(&self) -> u64 {
        self.shared.downstream_bytes.load(Ordering::SeqCst)
    }

    /// Connections relayed so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// How many armed faults have fired.
    pub fn fired(&self) -> u64 {
        self.shared.fired.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<ProxyFault>> {
        self.armed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What to do with `len` client bytes just read.
    fn decide(&self, len: usize) -> Verdict {
        let mut armed = self.lock();
        let verdict = match armed.front_mut() {
            None => return Verdict::Forward(len),
            Some(ProxyFault::CutAfter(left)) => {
                let room = usize::try_from(*left).unwrap_or(usize::MAX);
                if len <= room {
                    *left -= len as u64;
                    return Verdict::Forward(len);
                }
                Verdict::Cut(room)
            }
            Some(ProxyFault::Delay(delay)) => Verdict::Delay(*delay),
            Some(ProxyFault::Reset) => Verdict::Reset,
        };
        armed.pop_front();
        self.fired.fetch_add(1, Ordering::SeqCst);
        verdict
    }
}

enum Verdict {
    /// Forward this many bytes (all of them).
    Forward(usize),
    /// Forward this many, then close.
    Cut(usize),
    Delay(Duration),
    Reset,
}

/// How one direction of a connection ended.
enum End {
    /// The client is done sending: the answer may still come.
    Eof,
    /// A side failed or a cut fired: close both.
    Closed,
    /// A reset fault fired.
    Reset,
}

const PIECE: usize = 64 * 1024;

async fn relay(mut client: TcpStream, mut server: TcpStream, shared: &Shared) {
    let end = {
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        let up = async {
            let mut buffer = vec![0u8; PIECE];
            loop {
                let read = match client_read.read(&mut buffer).await {
                    Ok(0) => {
                        let _ = server_write.shutdown().await;
                        return End::Eof;
                    }
                    Err(_) => return End::Closed,
                    Ok(read) => read,
                };
                let (send, then) = match shared.decide(read) {
                    Verdict::Forward(len) => (len, None),
                    Verdict::Cut(len) => (len, Some(End::Closed)),
                    Verdict::Delay(delay) => {
                        tokio::time::sleep(delay).await;
                        (read, None)
                    }
                    Verdict::Reset => return End::Reset,
                };
                if server_write.write_all(&buffer[..send]).await.is_err() {
                    return End::Closed;
                }
                shared
                    .upstream_bytes
                    .fetch_add(send as u64, Ordering::SeqCst);
                if let Some(end) = then {
                    return end;
                }
            }
        };
        let down = async {
            let mut buffer = vec![0u8; PIECE];
            loop {
                let read = match server_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => return End::Closed,
                    Ok(read) => read,
                };
                if client_write.write_all(&buffer[..read]).await.is_err() {
                    return End::Closed;
                }
                shared
                    .downstream_bytes
                    .fetch_add(read as u64, Ordering::SeqCst);
            }
        };
        // The answer ends the connection, and so does a failure either way;
        // a client that is done sending still gets the rest of its answer.
        tokio::pin!(up, down);
        tokio::select! {
            end = &mut up => match end {
                End::Eof => (&mut down).await,
                end => end,
            },
            end = &mut down => end,
        }
    };
    if matches!(end, End::Reset) {
        for stream in [&client, &server] {
            // A zero linger never blocks: close discards what is queued and
            // sends RST, which is the point here.
            #[expect(deprecated, reason = "SO_LINGER 0 makes the close a reset")]
            let _ = stream.set_linger(Some(Duration::ZERO));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that answers each read with `ok` and, when a connection
    /// ends, hands over what it read on it.
    async fn echo_upstream() -> (String, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let (kept, received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (mut read_so_far, mut buffer) = (Vec::new(), [0u8; 1024]);
                    while let Ok(read @ 1..) = stream.read(&mut buffer).await {
                        read_so_far.extend_from_slice(&buffer[..read]);
                        if stream.write_all(b"ok").await.is_err() {
                            break;
                        }
                    }
                    let _ = kept.send(read_so_far);
                });
            }
        });
        (host, received)
    }

    /// Sends `bytes`, then reads until the proxy or upstream closes.
    async fn exchange(proxy: &FaultProxy, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(proxy.addr()).await?;
        stream.write_all(bytes).await?;
        stream.shutdown().await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn bytes_are_forwarded_and_counted_both_ways() {
        let (upstream, mut kept) = echo_upstream().await;
        let proxy = FaultProxy::start(&upstream).await.unwrap();
        let answer = exchange(&proxy, b"hello").await.unwrap();
        assert!(answer.starts_with(b"ok"), "{answer:?}");
        assert_eq!(kept.recv().await.unwrap(), b"hello");
        assert_eq!(proxy.upstream_bytes(), 5);
        assert_eq!(proxy.downstream_bytes(), answer.len() as u64);
        assert_eq!((proxy.connections(), proxy.fired()), (1, 0));
    }

    #[tokio::test]
    async fn a_cut_passes_exactly_the_allowed_bytes_then_closes_one_connection() {
        let (upstream, mut kept) = echo_upstream().await;
        let proxy = FaultProxy::start(&upstream).await.unwrap();
        exchange(&proxy, b"abc").await.unwrap();
        proxy.arm(ProxyFault::CutAfter(4));
        // 3 + 3 bytes: the cut falls in the second connection's piece.
        exchange(&proxy, b"def").await.unwrap();
        let mut cut = TcpStream::connect(proxy.addr()).await.unwrap();
        cut.write_all(b"ghijkl").await.unwrap();
        let mut rest = Vec::new();
        // Closed (or reset, if the rest was still unread): either way, over.
        let _ = cut.read_to_end(&mut rest).await;
        assert_eq!(proxy.fired(), 1);
        for expected in [&b"abc"[..], b"def", b"g"] {
            assert_eq!(kept.recv().await.unwrap(), expected);
        }
        assert_eq!(proxy.upstream_bytes(), 7);
        // Fired faults are gone: the next connection goes through whole.
        exchange(&proxy, b"mnopqr").await.unwrap();
        assert_eq!(proxy.upstream_bytes(), 13);
    }

    #[tokio::test]
    async fn a_reset_reaches_the_client_as_a_reset_and_nothing_goes_up() {
        let (upstream, mut kept) = echo_upstream().await;
        let proxy = FaultProxy::start(&upstream).await.unwrap();
        proxy.arm(ProxyFault::Reset);
        let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
        stream.write_all(b"doomed").await.unwrap();
        let mut rest = Vec::new();
        let error = stream.read_to_end(&mut rest).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
        assert_eq!(proxy.upstream_bytes(), 0);
        assert_eq!(proxy.fired(), 1);
        assert_eq!(kept.recv().await.unwrap(), b"", "the upstream got nothing");
    }

    #[tokio::test(start_paused = true)]
    async fn a_delay_holds_the_next_piece_on_the_test_clock() {
        let (upstream, mut kept) = echo_upstream().await;
        let proxy = FaultProxy::start(&upstream).await.unwrap();
        proxy.arm(ProxyFault::Delay(Duration::from_secs(90)));
        let started = tokio::time::Instant::now();
        let answer = exchange(&proxy, b"late").await.unwrap();
        assert!(started.elapsed() >= Duration::from_secs(90));
        assert!(answer.starts_with(b"ok"));
        assert_eq!(kept.recv().await.unwrap(), b"late");
    }
}
