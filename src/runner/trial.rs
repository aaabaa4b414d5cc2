//! One trial: load one contestant for the trial duration while sampling its process group and
//! the server CPUs, and turn what was recorded into a [`TrialRecord`] for the store, with the
//! [`TrialQuality`] that says how far it can be trusted.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;

use super::isolation::{self, Quiet, MAX_RETRIES};
use super::ws::TrialPlan;
use crate::contestant::sampler::{CpuWatch, Sampler, Usage, DEFAULT_INTERVAL};
use crate::load::summary::Summary;
use crate::load::{self, http1, LoadPlan, Pacing, Recording, Request, Stop};
use crate::store::{DatabaseUsage, TrialMetrics, TrialQuality, TrialRecord};
use crate::suite::{LoadShape, Workload};
use crate::warnings::engine_limit;

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
) -> TrialPlan {
    if let Some(plan) = super::ws::ws_plan(workload, addr, length, load_cpus) {
        return TrialPlan::Ws(plan);
    }
    let (connections, pacing) = match workload.shape {
        LoadShape::Closed { connections } => (connections as usize, Pacing::ClosedLoop),
        LoadShape::Rate { per_s, connections } => (
            connections as usize,
            Pacing::ConstantRate { rate_per_s: per_s },
        ),
    };
    TrialPlan::Http(LoadPlan {
        addr,
        requests: requests_for(workload, addr),
        connections,
        pacing,
        stop: Stop::After(length),
        timeout: workload.timeout,
        threads: load_cpus.len().max(1),
        cpus: load_cpus.to_vec(),
        warm: true,
    })
}

/// What one trial produced.
pub struct TrialOutcome {
    /// The record to store.
    pub record: TrialRecord,
    /// The engine's summary, for warnings.
    pub summary: Summary,
}

/// Runs one trial of `plan` against the process group `pgid`, sampling it and the busy time of
/// `server_cpus` over the measured window (from its opening, after the connections' set-up, to
/// the load's end; the sampler's thread runs on the plan's load CPUs).
pub fn run_trial(
    plan: &TrialPlan,
    pgid: i32,
    database_pgid: Option<i32>,
    server_cpus: &[usize],
    interrupt: Arc<AtomicBool>,
    mut on_progress: impl FnMut(load::Snapshot),
) -> Result<(Recording, Usage, Option<Usage>), load::Error> {
    let watch = CpuWatch {
        server_cpus: server_cpus.to_vec(),
        sampler_cpus: plan.cpus().to_vec(),
    };
    // The database server (PostgreSQL) is sampled as a group of its own: its work is the
    // contestant's queries, shown apart and never counted as another's disturbance.
    let database = database_pgid.map(|g| {
        let watch = CpuWatch {
            server_cpus: Vec::new(),
            sampler_cpus: plan.cpus().to_vec(),
        };
        Sampler::start_watching(g, DEFAULT_INTERVAL, watch)
    });
    let sampler = Sampler::start_watching(pgid, DEFAULT_INTERVAL, watch);
    // The engine's first snapshot comes as the window opens: CPU, busy time and wall time
    // count from there, as the requests they are divided by do.
    let recording = plan.run(interrupt, |snapshot| {
        sampler.open_window();
        if let Some(d) = &database {
            d.open_window();
        }
        on_progress(snapshot)
    });
    let usage = sampler.stop();
    let database = database.map(Sampler::stop);
    Ok((recording?, usage, database))
}

/// How one try of a round was isolated from the rest of the machine.
#[derive(Debug, Clone, Copy)]
pub struct Isolation {
    /// The wait for quiet before the window (`None`: the counters could not be read).
    pub quiet: Option<Quiet>,
    /// Number of server CPUs.
    pub server_cpus: usize,
    /// Earlier tries of this round for this contestant.
    pub retry: u32,
    /// The speed probe just before the window (`None`: not measured).
    pub speed_ns_per_step: Option<f64>,
}

