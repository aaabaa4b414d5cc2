//! [`Facts`]: what one stored run says, typed, for judging claims, pricing and ranking.
//!
//! [`Facts::from_report`] fills it from the report's figures ([`crate::report::ReportData`]),
//! so the rule for which trials count is the report's one ([`crate::store::TrialMetrics::counts`]).
//! Filled: per workload and contestant the throughput with its interval, latency, CPU and
//! memory; the capacities under an SLO a run stored (`Store::capacities`); idle-connection
//! scale per count held (the report's scale section); WebSocket echo and room figures (the
//! WebSocket workloads' results); worker sweeps (the report's cores section); and each
//! contestant's audit (`Store::audits`). An empty collection means "not measured", never zero.
//!
//! One `Facts` is one run. `faceoff claims` judges several runs together (a standard, a scale,
//! a cores and a compute run hold different figures): each test is judged within one run, and
//! says which (`judge.rs`).

use serde::Serialize;

use super::claims::Measure;

use crate::report::scale::IdleRow;
use crate::report::{ContestantResult, Estimate, ReportData};
use crate::stats::Interval;
use crate::store::{ContestantStatus, RoomCounts};

/// Everything the claims, the cost model and the profiles read about one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// The run the facts come from.
    pub run_id: i64,
    /// The name of the suite that run measured (`standard`, `scale`, ...).
    pub suite: String,
    /// CPUs the contestants ran on; `None` when not recorded.
    pub server_cpus: Option<u32>,
    /// `WORKERS` each contestant ran with; `None` when not recorded.
    pub workers: Option<u32>,
    /// Every contestant of the run.
    pub contestants: Vec<ContestantFacts>,
    /// Per workload, each contestant's figures (closed loop or constant rate, HTTP).
    pub workloads: Vec<WorkloadFacts>,
    /// Capacity under a latency SLO per contestant and workload (issue 10, Build 4).
    pub capacity: Vec<CapacityFacts>,
    /// Idle-connection scale per contestant and kind of connection (issue 10, Build 2).
    pub idle: Vec<IdleFacts>,
    /// WebSocket echo and room fan-out per contestant (issue 10, Build 1).
    pub ws: Vec<WsFacts>,
    /// Worker sweeps per contestant and workload (issue 10, Build 5).
    pub worker_sweeps: Vec<WorkerSweep>,
    /// The audit of each contestant (issue 11).
    pub audit: Vec<AuditFacts>,
}

/// A contestant of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContestantFacts {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label (Node.js, Python, Rust, ...).
    pub stack: String,
    /// Language.
    pub language: String,
    /// Framework.
    pub framework: String,
    /// Whether it was measured (up and verified).
    pub measured: bool,
}

/// One workload's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadFacts {
    /// Workload name.
    pub name: String,
    /// One entry per contestant that ran it.
    pub results: Vec<ResultFacts>,
}

/// One contestant's figures on one workload, over the trials that count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultFacts {
    /// Contestant name.
    pub contestant: String,
    /// Median requests per second with its 95% interval; `None` when no trial counts.
    pub rps: Option<Interval>,
    /// Median of the trials' corrected p50 latency (µs).
    pub p50_us: Option<f64>,
    /// Median of the trials' corrected p99 latency (µs).
    pub p99_us: Option<f64>,
    /// Server CPU milliseconds per 1,000 responses, median over trials.
    pub cpu_ms_per_1k: Option<f64>,
    /// Mean PSS of the contestant's processes (bytes).
    pub pss_mean_bytes: Option<u64>,
    /// Trials whose figures count.
    pub trials: u32,
    /// Why the load engine, not the server, limited the figure (it is a lower bound).
    pub engine_limited: Option<String>,
    /// Why there is no figure.
    pub no_data: Option<String>,
}

/// Capacity under an SLO of one contestant on one workload: the highest constant rate whose
/// p99 stays under `slo_p99_us` with fewer than 0.1% errors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityFacts {
    /// Workload name.
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// The p99 objective the search used (µs).
    pub slo_p99_us: f64,
    /// The capacity (req/s): `point` the highest passing rate, `lo`/`hi` its interval (e.g. the
    /// passing rate and the lowest failing one, or the spread over repeated searches).
    pub rate_per_s: Interval,
    /// CPU cores the contestant kept busy at that rate (1.0 = one CPU all the time).
    pub cpu_cores: Option<f64>,
    /// PSS of its processes at that rate (bytes).
    pub pss_bytes: Option<u64>,
    /// Server CPUs it ran on during the search.
    pub server_cpus: u32,
}

