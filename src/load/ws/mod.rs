//! WebSocket load (issue 10): echo round trips on `/ws`, room fan-out on `/ws/room`, and idle
//! connections held open. Same per-core design and recorder as HTTP: one OS thread per CPU with
//! its own single-threaded runtime and [`Recorder`]; recorders merge once at the end, so every
//! figure of [`crate::load::summary::Summary`] means the same for WebSocket as for HTTP, with
//! "requests" read as messages answered (echoes back, or room deliveries).
//!
//! Every load here is warm: all connections are opened and upgraded (and, for echo, answer one
//! message; for a room, every subscriber hears from every publisher) before the window opens.

mod fanout;
pub mod frame;
mod io;
mod worker;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use fanout::Fanout;

use super::progress::{Padded, Snapshot};
use super::{Error, Pacing, Recorder, Recording, Setup};
use worker::{spawn_worker, Role, WorkerSetup};

/// Longest time subscribers keep reading after a room window closes, for messages published
/// just before the close (bounded further by the plan's timeout).
pub const DRAIN: Duration = Duration::from_millis(250);
/// Smallest message: the room's header (`publisher seq intended_ns sent_ns`) must fit.
pub const MIN_MESSAGE_BYTES: usize = 8;
/// Descriptors faceoff keeps for itself besides the load's connections.
const SPARE_FDS: u64 = 64;

/// What a WebSocket load does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WsMode {
    /// Each connection sends a text message and waits for it to come back.
    Echo {
        /// Connections.
        connections: usize,
        /// Closed loop, or a constant total rate of messages.
        pacing: Pacing,
    },
    /// Publishers send at a constant total rate; every subscriber records every broadcast.
    Room {
        /// Publishing connections (they also receive the broadcasts, and discard them).
        publishers: usize,
        /// Subscribing connections.
        subscribers: usize,
        /// Total messages per second over all publishers.
        rate_per_s: f64,
    },
    /// Connections opened, upgraded and held idle for the duration.
    Hold {
        /// Connections.
        connections: usize,
    },
}

impl WsMode {
    /// Connections the mode opens.
    pub fn connections(&self) -> usize {
        match *self {
            WsMode::Echo { connections, .. } | WsMode::Hold { connections } => connections,
            WsMode::Room {
                publishers,
                subscribers,
                ..
            } => publishers + subscribers,
        }
    }

    /// Which of the three it is.
    pub fn kind(&self) -> WsKind {
        match self {
            WsMode::Echo { .. } => WsKind::Echo,
            WsMode::Room { .. } => WsKind::Room,
            WsMode::Hold { .. } => WsKind::Hold,
        }
    }

    fn pacing(&self) -> Pacing {
        match *self {
            WsMode::Echo { pacing, .. } => pacing,
            WsMode::Room { rate_per_s, .. } => Pacing::ConstantRate { rate_per_s },
            WsMode::Hold { .. } => Pacing::ClosedLoop,
        }
    }
}

/// The kind of a WebSocket load, as written in output (`echo`, `room`, `hold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WsKind {
    /// Round trips on `/ws`.
    Echo,
    /// Fan-out on `/ws/room`.
    Room,
    /// Idle connections held open.
    Hold,
}

/// Everything the engine needs to drive one WebSocket load.
#[derive(Debug, Clone)]
pub struct WsPlan {
    /// The target socket.
    pub addr: SocketAddr,
    /// The `Host` header of the upgrade request.
    pub host: String,
    /// The path upgraded (`/ws`, `/ws/room`).
    pub path: String,
    /// Echo, room or hold.
    pub mode: WsMode,
    /// Bytes of each text message sent (at least [`MIN_MESSAGE_BYTES`]).
    pub message_bytes: usize,
    /// Length of the measured window.
    pub duration: Duration,
    /// Per-message timeout, and the bound of the set-up.
    pub timeout: Duration,
    /// Worker threads (clamped to the number of connections).
    pub threads: usize,
    /// CPUs to pin workers to, worker `i` on `cpus[i % len]`; empty for no pinning.
    pub cpus: Vec<usize>,
}