/// What a trial's figures say about its own quality: isolation, contamination, busy
/// connections by Little's law, and whether the load engine set the figure.
pub fn quality_of(
    summary: &Summary,
    usage: &Usage,
    database: Option<&Usage>,
    isolation: Isolation,
) -> TrialQuality {
    let own_cpu_s = usage.cpu_s + database.map_or(0.0, |d| d.cpu_s);
    let foreign_cpu_s = usage
        .server_busy_s
        .map(|busy| isolation::foreign_cpu_s(busy, own_cpu_s));
    let contaminated = foreign_cpu_s
        .is_some_and(|f| isolation::is_contaminated(f, usage.wall_s, isolation.server_cpus));
    // The one rule for "the engine, not the server, set this figure" (src/warnings.rs).
    // The finding alone: the report adds `run`'s advice (`Warning::EngineLimited`).
    let engine_limited = engine_limit(summary).map(|limit| limit.to_string());
    TrialQuality {
        quiet_wait_s: isolation.quiet.map(|q| q.waited_s),
        quiet_at_start: isolation.quiet.map(|q| q.quiet),
        foreign_cpu_s,
        contaminated,
        retry: isolation.retry,
        superseded: contaminated && isolation.retry < MAX_RETRIES,
        connections: Some(summary.connections as u32),
        warm_connections: summary.setup.as_ref().map(|s| s.opened as u32),
        setup_failures: summary.setup.as_ref().map(|s| s.failed as u32),
        setup_s: summary.setup.as_ref().map(|s| s.wall_s),
        unanswered: summary.unanswered,
        unanswered_max_age_us: summary.unanswered_elapsed_us.as_ref().map(|p| p.max),
        busy_connections: summary.busy_connections,
        engine_limited,
        speed_ns_per_step: isolation.speed_ns_per_step,
    }
}