/// Idle-connection scale of one contestant on one idle workload (`report::scale::IdleReport`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleFacts {
    /// Workload name, e.g. `idle-http`.
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// One point per count of idle connections asked for, ascending.
    pub points: Vec<IdlePoint>,
}

/// Idle connections at one count asked for (K): the median over its rounds, the worst count
/// held. Every figure is `None` when not measured, never zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdlePoint {
    /// Connections asked for (K).
    pub target: u32,
    /// Fewest held open at the end of a probe window.
    pub held: Option<u64>,
    /// Most refused in a round (could not be opened).
    pub refused: Option<u64>,
    /// Most dropped by the server in a round while held.
    pub dropped: Option<u64>,
    /// Server PSS added per 1,000 held connections (bytes).
    pub pss_per_1k_bytes: Option<f64>,
    /// The probe's p50 latency while they were held (µs).
    pub probe_p50_us: Option<f64>,
    /// The probe's p99 latency while they were held (µs).
    pub probe_p99_us: Option<f64>,
    /// Why this count could not be measured, with the fix; `None` when it was.
    pub not_reached: Option<String>,
}

/// WebSocket figures of one contestant on one workload (echo or room fan-out), over the
/// trials that count (`report::ContestantResult` with its `ws` part).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsFacts {
    /// Workload name, e.g. `ws-echo` or `ws-room`.
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// Messages per second (echo round trips, or deliveries for fan-out), median over trials
    /// with its interval; `None` when no trial counts.
    pub messages_per_s: Option<Interval>,
    /// Round-trip or delivery latency p50 from the intended send time (µs).
    pub p50_us: Option<f64>,
    /// Round-trip or delivery latency p99 from the intended send time (µs).
    pub p99_us: Option<f64>,
    /// Trials whose figures count.
    pub trials: u32,
    /// Why the load engine, not the server, limited the figure (it is a lower bound).
    pub engine_limited: Option<String>,
    /// Why there is no figure.
    pub no_data: Option<String>,
    /// Messages written in full over the counted trials (echo: sent; room: published).
    pub messages_sent: u64,
    /// Room workloads only: the fan-out counts summed over the counted trials.
    pub room: Option<RoomCounts>,
}

impl WsFacts {
    /// Deliveries over deliveries owed (room only; `None` when nothing was owed).
    pub fn delivery_ratio(&self) -> Option<f64> {
        self.room.as_ref().and_then(RoomCounts::delivery_ratio)
    }
}

/// A worker sweep: one contestant on one workload with WORKERS = 1..N
/// (`report::cores::WorkerSweep`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerSweep {
    /// The sweep's name as written in the suite (its points are `<name>.w<workers>`).
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// How it used several cores: its manifest's server and process model, if noted.
    pub deployment: Option<String>,
    /// The servers ran on every CPU of the run, the load engine's included.
    pub share_engine_cpus: bool,
    /// One point per worker count, ascending.
    pub points: Vec<WorkerPoint>,
}

/// One worker count of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerPoint {
    /// WORKERS.
    pub workers: u32,
    /// The point's workload name (`<sweep>.w<workers>`).
    pub workload: String,
    /// Median requests per second with its interval.
    pub rps: Option<Interval>,
    /// CPU cores the server used (CPU-seconds over wall seconds), median over trials.
    pub cores_used: Option<f64>,
    /// Mean PSS of the processes (bytes).
    pub pss_bytes: Option<u64>,
    /// Throughput over (workers x throughput at one worker), from ranked figures only.
    pub efficiency: Option<f64>,
    /// Why the figure is a lower bound or missing; `None` for a ranked figure.
    pub not_ranked: Option<String>,
}

impl WorkerSweep {
    /// The point with the most workers.
    pub fn top(&self) -> Option<&WorkerPoint> {
        self.points.iter().max_by_key(|p| p.workers)
    }
}

/// The audit of one contestant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditFacts {
    /// Contestant name.
    pub contestant: String,
    /// Letter grade of its response headers.
    pub grade: Option<String>,
    /// Score 0-100 (Mozilla HTTP Observatory's rubric).
    pub score: Option<i32>,
    /// Findings reported.
    pub findings: u32,
    /// Hostile-input probes passed.
    pub hostile_passed: Option<u32>,
    /// Hostile-input probes failed.
    pub hostile_failed: Option<u32>,
    /// Direct dependencies in the lockfile.
    pub deps_direct: Option<u32>,
    /// All packages in the lockfile, transitive included.
    pub deps_total: Option<u32>,
}

