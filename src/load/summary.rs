//! A recording reduced to the figures people read: the `faceoff bench --json` schema
//! (docs/bench-output.md). Pure functions of [`Recording`].

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::recorder::ErrorKind;
use super::ws::WsKind;
use super::{Pacing, Recording, Setup};

/// Version of the JSON schema below; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Latency percentiles in microseconds, of a histogram with at least one value: an empty
/// histogram has no percentiles ([`Percentiles::of`] gives `None`), never zeros.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Smallest value seen.
    pub min: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest value seen.
    pub max: u64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Percentiles {
    /// Reads the percentiles of a histogram; `None` when it holds no value.
    pub fn of(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        Some(Self {
            min: h.min(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        })
    }
}

/// One second of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct SecondSummary {
    /// Whole seconds since the start.
    pub second: usize,
    /// Responses received in this second.
    pub requests: u64,
    /// Failed requests in this second.
    pub errors: u64,
    /// Median corrected latency of this second's responses (`None` for a second without any).
    pub p50_us: Option<u64>,
    /// 99th percentile corrected latency of this second's responses (`None` likewise).
    pub p99_us: Option<u64>,
}

/// The summary of one load: what `faceoff bench --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Schema version ([`SCHEMA_VERSION`]).
    pub schema: u32,
    /// Responses received (any status).
    pub requests: u64,
    /// Requests written that finished in the window (answered, timed out or failed).
    pub sent: u64,
    /// Wall time of the load in seconds.
    pub duration_s: f64,
    /// Responses per second.
    pub rps: f64,
    /// Latency from the intended send time (constant rate) or the send time (closed loop);
    /// `None` when no request was answered or timed out: the figures are missing, not zero.
    pub latency_us: Option<Percentiles>,
    /// Latency from the moment each request was written (`None` likewise).
    pub latency_uncorrected_us: Option<Percentiles>,
    /// Requests still unanswered when the window closed (not in the latency figures).
    pub unanswered: u64,
    /// For the unanswered requests, the time from their intended send time to the window's
    /// close: a lower bound of their latency. `None` when every request was answered.
    pub unanswered_elapsed_us: Option<Percentiles>,
    /// Requests due while their connection was still busy (constant rate only).
    pub late_sends: u64,
    /// Responses by status code.
    pub status: BTreeMap<u16, u64>,
    /// Failed requests by kind: connect, timeout, reset, protocol, status (5xx).
    pub errors: BTreeMap<&'static str, u64>,
    /// Response bytes read.
    pub bytes_read: u64,
    /// Request bytes written.
    pub bytes_written: u64,
    /// Connections opened, reconnects included.
    pub connects: u64,
    /// CPU seconds (user + system) faceoff itself used.
    pub engine_cpu_s: f64,
    /// faceoff's CPU microseconds per response (`None` without responses).
    pub engine_cpu_us_per_request: Option<f64>,
    /// Per load thread, the fraction of the time it was on a CPU.
    pub engine_thread_busy: Vec<f64>,
    /// The busiest load thread's share of the window on a CPU (1.0 = saturated).
    pub engine_busiest_thread: f64,
    /// Per load thread, the fraction of the time it was runnable but waited for its CPU
    /// (other work on the load CPUs held it back); zeros where the kernel keeps no schedstats.
    pub engine_thread_waiting: Vec<f64>,
    /// Connections waiting on the server on average over the window, by Little's law: the
    /// time requests spent in flight (answered and timed-out ones from their write, the
    /// unanswered ones until the close) divided by the window, i.e. throughput x mean latency.
    /// Compare with `connections`; `None` for a window of zero length.
    pub busy_connections: Option<f64>,
    /// Connections kept open.
    pub connections: usize,
    /// Load threads.
    pub threads: usize,
    /// `closed_loop` or `constant_rate`.
    pub mode: &'static str,
    /// Target total rate (constant rate only).
    pub target_rate_per_s: Option<f64>,
    /// The load was cut short by an interrupt.
    pub interrupted: bool,
    /// The set-up before the window (warm loads only; `null` otherwise).
    pub setup: Option<Setup>,
    /// One entry per second.
    pub timeline: Vec<SecondSummary>,
    /// WebSocket loads only (`null` for HTTP): mode, messages sent, and a room's fan-out
    /// figures. For WebSocket, `requests` counts messages answered (echoes back, or room
    /// deliveries) and the latency is per message.
    pub ws: Option<super::ws::WsFigures>,
}

impl Summary {
    /// Reduces a recording.
    pub fn of(rec: &Recording) -> Self {
        let r = &rec.recorder;
        let requests = r.responses();
        let duration_s = rec.duration.as_secs_f64();
        let engine_cpu_s = rec.engine_cpu.as_secs_f64();
        let (mode, target_rate_per_s) = match rec.pacing {
            Pacing::ClosedLoop => ("closed_loop", None),
            Pacing::ConstantRate { rate_per_s } => ("constant_rate", Some(rate_per_s)),
        };
        Self {
            schema: SCHEMA_VERSION,
            requests,
            sent: r.sent,
            duration_s,
            rps: if duration_s > 0.0 {
                requests as f64 / duration_s
            } else {
                0.0
            },
            latency_us: Percentiles::of(&r.latency_us),
            latency_uncorrected_us: Percentiles::of(&r.latency_uncorrected_us),
            unanswered: r.unanswered(),
            unanswered_elapsed_us: Percentiles::of(&r.unanswered_us),
            late_sends: r.late_sends,
            status: r
                .status
                .iter()
                .enumerate()
                .filter(|(_, &n)| n > 0)
                .map(|(code, &n)| (code as u16, n))
                .collect(),
            errors: ErrorKind::ALL
                .iter()
                .map(|&k| (k.name(), r.errors[k as usize]))
                .collect(),
            bytes_read: r.bytes_read,
            bytes_written: r.bytes_written,
            connects: r.connects,
            engine_cpu_s,
            engine_cpu_us_per_request: (requests > 0).then(|| engine_cpu_s * 1e6 / requests as f64),
            engine_thread_busy: rec.worker_busy.clone(),
            engine_busiest_thread: rec.worker_busy.iter().copied().fold(0.0, f64::max),
            engine_thread_waiting: rec.worker_waiting.clone(),
            // Little's law speaks of round trips on connections: not of a room's broadcasts
            // or of held idle connections (`null` for those).
            busy_connections: (duration_s > 0.0
                && rec.ws.as_ref().is_none_or(|w| w.mode == WsKind::Echo))
            .then(|| {
                let in_flight_us = r.latency_uncorrected_us.mean()
                    * r.latency_uncorrected_us.len() as f64
                    + r.unanswered_us.mean() * r.unanswered_us.len() as f64;
                in_flight_us / 1e6 / duration_s
            }),
            connections: rec.connections,
            threads: rec.threads,
            mode,
            target_rate_per_s,
            interrupted: rec.interrupted,
            setup: rec.setup,
            timeline: r
                .timeline
                .iter()
                .enumerate()
                .map(|(second, s)| SecondSummary {
                    second,
                    requests: s.responses,
                    errors: s.errors,
                    p50_us: (!s.latency_us.is_empty()).then(|| s.latency_us.value_at_quantile(0.5)),
                    p99_us: (!s.latency_us.is_empty())
                        .then(|| s.latency_us.value_at_quantile(0.99)),
                })
                .collect(),
            ws: rec.ws.clone(),
        }
    }

    /// Failed requests of every kind.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}
