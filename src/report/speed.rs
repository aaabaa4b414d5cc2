//! The machine's own speed over a run (issue 8): every trial records a speed probe on the quiet
//! server CPU just before its window (`runner::isolation::speed_probe`). On a shared virtual
//! machine the same code runs slower for minutes at a time while steal time stays near zero;
//! this section says how fast the machine was over the run, so that two runs can be compared
//! on it (`faceoff diff` does).
//!
//! What the probe can and cannot tell, measured 2026-12-02 on the 2-CPU machine: during a slow
//! spell that cut every contestant's throughput by 25-45% for six minutes, the probe read about
//! 20% slower than outside it; but one trial's probe says little about that trial (correlation
//! -0.19 with its throughput over 245 trials of a quick run), and on a steady machine the
//! median of one workload's probes still strays up to 19% from the run's fastest. So the run's
//! median is the figure to compare, and no trial is judged or repeated by its probe.

use serde::Serialize;

use crate::stats;
use crate::store::TrialRecord;

/// Quantile of the run's probes taken as the machine's speed when nothing slowed it.
const FASTEST_QUANTILE: f64 = 0.1;

/// The speed probe over a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineSpeed {
    /// Trials that recorded a probe.
    pub probes: u32,
    /// Median of the probes (nanoseconds per step; lower is faster).
    pub median_ns: f64,
    /// The run's speed when nothing slowed it: the 10th percentile of the probes.
    pub fastest_ns: f64,
    /// Per workload, in the order they ran.
    pub workloads: Vec<WorkloadSpeed>,
}

/// The speed probe during one workload's trials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadSpeed {
    /// Workload name.
    pub workload: String,
    /// Median of its trials' probes (nanoseconds per step).
    pub median_ns: f64,
    /// How much slower than the run's fastest: `median_ns / fastest_ns - 1`.
    pub slower: f64,
}

impl MachineSpeed {
    /// The probes of `trials` (counted or not: each is a reading of the machine), grouped by
    /// workload in the order of `workloads`; `None` when no trial recorded one.
    pub fn of(trials: &[TrialRecord], workloads: &[&str]) -> Option<MachineSpeed> {
        let all: Vec<f64> = trials.iter().filter_map(probe).collect();
        // Every probe is finite and above zero (see `probe`), so their quantile is too.
        let fastest_ns = stats::quantile(&all, FASTEST_QUANTILE)?;
        let per_workload = workloads
            .iter()
            .filter_map(|&name| {
                let values: Vec<f64> = trials
                    .iter()
                    .filter(|t| t.workload == name)
                    .filter_map(probe)
                    .collect();
                let median_ns = stats::median(&values)?;
                Some(WorkloadSpeed {
                    workload: name.to_string(),
                    median_ns,
                    slower: median_ns / fastest_ns - 1.0,
                })
            })
            .collect();
        Some(MachineSpeed {
            probes: all.len() as u32,
            median_ns: stats::median(&all)?,
            fastest_ns,
            workloads: per_workload,
        })
    }

    /// The workload during which the machine ran slowest, if any probe was grouped.
    pub fn slowest(&self) -> Option<&WorkloadSpeed> {
        self.workloads
            .iter()
            .max_by(|a, b| a.slower.total_cmp(&b.slower))
    }
}

fn probe(t: &TrialRecord) -> Option<f64> {
    t.metrics
        .quality
        .speed_ns_per_step
        .filter(|v| v.is_finite() && *v > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TrialMetrics;

    fn trial(workload: &str, probe: Option<f64>) -> TrialRecord {
        let mut metrics: TrialMetrics = serde_json::from_value(serde_json::json!({
            "duration_s": 1.0, "requests": 10, "rps": 10.0, "errors": 0,
            "errors_by_kind": {}, "status": {}, "latency_us": [1,1,1,1,1],
            "latency_uncorrected_us": [1,1,1,1,1], "latency_mean_us": 1.0, "late_sends": 0,
            "server_cpu_s": 0.1, "cpu_ms_per_1k": 1.0, "pss_mean_bytes": 1, "pss_peak_bytes": 1,
            "rss_peak_bytes": 1, "engine_cpu_s": 0.1, "engine_busiest": 0.1,
            "timeline_rps": [], "crashed": false,
        }))
        .unwrap();
        metrics.quality.speed_ns_per_step = probe;
        TrialRecord {
            workload: workload.into(),
            contestant: "a".into(),
            round: 1,
            started_at: String::new(),
            metrics,
            histogram: Vec::new(),
            histogram_uncorrected: Vec::new(),
        }
    }

    #[test]
    fn the_slowest_workload_is_named() {
        let mut trials: Vec<TrialRecord> = (0..10).map(|_| trial("json", Some(1.6))).collect();
        trials.extend((0..10).map(|_| trial("db", Some(2.0))));
        trials.push(trial("db", None));
        trials.push(trial("db", Some(f64::NAN)));
        let speed = MachineSpeed::of(&trials, &["json", "db", "io"]).unwrap();
        assert_eq!(speed.probes, 20);
        assert_eq!(speed.fastest_ns, 1.6);
        assert_eq!(speed.workloads.len(), 2, "io had no trial: {speed:?}");
        assert_eq!(speed.workloads[0].slower, 0.0);
        assert!((speed.workloads[1].slower - 0.25).abs() < 1e-9);
        assert_eq!(speed.slowest().unwrap().workload, "db");
        assert_eq!(speed.median_ns, 1.8);
    }

    #[test]
    fn no_probe_is_no_section() {
        let trials = vec![trial("json", None), trial("db", Some(0.0))];
        assert_eq!(MachineSpeed::of(&trials, &["json", "db"]), None);
        assert_eq!(MachineSpeed::of(&[], &[]), None);
    }
}