impl Facts {
    /// The facts of the run a report was computed from. Only what the report's figures hold
    /// is filled; see the module documentation.
    pub fn from_report(data: &ReportData) -> Facts {
        let server_cpus = data.method.server_cpus.as_ref().map(|c| c.len() as u32);
        Facts {
            run_id: data.run.id,
            suite: data.run.suite_name.clone(),
            server_cpus,
            workers: data.method.workers,
            contestants: data
                .contestants
                .iter()
                .map(|c| ContestantFacts {
                    name: c.name.clone(),
                    display_name: c.display_name.clone(),
                    stack: c.stack.clone(),
                    language: c.language.clone(),
                    framework: c.framework.clone(),
                    measured: c.status == ContestantStatus::Measured,
                })
                .collect(),
            workloads: data
                .workloads
                .iter()
                .map(|w| WorkloadFacts {
                    name: w.name.clone(),
                    results: w.results.iter().map(result_facts).collect(),
                })
                .collect(),
            idle: data.scale.idle.iter().flat_map(idle_facts).collect(),
            ws: data
                .workloads
                .iter()
                .flat_map(|w| w.results.iter().filter_map(move |r| ws_facts(&w.name, r)))
                .collect(),
            worker_sweeps: data.cores.iter().flat_map(worker_sweeps).collect(),
            capacity: data
                .scale
                .capacities
                .iter()
                .filter_map(|c| capacity_facts(&c.record, server_cpus?))
                .collect(),
            audit: data
                .audit
                .rows
                .iter()
                .filter_map(|r| r.audit.as_ref().map(|a| audit_facts(&r.name, a)))
                .collect(),
        }
    }

    /// Whether this run holds figures of `measure` on `workload` for anyone: the run a test
    /// is judged in is one that does.
    pub fn holds(&self, measure: Measure, workload: &str) -> bool {
        match measure {
            Measure::Throughput | Measure::P99 | Measure::CpuPer1k | Measure::Pss => {
                self.workload(workload).is_some()
            }
            Measure::Capacity | Measure::CostPerMillion => {
                self.capacity.iter().any(|c| c.workload == workload)
            }
            Measure::IdlePssPer1k | Measure::IdleProbeP99 => {
                self.idle.iter().any(|i| i.workload == workload)
            }
            Measure::WsMessages | Measure::WsP99 | Measure::WsDelivered => {
                self.ws.iter().any(|w| w.workload == workload)
            }
            Measure::ScalingEfficiency => self.worker_sweeps.iter().any(|s| s.workload == workload),
            Measure::AuditScore | Measure::Dependencies => !self.audit.is_empty(),
        }
    }

    /// One contestant's idle-connection figures on one idle workload.
    pub fn idle(&self, workload: &str, contestant: &str) -> Option<&IdleFacts> {
        self.idle
            .iter()
            .find(|i| i.workload == workload && i.contestant == contestant)
    }

    /// The largest count of idle connections any contestant was asked to hold on `workload`:
    /// the count the claims compare at, the same for everyone.
    pub fn idle_top(&self, workload: &str) -> Option<u32> {
        self.idle
            .iter()
            .filter(|i| i.workload == workload)
            .flat_map(|i| i.points.iter().map(|p| p.target))
            .max()
    }

    /// One contestant's WebSocket figures on one workload.
    pub fn ws(&self, workload: &str, contestant: &str) -> Option<&WsFacts> {
        self.ws
            .iter()
            .find(|w| w.workload == workload && w.contestant == contestant)
    }

    /// One contestant's worker sweep called `workload`.
    pub fn worker_sweep(&self, workload: &str, contestant: &str) -> Option<&WorkerSweep> {
        self.worker_sweeps
            .iter()
            .find(|s| s.workload == workload && s.contestant == contestant)
    }

    /// The contestant called `name`.
    pub fn contestant(&self, name: &str) -> Option<&ContestantFacts> {
        self.contestants.iter().find(|c| c.name == name)
    }

    /// The workload called `name`.
    pub fn workload(&self, name: &str) -> Option<&WorkloadFacts> {
        self.workloads.iter().find(|w| w.name == name)
    }

    /// One contestant's figures on one workload.
    pub fn result(&self, workload: &str, contestant: &str) -> Option<&ResultFacts> {
        self.workload(workload)?
            .results
            .iter()
            .find(|r| r.contestant == contestant)
    }

    /// One contestant's capacity on one workload.
    pub fn capacity(&self, workload: &str, contestant: &str) -> Option<&CapacityFacts> {
        self.capacity
            .iter()
            .find(|c| c.workload == workload && c.contestant == contestant)
    }
}

