//! Idle connections held open (issue 10, connection scale): K connections opened to a server,
//! each completing one opening exchange, then left idle on one thread of their own while the
//! caller measures the server with a probe. Each held connection waits only for the server to
//! close it (counted as dropped); on release every socket is closed with a zero linger (a reset),
//! so 10,000 connections leave no TIME_WAIT behind to exhaust the ephemeral ports of the next
//! step.
//!
//! The opening exchange is the only part that depends on the protocol ([`IdleProtocol`]):
//! HTTP/1.1 sends `GET /healthz` on a keep-alive connection and reads the answer. A WebSocket
//! variant adds its upgrade handshake in [`open_one`] and nothing else.

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

/// What each idle connection speaks (named in a suite's idle workload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdleProtocol {
    /// HTTP/1.1 keep-alive: one `GET /healthz` answered, then nothing.
    Http,
}

/// Descriptors kept free besides the idle connections: the probe's connections, the store, the
/// sampler's reads of `/proc`, logs.
pub const FD_MARGIN: u64 = 256;

/// Connections opening at once: below the kernel's usual accept backlog (`somaxconn`, 4096),
/// so a slow server sees a queue it can drain rather than dropped SYNs.
const PARALLEL_OPENS: usize = 256;

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
    /// Connections that could not be opened, or whose opening exchange failed or timed out.
    pub refused: u64,
    /// Opened connections the server closed since.
    pub dropped: u64,
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
        let mut tasks = Vec::with_capacity(plan.count as usize);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        for _ in 0..plan.count {
            let gate = gate.clone();
            let shared = shared.clone();
            let mut stopped = stopped.clone();
            let done = done_tx.clone();
            let plan = plan.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let stream = {
                    let _permit = gate.acquire().await;
                    let deadline = Instant::now() + plan.open_timeout;
                    tokio::time::timeout_at(deadline.into(), open_one(&plan))
                        .await
                        .ok()
                        .flatten()
                };
                let Some(mut stream) = stream else {
                    shared.refused.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(());
                    return;
                };
                shared.opened.fetch_add(1, Ordering::Relaxed);
                let _ = done.send(());
                drop(done);
                let mut buf = [0u8; 256];
                loop {
                    tokio::select! {
                        read = stream.read(&mut buf) => match read {
                            // Stray bytes on an idle connection are ignored; a close or an
                            // error means the server dropped it.
                            Ok(n) if n > 0 => continue,
                            _ => {
                                shared.dropped.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                        },
                        _ = stopped.wait_for(|s| *s) => {
                            reset_on_close(&stream);
                            return;
                        }
                    }
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

/// Opens one connection and completes its opening exchange; `None` when either fails.
async fn open_one(plan: &IdlePlan) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(plan.addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    match plan.protocol {
        IdleProtocol::Http => {
            let request =
                http1::serialize_request("GET", "/healthz", &plan.addr.to_string(), &[], b"");
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
                    return (!complete.close).then_some(stream);
                }
            }
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
