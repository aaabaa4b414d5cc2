//! The scale sections of a report (issue 10): throughput and p99 against connections with the
//! knee of each sweep, memory and probe latency against idle connections, and the capacity
//! under an SLO. Built from the trials' points and the stored capacities; rendered by
//! `scale_view.rs` in every format.

use serde::Serialize;

use crate::stats;
use crate::store::{CapacityRecord, RunDetail, TrialPoint, TrialRecord};
use crate::suite::IdleProtocol;

/// Everything the scale sections show; empty for a run without scale workloads.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScaleReport {
    /// Concurrency sweeps, one per workload.
    pub sweeps: Vec<SweepReport>,
    /// Idle-connection workloads, one per workload.
    pub idle: Vec<IdleReport>,
    /// Capacities under an SLO, per workload and contestant, in the order found.
    pub capacities: Vec<CapacityRow>,
}

impl ScaleReport {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.sweeps.is_empty() && self.idle.is_empty() && self.capacities.is_empty()
    }
}

/// One sweep workload.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// Workload name.
    pub workload: String,
    /// Connection counts measured, ascending.
    pub connections: Vec<u32>,
    /// One series per contestant.
    pub series: Vec<SweepSeries>,
}

/// One contestant's sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSeries {
    /// Contestant name.
    pub name: String,
    /// Name shown.
    pub display_name: String,
    /// One entry per connection count of the sweep, in the same order.
    pub points: Vec<SweepPoint>,
    /// The knee: the fewest connections at which the median throughput reaches 90% of the
    /// series' best ([`stats::knee`]); `None` without throughput.
    pub knee_connections: Option<u32>,
}

/// One point of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// Connections.
    pub connections: u32,
    /// Trials that count.
    pub trials: u32,
    /// Median throughput (requests per second); `None` without a counted trial.
    pub rps: Option<f64>,
    /// Median p99 latency (µs); `None` without a counted trial.
    pub p99_us: Option<f64>,
    /// Some trial of this point was limited by the load engine, not the server.
    pub engine_limited: bool,
}

/// One idle workload.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    /// Workload name.
    pub workload: String,
    /// What the idle connections spoke.
    pub protocol: IdleProtocol,
    /// Idle counts asked for, ascending.
    pub counts: Vec<u32>,
    /// One row per contestant and count.
    pub rows: Vec<IdleRow>,
}

/// One contestant at one idle count (the median over its rounds, the worst count held).
#[derive(Debug, Clone, Serialize)]
pub struct IdleRow {
    /// Contestant name.
    pub name: String,
    /// Name shown.
    pub display_name: String,
    /// Idle connections asked for.
    pub target: u32,
    /// Fewest held at the end of a probe window; `None` when not reached.
    pub held: Option<u64>,
    /// Most refused in a round.
    pub refused: Option<u64>,
    /// Most dropped in a round.
    pub dropped: Option<u64>,
    /// Median PSS of the group while the connections were held (bytes).
    pub pss_bytes: Option<u64>,
    /// Median PSS added per 1,000 held connections (bytes).
    pub pss_per_1k_bytes: Option<f64>,
    /// Median probe p50 (µs).
    pub probe_p50_us: Option<f64>,
    /// Median probe p99 (µs).
    pub probe_p99_us: Option<f64>,
    /// Why the count was not reached, with the fix; `None` when it was measured.
    pub not_reached: Option<String>,
}

/// One stored capacity with the contestant's display name.
#[derive(Debug, Clone, Serialize)]
pub struct CapacityRow {
    /// Name shown.
    pub display_name: String,
    /// The stored record.
    #[serde(flatten)]
    pub record: CapacityRecord,
}

fn median(values: Vec<f64>) -> Option<f64> {
    stats::median(&values)
}

fn display_name(detail: &RunDetail, name: &str) -> String {
    detail
        .contestants
        .iter()
        .find(|c| c.name == name)
        .map_or_else(|| name.to_string(), |c| c.display_name.clone())
}

/// Contestants of `trials` in the run's order (unknown names last, in order of appearance).
fn contestants<'a>(detail: &'a RunDetail, trials: &[&'a TrialRecord]) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for t in trials {
        if !names.contains(&t.contestant.as_str()) {
            names.push(&t.contestant);
        }
    }
    let order = |n: &str| {
        detail
            .contestants
            .iter()
            .position(|c| c.name == n)
            .unwrap_or(usize::MAX)
    };
    names.sort_by_key(|n| order(n));
    names
}

/// Workloads with trials matching `is`, in the order they first ran.
fn workloads(detail: &RunDetail, is: fn(&TrialPoint) -> bool) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for t in &detail.trials {
        if t.metrics.point.as_ref().is_some_and(is) && !out.contains(&t.workload.as_str()) {
            out.push(&t.workload);
        }
    }
    out
}

impl ScaleReport {
    /// The scale sections of a stored run.
    pub fn from_run(detail: &RunDetail) -> ScaleReport {
        ScaleReport {
            sweeps: workloads(detail, |p| matches!(p, TrialPoint::Sweep { .. }))
                .into_iter()
                .map(|w| sweep(detail, w))
                .collect(),
            idle: workloads(detail, |p| matches!(p, TrialPoint::Idle(_)))
                .into_iter()
                .map(|w| idle(detail, w))
                .collect(),
            capacities: detail
                .capacities
                .iter()
                .map(|c| CapacityRow {
                    display_name: display_name(detail, &c.contestant),
                    record: c.clone(),
                })
                .collect(),
        }
    }
}