/// Turns a trial's recording and usage into what the store keeps.
#[allow(clippy::too_many_arguments)]
pub fn record(
    workload: &str,
    contestant: &str,
    round: u32,
    started_at: String,
    recording: &Recording,
    usage: &Usage,
    database: Option<&Usage>,
    crashed: bool,
    isolation: Isolation,
) -> TrialOutcome {
    let summary = Summary::of(recording);
    let quality = quality_of(&summary, usage, database, isolation);
    let per_1k = |cpu_s: f64| {
        if summary.requests > 0 {
            cpu_s * 1e3 / (summary.requests as f64 / 1000.0)
        } else {
            0.0
        }
    };
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
        cpu_ms_per_1k: per_1k(usage.cpu_s),
        database: database.map(|d| DatabaseUsage {
            cpu_s: d.cpu_s,
            cpu_ms_per_1k: per_1k(d.cpu_s),
            pss_mean_bytes: d.pss_mean_bytes,
        }),
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
        quality,
        point: None,
        cores: None,
        ws: summary.ws.as_ref().map(super::ws::trial_figures),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::summary::Percentiles;

    fn summary(rps: f64, mean_latency_us: f64, busiest: f64) -> Summary {
        let p = Percentiles {
            p50: mean_latency_us as u64,
            p90: mean_latency_us as u64,
            p95: mean_latency_us as u64,
            p99: mean_latency_us as u64,
            p999: mean_latency_us as u64,
            max: mean_latency_us as u64,
            min: mean_latency_us as u64,
            mean: mean_latency_us,
        };
        Summary {
            schema: 1,
            requests: (rps * 2.0) as u64,
            sent: (rps * 2.0) as u64,
            duration_s: 2.0,
            rps,
            latency_us: Some(p),
            latency_uncorrected_us: Some(p),
            unanswered: 0,
            unanswered_elapsed_us: None,
            late_sends: 0,
            status: Default::default(),
            errors: Default::default(),
            bytes_read: 0,
            bytes_written: 0,
            connects: 64,
            engine_cpu_s: 1.0,
            engine_cpu_us_per_request: Some(1.0),
            engine_thread_busy: vec![busiest],
            engine_busiest_thread: busiest,
            engine_thread_waiting: vec![0.0],
            busy_connections: Some(rps * mean_latency_us / 1e6),
            connections: 64,
            threads: 1,
            mode: "closed_loop",
            target_rate_per_s: None,
            interrupted: false,
            setup: None,
            timeline: Vec::new(),
            ws: None,
        }
    }

    fn usage(cpu_s: f64, server_busy_s: Option<f64>) -> Usage {
        Usage {
            cpu_s,
            wall_s: 2.0,
            server_busy_s,
            ..Usage::default()
        }
    }

    fn isolation(retry: u32) -> Isolation {
        Isolation {
            quiet: Some(Quiet {
                waited_s: 0.2,
                quiet: true,
            }),
            server_cpus: 1,
            retry,
            speed_ns_per_step: Some(2.5),
        }
    }

    #[test]
    fn a_clean_trial() {
        // 10,000 req/s at 6.4 ms: 64 requests in flight, all 64 connections busy.
        let q = quality_of(
            &summary(10_000.0, 6_400.0, 0.5),
            &usage(1.5, Some(1.55)),
            None,
            isolation(0),
        );
        assert_eq!(q.quiet_wait_s, Some(0.2));
        assert_eq!(q.quiet_at_start, Some(true));
        assert!((q.foreign_cpu_s.unwrap() - 0.05).abs() < 1e-9);
        assert!(!q.contaminated && !q.superseded);
        assert_eq!(q.connections, Some(64));
        assert!((q.busy_connections.unwrap() - 64.0).abs() < 1e-9);
        assert_eq!(q.engine_limited, None);
    }

    #[test]
    fn the_database_servers_work_is_the_trials_own() {
        // 0.5 CPU-s beside the contestant's 1.0 on the server CPU: PostgreSQL answering its
        // queries, not a disturbance.
        let database = usage(0.5, None);
        let q = quality_of(
            &summary(10_000.0, 6_400.0, 0.5),
            &usage(1.0, Some(1.5)),
            Some(&database),
            isolation(0),
        );
        assert!(q.foreign_cpu_s.unwrap().abs() < 1e-9);
        assert!(!q.contaminated);
    }

    #[test]
    fn a_disturbed_trial_is_replaced_until_the_last_try() {
        // 0.5 CPU-s of something else in a 2 s window on one CPU: 25%.
        let disturbed = usage(1.0, Some(1.5));
        let first = quality_of(
            &summary(10_000.0, 6_400.0, 0.5),
            &disturbed,
            None,
            isolation(0),
        );
        assert!(first.contaminated && first.superseded);
        let last = quality_of(
            &summary(10_000.0, 6_400.0, 0.5),
            &disturbed,
            None,
            isolation(MAX_RETRIES),
        );
        assert!(last.contaminated && !last.superseded);
        assert_eq!(last.retry, MAX_RETRIES);
        // Not measured is not zero: no counters, no verdict.
        let unknown = quality_of(
            &summary(10_000.0, 6_400.0, 0.5),
            &usage(1.0, None),
            None,
            Isolation {
                quiet: None,
                ..isolation(0)
            },
        );
        assert_eq!(
            (
                unknown.foreign_cpu_s,
                unknown.quiet_wait_s,
                unknown.quiet_at_start
            ),
            (None, None, None)
        );
        assert!(!unknown.contaminated);
    }

    #[test]
    fn an_engine_limited_trial_says_why() {
        let saturated = quality_of(
            &summary(10_000.0, 6_400.0, 0.95),
            &usage(1.0, Some(1.0)),
            None,
            isolation(0),
        );
        assert!(
            saturated
                .engine_limited
                .as_deref()
                .is_some_and(|w| w.contains("saturated")),
            "{saturated:?}"
        );
        // 10,000 req/s at 3.2 ms: only 32 of 64 connections waited on the server.
        let lagging = quality_of(
            &summary(10_000.0, 3_200.0, 0.5),
            &usage(1.0, Some(1.0)),
            None,
            isolation(0),
        );
        assert!((lagging.busy_connections.unwrap() - 32.0).abs() < 1e-9);
        assert!(
            lagging
                .engine_limited
                .as_deref()
                .is_some_and(|w| w.contains("32.0 of 64")),
            "{lagging:?}"
        );
    }
}
