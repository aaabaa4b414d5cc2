//! The load engine: per-core workers driving HTTP/1.1 or WebSocket connections at a socket
//! address.
//! It knows addresses and bytes, nothing about contestants.

mod conn;
pub mod engine;
pub mod http1;
pub mod idle;
pub mod pace;
pub mod progress;
pub mod recorder;
pub mod summary;
pub mod ws;

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

pub use engine::run;
pub use pace::Pacing;
pub use progress::Snapshot;
pub use recorder::{ErrorKind, Recorder};

/// One request of a mix, serialized once.
#[derive(Debug, Clone)]
pub struct Request {
    /// The exact bytes written for every use of this request.
    pub bytes: Vec<u8>,
    /// The method is HEAD (answers carry no body).
    pub head: bool,
    /// Relative share of this request in the mix (at least 1).
    pub weight: u32,
}

/// When a load ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Send for this long.
    After(Duration),
    /// Send exactly this many requests.
    Requests(u64),
}

/// Everything the engine needs to drive one load.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The target socket.
    pub addr: SocketAddr,
    /// The request mix.
    pub requests: Vec<Request>,
    /// Connections kept open over all workers.
    pub connections: usize,
    /// Closed loop or constant rate.
    pub pacing: Pacing,
    /// When to stop.
    pub stop: Stop,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Worker threads (clamped to the number of connections).
    pub threads: usize,
    /// CPUs to pin workers to, worker `i` on `cpus[i % len]`; empty for no pinning.
    pub cpus: Vec<usize>,
    /// Open every connection and complete one request on each before the measured window opens
    /// (issue 8): the window then holds only steady-state traffic, and the set-up is reported
    /// apart in [`Recording::setup`]. Set-up requests are not counted against [`Stop::Requests`].
    pub warm: bool,
}

impl LoadPlan {
    /// Checks the plan's numbers before any thread starts.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |what: &str| Err(Error::Invalid(what.to_string()));
        if self.requests.is_empty() {
            return invalid("the request mix is empty");
        }
        if self.connections == 0 {
            return invalid("--connections must be at least 1");
        }
        if self.threads == 0 {
            return invalid("--threads must be at least 1");
        }
        match self.stop {
            Stop::After(d) if d.is_zero() => return invalid("--duration must be more than zero"),
            Stop::Requests(0) => return invalid("--requests must be at least 1"),
            _ => {}
        }
        if let Pacing::ConstantRate { rate_per_s } = self.pacing {
            if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
                return invalid("--rate must be a positive number of requests per second");
            }
        }
        if self.timeout.is_zero() {
            return invalid("--timeout must be more than zero");
        }
        Ok(())
    }
}

/// What one load recorded, merged over workers.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Merged counts and histograms.
    pub recorder: Recorder,
    /// From the start until the last request finished (or the end of the duration).
    pub duration: Duration,
    /// CPU time (user + system) the whole faceoff process used from the window's opening (the
    /// connections' set-up left out) to the end of the load.
    pub engine_cpu: Duration,
    /// Per worker, the fraction of the wall time it spent on a CPU (1.0 = saturated).
    pub worker_busy: Vec<f64>,
    /// Per worker, the fraction of the wall time it was runnable but waited for its CPU
    /// (other work on the load CPUs held it back).
    pub worker_waiting: Vec<f64>,
    /// Connections used.
    pub connections: usize,
    /// Worker threads used.
    pub threads: usize,
    /// The pacing used.
    pub pacing: Pacing,
    /// The load was stopped early by an interrupt.
    pub interrupted: bool,
    /// The set-up before the window, when the plan asked for warm connections.
    pub setup: Option<Setup>,
    /// WebSocket loads only: mode, messages sent, a room's fan-out (`load::ws`).
    pub ws: Option<ws::WsFigures>,
}

/// The set-up of a warm load: every connection opened and answered one request before the
/// measured window. None of it is in the window's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Setup {
    /// Connections that opened and answered their set-up request.
    pub opened: u64,
    /// Connections whose connect or set-up request failed or ran out of time (bounded by the
    /// plan's timeout). They still take part in the window, connecting again.
    pub failed: u64,
    /// From the start of the load until the window opened, in seconds.
    pub wall_s: f64,
    /// The slowest connect of the set-up, in microseconds; `None` when no connect succeeded.
    pub slowest_connect_us: Option<u64>,
}

impl Setup {
    /// Adds another worker's set-up into this one (`wall_s` is the caller's to set).
    pub fn merge(&mut self, other: &Setup) {
        self.opened += other.opened;
        self.failed += other.failed;
        self.slowest_connect_us = self.slowest_connect_us.max(other.slowest_connect_us);
    }
}

/// Errors that stop a load before it starts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target could not be reached before the load began.
    #[error("could not connect to {addr}")]
    Unreachable {
        /// The target.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A number in the plan is out of range.
    #[error("{0}")]
    Invalid(String),
    /// A worker thread could not be started.
    #[error("could not start a load thread: {0}")]
    Thread(std::io::Error),
    /// A worker's runtime could not be built.
    #[error("could not build a load runtime: {0}")]
    Runtime(std::io::Error),
    /// A worker could not be pinned.
    #[error("could not pin a load thread to CPU {cpu}: {cause}")]
    Pin {
        /// The CPU asked for.
        cpu: usize,
        /// Why.
        cause: std::io::Error,
    },
    /// A worker thread panicked (a bug in faceoff).
    #[error("a load thread panicked")]
    WorkerPanicked,
}

impl crate::Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Error::Unreachable { .. } => {
                Some("is the server running and listening on that port?".into())
            }
            Error::Pin { .. } => {
                Some("list CPUs this process may use (see `taskset -p $$`)".into())
            }
            _ => None,
        }
    }
}