impl WsPlan {
    /// Checks the plan's numbers before any thread starts.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |what: String| Err(Error::Invalid(what));
        match self.mode {
            WsMode::Echo { connections: 0, .. } | WsMode::Hold { connections: 0 } => {
                return invalid("--connections must be at least 1".into())
            }
            WsMode::Room { publishers: 0, .. } => {
                return invalid("--publishers must be at least 1".into())
            }
            WsMode::Room { subscribers: 0, .. } => {
                return invalid("--subscribers must be at least 1".into())
            }
            _ => {}
        }
        if let Pacing::ConstantRate { rate_per_s } = self.mode.pacing() {
            if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
                return invalid("--rate must be a positive number of messages per second".into());
            }
        }
        if self.threads == 0 {
            return invalid("--threads must be at least 1".into());
        }
        if self.duration.is_zero() {
            return invalid("--duration must be more than zero".into());
        }
        if self.timeout.is_zero() {
            return invalid("--timeout must be more than zero".into());
        }
        if !(MIN_MESSAGE_BYTES..=frame::MAX_PAYLOAD as usize).contains(&self.message_bytes) {
            return invalid(format!(
                "--message-bytes must be between {MIN_MESSAGE_BYTES} and {}",
                frame::MAX_PAYLOAD
            ));
        }
        Ok(())
    }

    /// The highest sequence number a room publisher can reach: its share of the rate over the
    /// window, doubled, plus slack. Deliveries beyond it are refused as unknown, which bounds
    /// what a hostile server can make a subscriber keep.
    fn max_seq(&self) -> u64 {
        match self.mode {
            WsMode::Room { rate_per_s, .. } => {
                (rate_per_s * self.duration.as_secs_f64() * 2.0) as u64 + 1024
            }
            _ => 0,
        }
    }
}

/// What the WebSocket side of a load adds to its [`Recording`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsFigures {
    /// `echo`, `room` or `hold`.
    pub mode: WsKind,
    /// The path upgraded.
    pub path: String,
    /// Bytes of each message sent.
    pub message_bytes: usize,
    /// Messages written in full in the window (echo: sent; room: published).
    pub messages_sent: u64,
    /// Room loads only: delivered, expected, lost, duplicated, out of order, in flight.
    pub fanout: Option<Fanout>,
    /// Hold loads only: connections still open when the window closed.
    pub held: Option<u64>,
    /// Hold loads only: connections the server closed during the window.
    pub dropped: Option<u64>,
    /// faceoff's peak resident memory (VmHWM) after the load, in bytes; `None` without
    /// `/proc`.
    pub engine_rss_peak_bytes: Option<u64>,
    /// The descriptor limit (soft, after raising it to the hard limit) the load ran with.
    pub fd_limit: u64,
}

/// What a worker thread hands back.
pub(crate) struct WorkerResult {
    recorder: Recorder,
    finished_at: Instant,
    cpu: Duration,
    /// Time the worker spent runnable but waiting for its CPU, over the same span as `cpu`.
    waited: Duration,
    setup: Setup,
    messages_sent: u64,
    /// Room: per publisher id of this worker, intended send times (ns since the window).
    sent_ns: Vec<(usize, Vec<u64>)>,
    /// Room: this worker's subscribers' inboxes.
    inboxes: Vec<fanout::Inbox>,
    /// Hold: connections still open at the close.
    held: u64,
}

