//! Gates (issue 13): thresholds in k6's spirit (`p99 < 50ms`, `errors < 0.1%`, `rps > 1000`),
//! judged on a run's medians *and their 95% intervals*.
//!
//! A threshold passes when the whole interval of the median lies on the right side of the
//! limit, fails when the whole interval lies on the wrong side, and is *inconclusive* when the
//! interval straddles the limit: the run cannot tell. Like k6, which fails a threshold it
//! cannot show is met, an inconclusive threshold fails the gate, with the interval printed so
//! the reader sees why (more trials narrow it; a limit outside the noise settles it). A figure
//! that does not exist (a contestant not measured, one that failed verify, a workload it did
//! not run) is *no data*, which fails too: a gate never passes on missing figures.
//!
//! Everything here is pure: `expr.rs` reads expressions, [`judge`] decides on one figure.
//! `report/gates.rs` gathers the figures of a stored run and builds the [`GateReport`] every
//! report carries; the commands turn a failed gate into exit code [`EXIT_GATE_FAILED`].

pub mod expr;

use serde::Serialize;

pub use expr::{parse_cli, parse_condition, ParseError, Source, ACCEPTED_FORMS};

use crate::stats::Interval;

/// Exit code of `run`, `show`, `report` (a threshold failed) and `diff --fail-on-regression`
/// (a pair regressed outside the noise). Results and reports are all written first.
pub const EXIT_GATE_FAILED: u8 = 3;

/// One threshold: a condition on one metric, for the workloads and contestants it names (every
/// one when `None`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// The workload it applies to; `None` for every plain (non-scale) workload of the run.
    pub workload: Option<String>,
    /// The contestant it applies to; `None` for every contestant of the run.
    pub contestant: Option<String>,
    /// What is compared.
    pub metric: Metric,
    /// How.
    pub op: Op,
    /// The limit in the metric's own unit ([`Metric::unit`]).
    pub limit: f64,
    /// The condition as written, spaces normalized (`p99 < 50ms`).
    pub condition: String,
    /// Where it came from.
    pub source: Source,
}

/// What a threshold compares: the median over a result's counted trials of one per-trial
/// figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Responses per second.
    Rps,
    /// Corrected latency (from the intended send time), 50th percentile, µs.
    P50,
    /// 90th percentile, µs.
    P90,
    /// 99th percentile, µs.
    P99,
    /// 99.9th percentile, µs.
    P999,
    /// Largest latency of a trial, µs.
    Max,
    /// Failed requests over attempts (a fraction; the capacity search's rule).
    Errors,
    /// Server CPU milliseconds per 1,000 responses.
    CpuPer1k,
    /// Mean PSS of the contestant's process group, bytes.
    Pss,
}

impl Metric {
    /// Every metric, in the order `--help` lists them.
    pub const ALL: [Metric; 9] = [
        Metric::Rps,
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::P999,
        Metric::Max,
        Metric::Errors,
        Metric::CpuPer1k,
        Metric::Pss,
    ];

    /// Its name in expressions.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Rps => "rps",
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Max => "max",
            Metric::Errors => "errors",
            Metric::CpuPer1k => "cpu_per_1k",
            Metric::Pss => "pss",
        }
    }

    /// Other names accepted for it.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Metric::Rps => &["throughput"],
            Metric::Errors => &["error_rate"],
            Metric::Pss => &["memory"],
            _ => &[],
        }
    }

    /// The unit of [`Threshold::limit`] and of the figures.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Rps => "req/s",
            Metric::P50 | Metric::P90 | Metric::P99 | Metric::P999 | Metric::Max => "µs",
            Metric::Errors => "fraction",
            Metric::CpuPer1k => "ms per 1,000 responses",
            Metric::Pss => "bytes",
        }
    }

    /// A value of this metric as people read it (`50 ms`, `0.1%`, `1,234 req/s`).
    pub fn show(self, v: f64) -> String {
        if !v.is_finite() {
            return "unbounded".into();
        }
        match self {
            Metric::Rps => format!("{} req/s", crate::units::group(v.round() as u64)),
            Metric::P50 | Metric::P90 | Metric::P99 | Metric::P999 | Metric::Max => {
                if v >= 1e6 {
                    format!("{:.2} s", v / 1e6)
                } else if v >= 1e3 {
                    format!("{:.1} ms", v / 1e3)
                } else {
                    format!("{v:.0} µs")
                }
            }
            Metric::Errors => format!("{}%", (v * 1e4).round() / 1e2),
            Metric::CpuPer1k => format!("{v:.1} ms/1k"),
            Metric::Pss => format!("{:.1} MiB", v / (1024.0 * 1024.0)),
        }
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `<`
    Below,
    /// `<=`
    AtMost,
    /// `>`
    Above,
    /// `>=`
    AtLeast,
}

impl Op {
    /// As written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Below => "<",
            Op::AtMost => "<=",
            Op::Above => ">",
            Op::AtLeast => ">=",
        }
    }

    /// Whether `v` is on the right side of `limit`.
    fn holds(self, v: f64, limit: f64) -> bool {
        match self {
            Op::Below => v < limit,
            Op::AtMost => v <= limit,
            Op::Above => v > limit,
            Op::AtLeast => v >= limit,
        }
    }
}

