//! The gates of a stored run (issue 13): its thresholds (the suite's `[[threshold]]` tables,
//! the `--threshold`s it ran with, and any given to `show` or `report`) judged on the figures
//! of its counted trials, and their table in the terminal and Markdown reports.
//!
//! A threshold without a workload applies to every plain workload of the run (not to sweeps,
//! capacity searches or idle scale, which have their own sections); one without a contestant to
//! every contestant of the run, measured or not, so a contestant that failed verify is "no
//! data" and fails the gate rather than passing unseen.

use std::fmt::Write;
use std::path::Path;

use super::{ReportWarning, CONFIDENCE};
use crate::gate::{self, Figure, GateReport, GateResult, Metric, Outcome, Threshold};
use crate::stats;
use crate::store::{ContestantStatus, RunDetail, TrialRecord};

/// Every threshold of `detail` plus `extra`, judged; `None` when there is none.
pub(super) fn evaluate(
    detail: &RunDetail,
    extra: &[Threshold],
    warnings: &mut Vec<ReportWarning>,
) -> Option<GateReport> {
    let plan = crate::suite::parse_plan(&detail.suite_toml, Path::new(&detail.run.suite_path));
    let mut thresholds: Vec<Threshold> = Vec::new();
    match &plan {
        Ok(plan) => thresholds.extend(plan.thresholds.iter().cloned()),
        Err(e) if detail.suite_toml.contains("[[threshold]]") => warnings.push(warning(format!(
            "the run's suite could not be read again, so its [[threshold]] tables are not \
             judged: {e}"
        ))),
        Err(_) => {}
    }
    for text in detail.settings.iter().flat_map(|s| &s.thresholds) {
        match gate::parse_cli(text) {
            Ok(t) => thresholds.push(t),
            Err(e) => warnings.push(warning(format!(
                "a stored --threshold could not be read again and is not judged: {e}"
            ))),
        }
    }
    thresholds.extend(extra.iter().cloned());
    // The same threshold given twice is judged once.
    let mut seen = std::collections::BTreeSet::new();
    thresholds.retain(|t| seen.insert(t.to_string()));
    if thresholds.is_empty() {
        return None;
    }

    let workloads = run_workloads(detail);
    let is_scale = |name: &str| match &plan {
        Ok(plan) => plan.workloads.iter().any(|w| {
            w.name == name
                && (!w.sweep.is_empty()
                    || w.capacity.is_some()
                    || matches!(w.kind, crate::suite::WorkloadKind::Idle(_)))
        }),
        Err(_) => detail
            .trials
            .iter()
            .any(|t| t.workload == name && t.metrics.point.is_some()),
    };
    let sweep_of = |name: &str| {
        detail
            .settings
            .iter()
            .flat_map(|s| &s.workloads)
            .find(|w| w.name == name)
            .and_then(|w| w.workers.as_ref().map(|p| p.sweep.clone()))
    };
    let mut results = Vec::new();
    for t in &thresholds {
        let chosen_workloads: Vec<&str> = match &t.workload {
            Some(name) => {
                let points: Vec<&str> = workloads
                    .iter()
                    .map(String::as_str)
                    .filter(|w| w == name || sweep_of(w).as_deref() == Some(name.as_str()))
                    .collect();
                if points.is_empty() {
                    results.push(no_data(
                        t,
                        Some(name),
                        t.contestant.as_deref(),
                        format!(
                            "workload '{name}' is not in this run (its workloads: {})",
                            workloads.join(", ")
                        ),
                    ));
                    continue;
                }
                points
            }
            None => workloads
                .iter()
                .map(String::as_str)
                .filter(|w| !is_scale(w))
                .collect(),
        };
        let chosen_contestants: Vec<&str> = match &t.contestant {
            Some(name) => vec![name.as_str()],
            None => detail.contestants.iter().map(|c| c.name.as_str()).collect(),
        };
        for w in &chosen_workloads {
            for c in &chosen_contestants {
                results.push(judge_one(t, detail, w, c, is_scale(w)));
            }
        }
        if chosen_workloads.is_empty() || chosen_contestants.is_empty() {
            results.push(no_data(
                t,
                t.workload.as_deref(),
                t.contestant.as_deref(),
                "the run has no plain workload or no contestant to judge it on".into(),
            ));
        }
    }
    Some(GateReport::of(results))
}

/// The run's workloads: as stored in its settings, else as its trials name them.
fn run_workloads(detail: &RunDetail) -> Vec<String> {
    let mut names: Vec<String> = detail
        .settings
        .iter()
        .flat_map(|s| s.workloads.iter().map(|w| w.name.clone()))
        .collect();
    for t in &detail.trials {
        if !names.contains(&t.workload) {
            names.push(t.workload.clone());
        }
    }
    names
}

fn warning(message: String) -> ReportWarning {
    ReportWarning {
        kind: "gate".into(),
        contestant: None,
        workload: None,
        message,
    }
}

fn no_data(
    t: &Threshold,
    workload: Option<&str>,
    contestant: Option<&str>,
    why: String,
) -> GateResult {
    GateResult {
        threshold: t.to_string(),
        source: t.source,
        workload: workload.map(str::to_string),
        contestant: contestant.map(str::to_string),
        metric: t.metric,
        op: t.op,
        limit: t.limit,
        figure: None,
        outcome: Outcome::NoData,
        reason: format!("no data: {why}"),
    }
}