/// A stored capacity as the cost model reads it; `None` when the search confirmed no rate.
/// The interval runs from the confirmed rate to the lowest rate a trial missed the SLO at (the
/// confirmed rate itself when none did: a lower bound). It is not a sampling interval: the
/// confirmations (all of which must meet the SLO) make a rate that meets it less than half the
/// time pass with under 3.1% chance at 5 of them, so fewer than 5 count as short of confidence.
fn capacity_facts(c: &crate::store::CapacityRecord, server_cpus: u32) -> Option<CapacityFacts> {
    let rate = c.rate_per_s?;
    Some(CapacityFacts {
        workload: c.workload.clone(),
        contestant: c.contestant.clone(),
        slo_p99_us: c.slo_p99_us,
        rate_per_s: Interval {
            point: rate,
            lo: c.interval_low_per_s.unwrap_or(rate),
            hi: c.interval_high_per_s.unwrap_or(rate),
            coverage: 0.95,
            short_of_confidence: c.confirmations < 5,
        },
        cpu_cores: c.server_cpu_share,
        pss_bytes: c.pss_bytes,
        server_cpus,
    })
}

/// A stored audit as the claims read it.
fn audit_facts(name: &str, a: &crate::audit::ContestantAudit) -> AuditFacts {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    AuditFacts {
        contestant: name.to_string(),
        grade: a.grade.clone(),
        score: a.score,
        findings: count(a.findings.len()),
        hostile_passed: a.hostile.map(|h| count(h.passed)),
        hostile_failed: a.hostile.map(|h| count(h.failed)),
        deps_direct: a.dependencies.direct.map(count),
        deps_total: a.dependencies.total.map(count),
    }
}

fn interval(e: Estimate) -> Interval {
    Interval {
        point: e.median,
        lo: e.lo,
        hi: e.hi,
        coverage: e.coverage,
        short_of_confidence: e.short_of_confidence,
    }
}

/// The idle workload's rows, one `IdleFacts` per contestant (rows come per contestant, then
/// per count ascending).
fn idle_facts(report: &crate::report::scale::IdleReport) -> Vec<IdleFacts> {
    let mut out: Vec<IdleFacts> = Vec::new();
    for row in &report.rows {
        let point = idle_point(row);
        match out.iter_mut().find(|i| i.contestant == row.name) {
            Some(i) => i.points.push(point),
            None => out.push(IdleFacts {
                workload: report.workload.clone(),
                contestant: row.name.clone(),
                points: vec![point],
            }),
        }
    }
    for i in &mut out {
        i.points.sort_by_key(|p| p.target);
    }
    out
}

fn idle_point(row: &IdleRow) -> IdlePoint {
    IdlePoint {
        target: row.target,
        held: row.held,
        refused: row.refused,
        dropped: row.dropped,
        pss_per_1k_bytes: row.pss_per_1k_bytes,
        probe_p50_us: row.probe_p50_us,
        probe_p99_us: row.probe_p99_us,
        not_reached: row.not_reached.clone(),
    }
}

/// A WebSocket workload's result; `None` for an HTTP one.
fn ws_facts(workload: &str, r: &ContestantResult) -> Option<WsFacts> {
    let ws = r.ws.as_ref()?;
    Some(WsFacts {
        workload: workload.to_string(),
        contestant: r.name.clone(),
        messages_per_s: r.rps.map(interval),
        p50_us: r.p50_us,
        p99_us: r.p99_us,
        trials: r.trials,
        engine_limited: r.engine_limited.clone(),
        no_data: r.no_data.clone(),
        messages_sent: ws.messages_sent,
        room: ws.room,
    })
}

fn worker_sweeps(s: &crate::report::cores::WorkerSweep) -> Vec<WorkerSweep> {
    s.rows
        .iter()
        .map(|row| WorkerSweep {
            workload: s.sweep.clone(),
            contestant: row.name.clone(),
            deployment: row.deployment.clone(),
            share_engine_cpus: s.share_engine_cpus,
            points: row
                .points
                .iter()
                .map(|p| WorkerPoint {
                    workers: p.workers,
                    workload: p.workload.clone(),
                    rps: p.rps.map(interval),
                    cores_used: p.cores_used,
                    pss_bytes: p.pss_mean_bytes,
                    efficiency: p.efficiency,
                    not_ranked: p.not_ranked.clone(),
                })
                .collect(),
        })
        .collect()
}

fn result_facts(r: &ContestantResult) -> ResultFacts {
    ResultFacts {
        contestant: r.name.clone(),
        rps: r.rps.map(interval),
        p50_us: r.p50_us,
        p99_us: r.p99_us,
        cpu_ms_per_1k: r.cpu_ms_per_1k,
        pss_mean_bytes: r.pss_mean_bytes,
        trials: r.trials,
        engine_limited: r.engine_limited.clone(),
        no_data: r.no_data.clone(),
    }
}
