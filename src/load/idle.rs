//! Idle connections held open (issue 10, connection scale): K connections opened to a server,
//! each completing one opening exchange, then left idle on one thread of their own while the
//! caller measures the server with a probe. Each held connection waits only for the server to
//! close it (counted as dropped); on release every socket is closed with a zero linger (a reset),
//! so 10,000 connections leave no TIME_WAIT behind to exhaust the ephemeral ports of the next
//! step.
//!
//! The opening exchange and what an idle connection listens for depend on the protocol
//! ([`IdleProtocol`]): HTTP/1.1 sends `GET /healthz` on a keep-alive connection, reads the
//! answer, then ignores any stray byte; WebSocket upgrades on `/ws` (the contract's echo path),
//! then answers the server's pings (uvicorn, for one, pings every 20 s and closes a connection
//! that does not answer) and counts a close frame as a drop. Neither sends anything of its own
//! while idle: a held connection costs the server what an idle client costs it, nothing more.
//!
//! A server that stops accepting (a thread per connection, all taken) would otherwise make
//! every remaining open wait for its timeout, 10,000 of them 256 at a time: after
//! [`GIVE_UP_AFTER`] failures in a row with no success between them, the remaining connections
//! are counted as refused without being tried, so a step stays bounded in time.

use std::cell::Cell;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};

use super::http1::{self, Progress, ResponseParser};
use super::ws::frame::{self, Opcode};

/// What each idle connection speaks (named in a suite's idle workload: `kind = "idle"` or
/// `kind = "idle-ws"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdleProtocol {
    /// HTTP/1.1 keep-alive: one `GET /healthz` answered, then nothing. (Trials stored before
    /// WebSocket idle connections existed name no protocol: they were all HTTP.)
    #[default]
    Http,
    /// WebSocket: upgraded on [`WS_PATH`], then only the server's pings answered.
    Ws,
}

impl IdleProtocol {
    /// How it is named to a reader: `HTTP keep-alive`, `WebSocket`.
    pub fn label(self) -> &'static str {
        match self {
            IdleProtocol::Http => "HTTP keep-alive",
            IdleProtocol::Ws => "WebSocket",
        }
    }
}

/// The path an idle WebSocket connection upgrades on: the contract's echo endpoint.
pub const WS_PATH: &str = "/ws";

/// Descriptors kept free besides the idle connections: the probe's connections, the store, the
/// sampler's reads of `/proc`, logs.
pub const FD_MARGIN: u64 = 256;

/// Connections opening at once: below the kernel's usual accept backlog (`somaxconn`, 4096),
/// so a slow server sees a queue it can drain rather than dropped SYNs.
const PARALLEL_OPENS: usize = 256;

/// Failed opens in a row (none succeeding between them) after which the rest of a step's
/// connections are counted as refused without being tried: a whole round of parallel opens.
pub const GIVE_UP_AFTER: u32 = PARALLEL_OPENS as u32;

/// Everything needed to hold one step of idle connections.
#[derive(Debug, Clone)]
pub struct IdlePlan {
    /// The server.
    pub addr: SocketAddr,
    /// Connections to hold.
    pub count: u32,
    /// What they speak.
    pub protocol: IdleProtocol,
    /// Longest a connect plus its opening exchange may take.
    pub open_timeout: Duration,
    /// CPUs the holding thread may run on (empty: not pinned).
    pub cpus: Vec<usize>,
}

/// Counts of one idle step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdleCounts {
    /// Connections asked for.
    pub target: u64,
    /// Connections that opened and completed their opening exchange.
    pub opened: u64,
    /// Connections that could not be opened, or whose opening exchange failed or timed out
    /// (or that were not tried, after [`GIVE_UP_AFTER`] such failures in a row).
    pub refused: u64,
    /// Opened connections the server closed since.
    pub dropped: u64,
    /// Of the refused, those not tried after [`GIVE_UP_AFTER`] failures in a row.
    pub untried: u64,
}