fn sweep(detail: &RunDetail, workload: &str) -> SweepReport {
    let trials: Vec<(&TrialRecord, u32)> = detail
        .trials
        .iter()
        .filter(|t| t.workload == workload)
        .filter_map(|t| match t.metrics.point {
            Some(TrialPoint::Sweep { connections }) => Some((t, connections)),
            _ => None,
        })
        .collect();
    let mut connections: Vec<u32> = trials.iter().map(|(_, c)| *c).collect();
    connections.sort_unstable();
    connections.dedup();
    let all: Vec<&TrialRecord> = trials.iter().map(|(t, _)| *t).collect();
    let series = contestants(detail, &all)
        .into_iter()
        .map(|name| {
            let points: Vec<SweepPoint> = connections
                .iter()
                .map(|&c| {
                    let counted: Vec<&TrialRecord> = trials
                        .iter()
                        .filter(|(t, at)| *at == c && t.contestant == name && t.metrics.counts())
                        .map(|(t, _)| *t)
                        .collect();
                    SweepPoint {
                        connections: c,
                        trials: counted.len() as u32,
                        rps: median(counted.iter().map(|t| t.metrics.rps).collect()),
                        p99_us: median(
                            counted
                                .iter()
                                .map(|t| t.metrics.latency_us[2] as f64)
                                .collect(),
                        ),
                        engine_limited: counted
                            .iter()
                            .any(|t| t.metrics.quality.engine_limited.is_some()),
                    }
                })
                .collect();
            let rps: Vec<Option<f64>> = points.iter().map(|p| p.rps).collect();
            SweepSeries {
                name: name.to_string(),
                display_name: display_name(detail, name),
                knee_connections: stats::knee(&rps).map(|i| points[i].connections),
                points,
            }
        })
        .collect();
    SweepReport {
        workload: workload.to_string(),
        connections,
        series,
    }
}

fn idle(detail: &RunDetail, workload: &str) -> IdleReport {
    let trials: Vec<&TrialRecord> = detail
        .trials
        .iter()
        .filter(|t| t.workload == workload)
        .filter(|t| matches!(t.metrics.point, Some(TrialPoint::Idle(_))))
        // A disturbed try that a later one replaced is left out, as in every other figure.
        .filter(|t| !t.metrics.quality.superseded)
        .collect();
    let figures = |t: &TrialRecord| match &t.metrics.point {
        Some(TrialPoint::Idle(f)) => Some(f.clone()),
        _ => None,
    };
    let mut counts: Vec<u32> = trials
        .iter()
        .filter_map(|t| figures(t).map(|f| f.target))
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let mut rows = Vec::new();
    for name in contestants(detail, &trials) {
        for &target in &counts {
            let mine: Vec<&TrialRecord> = trials
                .iter()
                .copied()
                .filter(|t| t.contestant == name)
                .filter(|t| figures(t).is_some_and(|f| f.target == target))
                .collect();
            if mine.is_empty() {
                continue;
            }
            // Measured rounds: those whose probe got answers and that were not cut short.
            let measured: Vec<&TrialRecord> = mine
                .iter()
                .copied()
                .filter(|t| figures(t).is_some_and(|f| f.not_reached.is_none()))
                .collect();
            let f: Vec<_> = measured.iter().filter_map(|t| figures(t)).collect();
            let answered: Vec<&TrialRecord> = measured
                .iter()
                .copied()
                .filter(|t| t.metrics.counts())
                .collect();
            rows.push(IdleRow {
                name: name.to_string(),
                display_name: display_name(detail, name),
                target,
                held: f.iter().filter_map(|f| f.held).min(),
                refused: f.iter().filter_map(|f| f.refused).max(),
                dropped: f.iter().filter_map(|f| f.dropped).max(),
                pss_bytes: median(
                    measured
                        .iter()
                        .filter(|t| t.metrics.pss_mean_bytes > 0)
                        .map(|t| t.metrics.pss_mean_bytes as f64)
                        .collect(),
                )
                .map(|b| b as u64),
                pss_per_1k_bytes: median(f.iter().filter_map(|f| f.pss_per_1k_bytes).collect()),
                probe_p50_us: median(
                    answered
                        .iter()
                        .map(|t| t.metrics.latency_us[0] as f64)
                        .collect(),
                ),
                probe_p99_us: median(
                    answered
                        .iter()
                        .map(|t| t.metrics.latency_us[2] as f64)
                        .collect(),
                ),
                not_reached: if measured.is_empty() {
                    mine.iter().filter_map(|t| figures(t)?.not_reached).next()
                } else {
                    None
                },
            });
        }
    }
    IdleReport {
        workload: workload.to_string(),
        // One workload holds one kind of connection.
        protocol: trials
            .iter()
            .find_map(|t| figures(t))
            .map_or_else(IdleProtocol::default, |f| f.protocol),
        counts,
        rows,
    }
}