/// Runs `plan` to its end (or until `interrupt` is set) and returns what was recorded: latency,
/// timeline, errors and engine CPU as for HTTP (`recorder.messages` counts echoes back or room
/// deliveries), and the WebSocket figures in [`Recording::ws`].
///
/// `on_progress` is called from the calling thread once as the measured window opens (elapsed
/// zero: every connection is open, and warm when the plan asks), then about twenty times a
/// second.
pub fn run(
    plan: &WsPlan,
    interrupt: Arc<AtomicBool>,
    mut on_progress: impl FnMut(Snapshot),
) -> Result<Recording, Error> {
    plan.validate()?;
    let connections = plan.mode.connections();
    let fd_limit = crate::sys::raise_nofile_limit();
    let needed = connections as u64 + SPARE_FDS;
    if needed > fd_limit {
        return Err(Error::Invalid(format!(
            "{connections} connections need about {needed} file descriptors, but this process \
             may open only {fd_limit} (the hard limit, RLIMIT_NOFILE); raise it (e.g. \
             `ulimit -Hn {needed}` as root, or LimitNOFILE= in a systemd unit) or use fewer \
             connections"
        )));
    }
    super::engine::preflight(plan.addr, plan.timeout.min(Duration::from_secs(3)))?;

    let began = Instant::now();
    let threads = plan.threads.clamp(1, connections);
    let counters: Vec<Arc<Padded>> = (0..threads).map(|_| Arc::new(Padded::default())).collect();
    let connected = Arc::new(Barrier::new(threads));
    let ready = Arc::new(Barrier::new(threads + 1));
    let start_cell = Arc::new(OnceLock::<Instant>::new());
    let drain = match plan.mode {
        WsMode::Room { .. } => DRAIN.min(plan.timeout),
        _ => Duration::ZERO,
    };
    let payload: Arc<[u8]> = echo_payload(plan.message_bytes).into();

    let mut handles = Vec::with_capacity(threads);
    for (id, counter) in counters.iter().enumerate() {
        let roles = (id..connections)
            .step_by(threads)
            .map(|index| role_of(plan.mode, index))
            .collect();
        let setup = WorkerSetup {
            addr: plan.addr,
            host: plan.host.clone(),
            path: plan.path.clone(),
            mode: plan.mode,
            roles,
            payload: payload.clone(),
            message_bytes: plan.message_bytes,
            duration: plan.duration,
            drain,
            timeout: plan.timeout,
            max_seq: plan.max_seq(),
            cpu: (!plan.cpus.is_empty()).then(|| plan.cpus[id % plan.cpus.len()]),
            progress: counter.clone(),
            connected: connected.clone(),
            ready: ready.clone(),
            start: start_cell.clone(),
            interrupt: interrupt.clone(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("faceoff-ws-{id}"))
            .spawn(move || spawn_worker(setup))
            .map_err(Error::Thread)?;
        handles.push(handle);
    }
    ready.wait();
    let start = *start_cell.get_or_init(Instant::now);
    // The engine's CPU counts from the window's opening, as the server's does: the set-up of
    // the connections is not the window's work.
    let cpu_before = crate::sys::process_cpu_time();
    // The first call marks the window's opening: every connection is open (and warm) now.
    on_progress(Snapshot {
        elapsed: Duration::ZERO,
        finished: 0,
    });
    while !handles.iter().all(|h| h.is_finished()) {
        std::thread::sleep(Duration::from_millis(50));
        on_progress(Snapshot {
            elapsed: start.elapsed(),
            finished: counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum(),
        });
    }
    let mut results = Vec::with_capacity(threads);
    for handle in handles {
        results.push(handle.join().map_err(|_| Error::WorkerPanicked)??);
    }
    Ok(merge(
        plan, results, start, began, cpu_before, fd_limit, &interrupt,
    ))
}

/// Merges the workers' results into one recording, settling a room's fan-out.
fn merge(
    plan: &WsPlan,
    mut results: Vec<WorkerResult>,
    start: Instant,
    began: Instant,
    cpu_before: Duration,
    fd_limit: u64,
    interrupt: &AtomicBool,
) -> Recording {
    let mut recorder = Recorder::new();
    let mut setup = Setup {
        opened: 0,
        failed: 0,
        wall_s: (start - began).as_secs_f64(),
        slowest_connect_us: None,
    };
    let mut closed_at = start;
    let mut messages_sent = 0;
    for r in &results {
        recorder.merge(&r.recorder);
        setup.merge(&r.setup);
        closed_at = closed_at.max(r.finished_at);
        messages_sent += r.messages_sent;
    }
    // The window: the drain after a room's close is not part of it.
    let window_end = (start + plan.duration).min(closed_at);
    let duration = window_end - start;
    // Both shares over the span the workers ran (the window, and a room's drain).
    let span_s = (closed_at - start).as_secs_f64().max(1e-9);
    let worker_busy = results
        .iter()
        .map(|r| r.cpu.as_secs_f64() / span_s)
        .collect();
    let worker_waiting = results
        .iter()
        .map(|r| r.waited.as_secs_f64() / span_s)
        .collect();
    let fanout = match plan.mode {
        WsMode::Room { publishers, .. } => {
            let mut sent_ns = vec![Vec::new(); publishers];
            let mut inboxes = Vec::new();
            for r in &mut results {
                for (p, log) in r.sent_ns.drain(..) {
                    sent_ns[p] = log;
                }
                inboxes.append(&mut r.inboxes);
            }
            let closed_ns = (closed_at - start).as_nanos() as u64;
            Some(fanout::settle(&inboxes, &sent_ns, closed_ns, |age_us| {
                recorder.record_unanswered(age_us)
            }))
            .map(|mut f| {
                f.drain_s = (closed_at - window_end).as_secs_f64();
                f
            })
        }
        _ => None,
    };
    let held = matches!(plan.mode, WsMode::Hold { .. })
        .then(|| results.iter().map(|r| r.held).sum::<u64>());
    Recording {
        recorder,
        duration,
        engine_cpu: crate::sys::process_cpu_time().saturating_sub(cpu_before),
        worker_busy,
        worker_waiting,
        connections: plan.mode.connections(),
        threads: results.len(),
        pacing: plan.mode.pacing(),
        interrupted: interrupt.load(Ordering::Relaxed),
        setup: Some(setup),
        ws: Some(WsFigures {
            mode: plan.mode.kind(),
            path: plan.path.clone(),
            message_bytes: plan.message_bytes,
            messages_sent,
            fanout,
            held,
            dropped: held.map(|h| setup.opened.saturating_sub(h)),
            engine_rss_peak_bytes: peak_rss_bytes(),
            fd_limit,
        }),
    }
}

/// The role of connection `index` of a load.
fn role_of(mode: WsMode, index: usize) -> Role {
    match mode {
        WsMode::Echo { .. } => Role::Echo { index },
        WsMode::Hold { .. } => Role::Hold,
        WsMode::Room { publishers, .. } if index < publishers => Role::Publisher { id: index },
        WsMode::Room { .. } => Role::Subscriber,
    }
}

/// The text every echo connection sends: readable, exactly `bytes` long.
fn echo_payload(bytes: usize) -> Vec<u8> {
    let mut text = b"faceoff echo ".to_vec();
    text.resize(bytes.max(text.len()), b'.');
    text.truncate(bytes);
    text
}

/// This process's peak resident memory (`VmHWM` in `/proc/self/status`).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warnings::{engine_limit, EngineLimit};

    fn worker(finished_at: Instant, cpu_ms: u64, waited_ms: u64) -> WorkerResult {
        WorkerResult {
            recorder: Recorder::new(),
            finished_at,
            cpu: Duration::from_millis(cpu_ms),
            waited: Duration::from_millis(waited_ms),
            setup: Setup {
                opened: 8,
                failed: 0,
                wall_s: 0.1,
                slowest_connect_us: None,
            },
            messages_sent: 0,
            sent_ns: Vec::new(),
            inboxes: Vec::new(),
            held: 0,
        }
    }

    /// Each worker's run-queue wait is a share of the span it ran, as its CPU time is, so a
    /// WebSocket load held back by other work on its CPUs is engine-limited by the same rule
    /// as an HTTP one.
    #[test]
    fn a_ws_worker_held_back_by_other_work_is_engine_limited() {
        let plan = WsPlan {
            addr: SocketAddr::from(([127, 0, 0, 1], 9)),
            host: "127.0.0.1:9".into(),
            path: "/ws".into(),
            mode: WsMode::Echo {
                connections: 16,
                pacing: Pacing::ClosedLoop,
            },
            message_bytes: 32,
            duration: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            threads: 2,
            cpus: Vec::new(),
        };
        let start = Instant::now();
        let end = start + Duration::from_secs(2);
        // On its CPU 30% of the window and waiting for it 65%: it had work 95% of the time.
        let results = vec![worker(end, 1000, 500), worker(end, 600, 1300)];
        let rec = merge(
            &plan,
            results,
            start,
            start,
            Duration::ZERO,
            1024,
            &AtomicBool::new(false),
        );
        assert_eq!(rec.worker_busy, [0.5, 0.3]);
        assert_eq!(rec.worker_waiting, [0.25, 0.65]);
        let summary = crate::load::summary::Summary::of(&rec);
        assert_eq!(summary.engine_thread_waiting, [0.25, 0.65]);
        let Some(EngineLimit::Starved { runnable, on_cpu }) = engine_limit(&summary) else {
            panic!("{:?}", engine_limit(&summary));
        };
        assert!(
            (runnable - 0.95).abs() < 1e-9 && on_cpu == 0.3,
            "{runnable} {on_cpu}"
        );
    }
}