/// How one threshold fared on one result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The whole interval is on the right side of the limit.
    Pass,
    /// The whole interval is on the wrong side.
    Fail,
    /// The interval straddles the limit: this run cannot tell. Fails the gate.
    Inconclusive,
    /// There is no figure (not measured, failed verify, no trial counts). Fails the gate.
    NoData,
}

impl Outcome {
    /// Whether the gate passes with this outcome: only [`Outcome::Pass`] does.
    pub fn passes(self) -> bool {
        self == Outcome::Pass
    }

    /// One word for tables.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Inconclusive => "INCONCLUSIVE",
            Outcome::NoData => "NO DATA",
        }
    }
}

/// The figure a threshold is judged on: the median of one metric with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    /// Median over the counted trials and its interval.
    pub interval: Interval,
    /// The load engine, not the server, set the figure: the real value may be higher (only
    /// throughput is read this way: its interval has no upper end).
    pub lower_bound: bool,
}

/// Decides `threshold` on `figure`, and says why in words.
pub fn judge(threshold: &Threshold, figure: &Figure) -> (Outcome, String) {
    let m = threshold.metric;
    let i = &figure.interval;
    let hi = if figure.lower_bound {
        f64::INFINITY
    } else {
        i.hi
    };
    let (lo, limit, op) = (i.lo, threshold.limit, threshold.op);
    let outcome = if op.holds(lo, limit) && op.holds(hi, limit) {
        Outcome::Pass
    } else if !op.holds(lo, limit) && !op.holds(hi, limit) {
        Outcome::Fail
    } else {
        Outcome::Inconclusive
    };
    let range = if figure.lower_bound {
        format!("at least {} (the load engine was the limit)", m.show(lo))
    } else if i.lo == i.hi {
        m.show(i.point)
    } else {
        format!("{} [{} – {}]", m.show(i.point), m.show(i.lo), m.show(i.hi))
    };
    let confidence = if i.short_of_confidence {
        format!(
            "; too few trials for 95%: the interval is the sample range ({:.0}% coverage)",
            i.coverage * 100.0
        )
    } else {
        String::new()
    };
    let side = |whole: &str| format!("{range}: {whole} {} {}", op.symbol(), m.show(limit));
    let reason = match outcome {
        Outcome::Pass => side("the whole interval is"),
        Outcome::Fail => format!(
            "{range}: the whole interval misses {} {}",
            op.symbol(),
            m.show(limit)
        ),
        Outcome::Inconclusive => format!(
            "{range} straddles {}: inconclusive, which fails the gate (more trials narrow the \
             interval)",
            m.show(limit)
        ),
        // Not reached: a figure is data.
        Outcome::NoData => range,
    };
    (outcome, reason + &confidence)
}

/// One threshold judged on one result (workload × contestant).
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// The threshold as written, with its scope (`json:rps > 1000`).
    pub threshold: String,
    /// Where it came from.
    pub source: Source,
    /// The workload judged; `None` when the threshold matched no workload of the run.
    pub workload: Option<String>,
    /// The contestant judged; `None` when the threshold matched no contestant of the run.
    pub contestant: Option<String>,
    /// What was compared.
    pub metric: Metric,
    /// How.
    pub op: Op,
    /// The limit, in [`Metric::unit`].
    pub limit: f64,
    /// The figure with its interval; `None` without data.
    pub figure: Option<Figure>,
    /// The decision.
    pub outcome: Outcome,
    /// Why, in words: the interval against the limit, or what is missing.
    pub reason: String,
}

/// Every threshold of a run judged on every result it applies to.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    /// Whether every result passed (inconclusive and no data fail).
    pub passed: bool,
    /// Results per outcome: pass, fail, inconclusive, no data.
    pub counts: OutcomeCounts,
    /// One row per threshold and result, in threshold order.
    pub results: Vec<GateResult>,
}

/// How many results had each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    /// Passed.
    pub pass: u32,
    /// Failed.
    pub fail: u32,
    /// Inconclusive (fail the gate).
    pub inconclusive: u32,
    /// Without data (fail the gate).
    pub no_data: u32,
}

impl GateReport {
    /// The report of these results.
    pub fn of(results: Vec<GateResult>) -> GateReport {
        let mut counts = OutcomeCounts::default();
        for r in &results {
            *match r.outcome {
                Outcome::Pass => &mut counts.pass,
                Outcome::Fail => &mut counts.fail,
                Outcome::Inconclusive => &mut counts.inconclusive,
                Outcome::NoData => &mut counts.no_data,
            } += 1;
        }
        GateReport {
            passed: results.iter().all(|r| r.outcome.passes()),
            counts,
            results,
        }
    }

    /// One line: how many passed, and what failed the gate.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let total = self.results.len();
        if self.passed {
            format!("gates passed: {} of {total} results", c.pass)
        } else {
            format!(
                "gates FAILED: {} of {total} passed, {} failed, {} inconclusive, {} without data \
                 (inconclusive and no data fail the gate)",
                c.pass, c.fail, c.inconclusive, c.no_data
            )
        }
    }
}

#[cfg(test)]
mod tests;