/// `t` on contestant `c` in workload `w`.
fn judge_one(t: &Threshold, detail: &RunDetail, w: &str, c: &str, scale: bool) -> GateResult {
    let missing = |why: String| no_data(t, Some(w), Some(c), why);
    let Some(record) = detail.contestants.iter().find(|r| r.name == c) else {
        let names: Vec<&str> = detail.contestants.iter().map(|c| c.name.as_str()).collect();
        return missing(format!(
            "contestant '{c}' is not in this run (its contestants: {})",
            names.join(", ")
        ));
    };
    if scale {
        return missing(format!(
            "'{w}' is a sweep, capacity or idle workload; thresholds judge plain trials (see \
             its own section of the report)"
        ));
    }
    if record.status != ContestantStatus::Measured {
        let status = record.status.as_str();
        let note = record.note.lines().next().unwrap_or_default();
        return missing(if note.is_empty() {
            format!("{c} was not measured ({status})")
        } else if note.starts_with(status) {
            format!("{c} was not measured: {note}")
        } else {
            format!("{c} was not measured ({status}): {note}")
        });
    }
    let all: Vec<&TrialRecord> = detail
        .trials
        .iter()
        .filter(|r| r.workload == w && r.contestant == c && r.metrics.point.is_none())
        .collect();
    let counted: Vec<&TrialRecord> = all.iter().copied().filter(|r| r.metrics.counts()).collect();
    if counted.is_empty() {
        let skip = detail.events.iter().find(|e| {
            e.kind == "skip"
                && e.workload.as_deref() == Some(w)
                && e.contestant.as_deref().is_none_or(|n| n == c)
        });
        return missing(match (skip, all.len()) {
            (Some(e), _) => e.message.clone(),
            (None, 0) => format!("{c} did not run {w}"),
            (None, n) => {
                format!("none of its {n} trials counts (crashed, no response, or replaced)")
            }
        });
    }
    let samples: Vec<f64> = counted.iter().filter_map(|r| sample(t.metric, r)).collect();
    let Some(interval) = stats::median_ci(&samples, CONFIDENCE) else {
        return missing(format!("its trials recorded no {} figure", t.metric.name()));
    };
    let figure = Figure {
        interval,
        lower_bound: t.metric == Metric::Rps
            && counted
                .iter()
                .any(|r| super::build::engine_limit(r).is_some()),
    };
    let (outcome, reason) = gate::judge(t, &figure);
    GateResult {
        threshold: t.to_string(),
        source: t.source,
        workload: Some(w.to_string()),
        contestant: Some(c.to_string()),
        metric: t.metric,
        op: t.op,
        limit: t.limit,
        figure: Some(figure),
        outcome,
        reason,
    }
}

/// One trial's figure for `metric`, in the metric's unit; `None` when the trial did not record
/// it (memory not sampled).
fn sample(metric: Metric, r: &TrialRecord) -> Option<f64> {
    let m = &r.metrics;
    let latency = |i: usize| Some(m.latency_us[i] as f64);
    match metric {
        Metric::Rps => Some(m.rps),
        Metric::P50 => latency(0),
        Metric::P90 => latency(1),
        Metric::P99 => latency(2),
        Metric::P999 => latency(3),
        Metric::Max => latency(4),
        Metric::Errors => Some(m.probe_outcome().error_rate),
        Metric::CpuPer1k => m.cpu_ms_per_1k.is_finite().then_some(m.cpu_ms_per_1k),
        Metric::Pss => (m.pss_mean_bytes > 0).then_some(m.pss_mean_bytes as f64),
    }
}

/// The gate table for a terminal: one row per threshold and result.
pub(super) fn term(gates: &GateReport, clean: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\ngates (95% intervals of the medians):");
    let rows: Vec<[String; 4]> = gates
        .results
        .iter()
        .map(|r| {
            [
                r.outcome.word().to_string(),
                clean(&r.threshold),
                clean(&format!(
                    "{} / {}",
                    r.workload.as_deref().unwrap_or("-"),
                    r.contestant.as_deref().unwrap_or("-")
                )),
                clean(&r.reason),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for r in &rows {
        let _ = writeln!(out, "  {:w0$}  {:w1$}  {:w2$}  {}", r[0], r[1], r[2], r[3]);
    }
    let _ = writeln!(out, "{}", gates.summary());
    out
}

/// The gate section of summary.md.
pub(super) fn markdown(out: &mut String, gates: &GateReport, esc: impl Fn(&str) -> String) {
    let _ = writeln!(out, "\n## Gates\n");
    let _ = writeln!(out, "{}\n", esc(&gates.summary()));
    let _ = writeln!(
        out,
        "| outcome | threshold | workload | contestant | figure and reason |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for r in &gates.results {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            esc(r.outcome.word()),
            esc(&r.threshold),
            esc(r.workload.as_deref().unwrap_or("—")),
            esc(r.contestant.as_deref().unwrap_or("—")),
            esc(&r.reason)
        );
    }
    let _ = writeln!(
        out,
        "\n*pass*: the whole 95% interval of the median is on the threshold's side; *FAIL*: the \
         whole interval is on the wrong side; *INCONCLUSIVE*: the interval straddles the limit \
         (fails the gate); *NO DATA*: no figure (fails the gate)."
    );
}

/// The gate section of the HTML page: the summary and one row of text per result (escaped by
/// the template), with the badge class of its outcome.
pub(super) fn html_context(gates: &GateReport) -> minijinja::Value {
    let rows: Vec<minijinja::Value> = gates
        .results
        .iter()
        .map(|r| {
            minijinja::context! {
                outcome => r.outcome.word(),
                class => match r.outcome {
                    Outcome::Pass => "good",
                    Outcome::Inconclusive => "warn",
                    Outcome::Fail | Outcome::NoData => "bad",
                },
                threshold => &r.threshold,
                workload => r.workload.as_deref().unwrap_or("—"),
                contestant => r.contestant.as_deref().unwrap_or("—"),
                reason => &r.reason,
            }
        })
        .collect();
    minijinja::context! {
        passed => gates.passed,
        summary => gates.summary(),
        rows => rows,
    }
}