impl IdleCounts {
    /// Connections open now.
    pub fn held(&self) -> u64 {
        self.opened - self.dropped
    }
}

/// Why a step could not start.
#[derive(Debug, thiserror::Error)]
pub enum IdleError {
    /// This process may not open enough descriptors.
    #[error(
        "holding {count} idle connections needs about {needed} file descriptors, but faceoff may \
         open only {limit} (hard limit {hard}); raise it (e.g. `ulimit -n {needed}` in the shell \
         that runs faceoff, or `nofile` in /etc/security/limits.conf) and run again"
    )]
    DescriptorLimit {
        /// Connections asked for.
        count: u32,
        /// Descriptors needed.
        needed: u64,
        /// The soft limit after raising it to the hard one.
        limit: u64,
        /// The hard limit.
        hard: u64,
    },
    /// The holding thread could not start.
    #[error("could not start the idle-connection thread: {0}")]
    Thread(std::io::Error),
}

#[derive(Default)]
struct Shared {
    opened: AtomicU64,
    refused: AtomicU64,
    dropped: AtomicU64,
    untried: AtomicU64,
}

/// Idle connections being held; [`IdleHold::release`] closes them.
pub struct IdleHold {
    target: u64,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl IdleHold {
    /// Opens `plan.count` connections and returns once every one has opened or failed. Fails
    /// before opening anything when this process may not open enough descriptors.
    pub fn open(plan: &IdlePlan) -> Result<IdleHold, IdleError> {
        let (limit, hard) = crate::sys::nofile_limits();
        let needed = u64::from(plan.count) + open_descriptors() + FD_MARGIN;
        if needed > limit {
            return Err(IdleError::DescriptorLimit {
                count: plan.count,
                needed,
                limit,
                hard,
            });
        }
        let shared = Arc::new(Shared::default());
        let (stop, stopped) = watch::channel(false);
        let (opened_tx, opened_rx) = std::sync::mpsc::channel::<()>();
        let thread_plan = plan.clone();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("faceoff-idle".into())
            .spawn(move || hold_all(thread_plan, thread_shared, stopped, opened_tx))
            .map_err(IdleError::Thread)?;
        // The thread says when every open has finished (or drops the sender if it fails).
        let _ = opened_rx.recv();
        Ok(IdleHold {
            target: u64::from(plan.count),
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// The counts now.
    pub fn counts(&self) -> IdleCounts {
        IdleCounts {
            target: self.target,
            opened: self.shared.opened.load(Ordering::Relaxed),
            refused: self.shared.refused.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            untried: self.shared.untried.load(Ordering::Relaxed),
        }
    }

    /// Closes every held connection (with a reset) and waits until they are gone; returns the
    /// counts as they were just before.
    pub fn release(mut self) -> IdleCounts {
        let counts = self.counts();
        self.stop_and_join();
        counts
    }

    fn stop_and_join(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for IdleHold {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Descriptors this process has open now.
pub fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

fn hold_all(
    plan: IdlePlan,
    shared: Arc<Shared>,
    stopped: watch::Receiver<bool>,
    opened: std::sync::mpsc::Sender<()>,
) {
    if !plan.cpus.is_empty() {
        let _ = crate::sys::pin_current_thread(&plan.cpus);
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        shared
            .refused
            .fetch_add(u64::from(plan.count), Ordering::Relaxed);
        return;
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let gate = Rc::new(Semaphore::new(PARALLEL_OPENS));
        let failing = Rc::new(Cell::new(0u32));
        let mut tasks = Vec::with_capacity(plan.count as usize);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        for _ in 0..plan.count {
            let gate = gate.clone();
            let failing = failing.clone();
            let shared = shared.clone();
            let mut stopped = stopped.clone();
            let done = done_tx.clone();
            let plan = plan.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let opened = {
                    let _permit = gate.acquire().await;
                    if failing.get() >= GIVE_UP_AFTER {
                        shared.untried.fetch_add(1, Ordering::Relaxed);
                        None
                    } else {
                        let deadline = Instant::now() + plan.open_timeout;
                        let opened = tokio::time::timeout_at(deadline.into(), open_one(&plan))
                            .await
                            .ok()
                            .flatten();
                        failing.set(if opened.is_some() {
                            0
                        } else {
                            failing.get() + 1
                        });
                        opened
                    }
                };
                let Some((mut stream, rest)) = opened else {
                    shared.refused.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(());
                    return;
                };
                shared.opened.fetch_add(1, Ordering::Relaxed);
                let _ = done.send(());
                drop(done);
                tokio::select! {
                    _ = until_dropped(&mut stream, plan.protocol, rest) => {
                        shared.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    _ = stopped.wait_for(|s| *s) => reset_on_close(&stream),
                }
            }));
        }
        drop(done_tx);
        for _ in 0..plan.count {
            if done_rx.recv().await.is_none() {
                break;
            }
        }
        let _ = opened.send(());
        for task in tasks {
            let _ = task.await;
        }
    });
}

/// Opens one connection and completes its opening exchange; `None` when either fails. Returns
/// the stream and any bytes the server sent after its answer.
async fn open_one(plan: &IdlePlan) -> Option<(TcpStream, Vec<u8>)> {
    let mut stream = TcpStream::connect(plan.addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let host = plan.addr.to_string();
    match plan.protocol {
        IdleProtocol::Http => {
            let request = http1::serialize_request("GET", "/healthz", &host, &[], b"");
            stream.write_all(&request).await.ok()?;
            let mut parser = ResponseParser::new(false);
            let mut buf = [0u8; 1024];
            loop {
                let n = stream.read(&mut buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                if let Progress::Done(complete, _) = parser.feed(&buf[..n]).ok()? {
                    // A server that closes after answering holds nothing.
                    return (!complete.close).then_some((stream, Vec::new()));
                }
            }
        }
        IdleProtocol::Ws => {
            let upgrade = frame::upgrade(WS_PATH, &host);
            stream.write_all(&upgrade.request).await.ok()?;
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            loop {
                let n = stream.read(&mut buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                head.extend_from_slice(&buf[..n]);
                if let Some(used) = frame::check_answer(&head, &upgrade.accept).ok()? {
                    let rest = head.split_off(used);
                    return Some((stream, rest));
                }
            }
        }
    }
}

/// Waits on an idle connection until the server drops it: closes it, fails it, or (WebSocket)
/// sends a close frame or bytes that are not WebSocket frames. A WebSocket server's pings are
/// answered; anything else it sends is read and ignored. `pending` holds bytes already read.
async fn until_dropped(stream: &mut TcpStream, protocol: IdleProtocol, mut pending: Vec<u8>) {
    let mut buf = [0u8; 256];
    loop {
        if protocol == IdleProtocol::Ws {
            loop {
                let Ok(frame) = frame::decode(&pending) else {
                    return;
                };
                let Some(frame) = frame else { break };
                match frame.opcode {
                    Opcode::Close => return,
                    Opcode::Ping => {
                        let mut pong = Vec::with_capacity(frame.payload_len + 6);
                        let payload = &pending[frame.payload_at..frame.total_len()];
                        frame::encode(&mut pong, Opcode::Pong, payload, frame::new_mask());
                        if stream.write_all(&pong).await.is_err() {
                            return;
                        }
                    }
                    _ => {}
                }
                pending.drain(..frame.total_len());
            }
            if pending.is_empty() {
                // Give the memory back: an idle connection owns no buffer.
                pending = Vec::new();
            }
        }
        match stream.read(&mut buf).await {
            Ok(n) if n > 0 => {
                if protocol == IdleProtocol::Ws {
                    pending.extend_from_slice(&buf[..n]);
                }
            }
            _ => return,
        }
    }
}

/// Sets a zero linger, so closing sends a reset and leaves no TIME_WAIT.
fn reset_on_close(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a plain struct of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// A server frame (unmasked, FIN set) of `opcode` bits carrying `payload` (< 126 bytes).
    fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x80 | opcode, payload.len() as u8];
        f.extend_from_slice(payload);
        f
    }

    /// Runs [`until_dropped`] on one end of a loopback connection while `server` drives the
    /// other; returns how long it took to end (the connection counted as dropped; `None`: not
    /// within 5 s) and what the server read.
    fn hold_against(
        protocol: IdleProtocol,
        pending: Vec<u8>,
        server: impl FnOnce(&mut std::net::TcpStream) -> Vec<u8> + Send + 'static,
    ) -> (Option<Duration>, Vec<u8>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            server(&mut s)
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ended = runtime.block_on(async {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let began = Instant::now();
            let held = until_dropped(&mut stream, protocol, pending);
            let ended = tokio::time::timeout(Duration::from_secs(5), held).await;
            ended.ok().map(|()| began.elapsed())
        });
        (ended, peer.join().unwrap())
    }

    #[test]
    fn an_idle_websocket_answers_pings_and_ends_at_a_close_frame() {
        let (ended, read) = hold_against(IdleProtocol::Ws, Vec::new(), |s| {
            // A message split over two writes and a ping: only the ping is answered.
            let text = server_frame(0x1, b"hello");
            s.write_all(&text[..3]).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s.write_all(&text[3..]).unwrap();
            s.write_all(&server_frame(0x9, b"are you there")).unwrap();
            let mut pong = [0u8; 2 + 4 + 13];
            s.read_exact(&mut pong).unwrap();
            s.write_all(&server_frame(0x8, &[0x03, 0xE8])).unwrap();
            pong.to_vec()
        });
        assert!(ended.is_some(), "a close frame ends the hold");
        let frame = frame::decode(&[&read[..1], &[read[1] & 0x7F], &read[6..]].concat())
            .unwrap()
            .unwrap();
        assert_eq!(frame.opcode, Opcode::Pong);
        assert_ne!(read[1] & 0x80, 0, "client frames are masked");
        let mut payload = read[6..].to_vec();
        frame::apply_mask(&mut payload, [read[2], read[3], read[4], read[5]]);
        assert_eq!(payload, b"are you there");
    }

    #[test]
    fn bytes_left_over_from_the_upgrade_are_frames_too() {
        // The upgrade answer arrived with a ping behind it: answered before any read.
        let (ended, read) = hold_against(IdleProtocol::Ws, server_frame(0x9, b"x"), |s| {
            let mut pong = [0u8; 2 + 4 + 1];
            s.read_exact(&mut pong).unwrap();
            pong.to_vec()
        });
        // The server closed its end after reading the pong.
        assert!(ended.is_some());
        assert_eq!(read[0], 0x80 | 0xA);
    }

    #[test]
    fn an_idle_http_connection_ignores_stray_bytes_until_closed() {
        let (ended, _) = hold_against(IdleProtocol::Http, Vec::new(), |s| {
            s.write_all(&server_frame(0x8, b"")).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            Vec::new()
        });
        let ended = ended.expect("the server closed");
        assert!(
            ended >= Duration::from_millis(300),
            "ended at the stray bytes"
        );
    }

    #[test]
    fn a_websocket_stream_that_is_not_frames_is_a_drop() {
        let (ended, eof) = hold_against(IdleProtocol::Ws, Vec::new(), |s| {
            s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
            // Open until the client closes (or 5 s pass).
            let mut rest = Vec::new();
            let eof = s.read_to_end(&mut rest).is_ok();
            vec![u8::from(eof)]
        });
        assert!(ended.is_some());
        assert_eq!(eof, [1], "the client closed the connection");
    }
}
