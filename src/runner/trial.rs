//! One trial: load one contestant for the trial duration while sampling its process group,
//! and turn what was recorded into a [`TrialRecord`] for the store.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;

use crate::contestant::sampler::{Sampler, Usage, DEFAULT_INTERVAL};
use crate::load::summary::Summary;
use crate::load::{self, http1, LoadPlan, Pacing, Recording, Request, Stop};
use crate::store::{TrialMetrics, TrialQuality, TrialRecord};
use crate::suite::{LoadShape, Workload};

/// Serializes a workload's request mix for a contestant at `addr`.
pub fn requests_for(workload: &Workload, addr: SocketAddr) -> Vec<Request> {
    let host = addr.to_string();
    workload
        .requests
        .iter()
        .map(|r| {
            let headers: Vec<(String, String)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let body = r.body.as_deref().unwrap_or("").as_bytes();
            Request {
                bytes: http1::serialize_request(&r.method, &r.path, &host, &headers, body),
                head: r.method.eq_ignore_ascii_case("HEAD"),
                weight: r.weight,
            }
        })
        .collect()
}

/// The engine plan of `workload` against `addr` for `length`.
pub fn load_plan(
    workload: &Workload,
    addr: SocketAddr,
    length: Duration,
    load_cpus: &[usize],
) -> LoadPlan {
    let (connections, pacing) = match workload.shape {
        LoadShape::Closed { connections } => (connections as usize, Pacing::ClosedLoop),
        LoadShape::Rate { per_s, connections } => (
            connections as usize,
            Pacing::ConstantRate { rate_per_s: per_s },
        ),
    };
    LoadPlan {
        addr,
        requests: requests_for(workload, addr),
        connections,
        pacing,
        stop: Stop::After(length),
        timeout: workload.timeout,
        threads: load_cpus.len().max(1),
        cpus: load_cpus.to_vec(),
        warm: true,
    }
}

/// What one trial produced.
pub struct TrialOutcome {
    /// The record to store.
    pub record: TrialRecord,
    /// The engine's summary, for warnings.
    pub summary: Summary,
}

/// Runs one trial of `plan` against the process group `pgid`, sampling it throughout.
pub fn run_trial(
    plan: &LoadPlan,
    pgid: i32,
    interrupt: Arc<AtomicBool>,
    on_progress: impl FnMut(load::Snapshot),
) -> Result<(Recording, Usage), load::Error> {
    let sampler = Sampler::start(pgid, DEFAULT_INTERVAL);
    let recording = load::run(plan, interrupt, on_progress);
    let usage = sampler.stop();
    Ok((recording?, usage))
}

/// Turns a trial's recording and usage into what the store keeps.
pub fn record(
    workload: &str,
    contestant: &str,
    round: u32,
    started_at: String,
    recording: &Recording,
    usage: &Usage,
    crashed: bool,
) -> TrialOutcome {
    let summary = Summary::of(recording);
    let pct = |p: &load::summary::Percentiles| [p.p50, p.p90, p.p99, p.p999, p.max];
    let metrics = TrialMetrics {
        duration_s: summary.duration_s,
        requests: summary.requests,
        rps: summary.rps,
        errors: summary.error_total(),
        errors_by_kind: summary
            .errors
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        status: summary
            .status
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        // The store has no "missing" yet: a trial without answers keeps zeros there, and
        // `requests == 0` marks it (issue 8, Build 4, store side).
        latency_us: summary.latency_us.as_ref().map_or([0; 5], pct),
        latency_uncorrected_us: summary.latency_uncorrected_us.as_ref().map_or([0; 5], pct),
        latency_mean_us: summary.latency_us.map_or(0.0, |p| p.mean),
        late_sends: summary.late_sends,
        server_cpu_s: usage.cpu_s,
        cpu_ms_per_1k: if summary.requests > 0 {
            usage.cpu_s * 1e3 / (summary.requests as f64 / 1000.0)
        } else {
            0.0
        },
        pss_mean_bytes: usage.pss_mean_bytes,
        pss_peak_bytes: usage.pss_peak_bytes,
        rss_peak_bytes: usage.rss_peak_bytes,
        engine_cpu_s: summary.engine_cpu_s,
        engine_busiest: summary
            .engine_thread_busy
            .iter()
            .copied()
            .fold(0.0, f64::max),
        timeline_rps: summary.timeline.iter().map(|s| s.requests).collect(),
        crashed,
        quality: TrialQuality::default(),
    };
    let record = TrialRecord {
        workload: workload.to_string(),
        contestant: contestant.to_string(),
        round,
        started_at,
        metrics,
        histogram: serialize(&recording.recorder.latency_us),
        histogram_uncorrected: serialize(&recording.recorder.latency_uncorrected_us),
    };
    TrialOutcome { record, summary }
}

fn serialize(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("serializing into memory cannot fail");
    out
}
