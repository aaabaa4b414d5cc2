//! The "Cores" section (issue 10, part 5): per worker sweep of the run, per contestant and
//! worker count, the throughput, the cores the server actually used, its PSS and the scaling
//! efficiency throughput(w) / (w x throughput(1)). With one worker the Python contestants run
//! threads in one process and with more they run processes, so the sweep of a CPU-bound
//! workload is the GIL test: "cores used" at one worker is what threads give.
//!
//! The figures come from the per-workload results (each sweep point is a workload of its own)
//! and from each trial's [`crate::store::TrialCores`]; this file only regroups and formats them,
//! the same way for every format.

use serde::Serialize;

use super::format::{self, MISSING};
use super::svg::{self, Bar};
use super::{Estimate, Standing, WorkloadReport};
use crate::stats;
use crate::store::RunDetail;

/// One worker sweep of the run.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerSweep {
    /// The sweep's name as written in the suite; its points are `<sweep>.w<workers>`.
    pub sweep: String,
    /// The servers ran on every CPU of the run, the load engine's included.
    pub share_engine_cpus: bool,
    /// The worker counts, ascending.
    pub worker_counts: Vec<u32>,
    /// One row per contestant, in the run's order.
    pub rows: Vec<SweepRow>,
}

/// One contestant across the points of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
    /// Its manifest's deployment (server and process model); `None` without a note.
    pub deployment: Option<String>,
    /// One point per entry of [`WorkerSweep::worker_counts`].
    pub points: Vec<SweepPoint>,
}

/// One contestant at one worker count.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// `WORKERS`.
    pub workers: u32,
    /// The point's workload name.
    pub workload: String,
    /// Requests per second, median over counted trials with its interval; `None` without
    /// figures.
    pub rps: Option<Estimate>,
    /// Cores the server used (CPU-seconds over wall seconds), median over counted trials.
    pub cores_used: Option<f64>,
    /// Mean PSS of the process group over counted trials (bytes).
    pub pss_mean_bytes: Option<u64>,
    /// `rps(w) / (w x rps(1))` from the medians; `None` unless both figures are ranked (not
    /// lower bounds) and there is a 1-worker point.
    pub efficiency: Option<f64>,
    /// Highest share of the shared CPUs the load engine used in a counted trial; `None` when it
    /// had CPUs of its own.
    pub engine_cpu_share: Option<f64>,
    /// Why the figure is not ranked (a lower bound) or missing; `None` for a ranked figure.
    pub not_ranked: Option<String>,
}

/// The sweeps of a run, from its stored workload settings and the per-workload results.
pub fn sweeps(detail: &RunDetail, workloads: &[WorkloadReport]) -> Vec<WorkerSweep> {
    let Some(settings) = &detail.settings else {
        return Vec::new();
    };
    let mut out: Vec<WorkerSweep> = Vec::new();
    // (sweep, workers) → the point's workload name, as the run stored it.
    let mut names: Vec<(&str, u32, &str)> = Vec::new();
    for w in &settings.workloads {
        let Some(point) = &w.workers else { continue };
        names.push((&point.sweep, point.workers, &w.name));
        match out.iter_mut().find(|s| s.sweep == point.sweep) {
            Some(s) => s.worker_counts.push(point.workers),
            None => out.push(WorkerSweep {
                sweep: point.sweep.clone(),
                share_engine_cpus: point.share_engine_cpus,
                worker_counts: vec![point.workers],
                rows: Vec::new(),
            }),
        }
    }
    for sweep in &mut out {
        sweep.worker_counts.sort_unstable();
        sweep.worker_counts.dedup();
        let point_name = |w: u32| {
            names
                .iter()
                .find(|(s, n, _)| *s == sweep.sweep && *n == w)
                .map_or_else(String::new, |(_, _, name)| name.to_string())
        };
        for c in &detail.contestants {
            let measured = sweep.worker_counts.iter().any(|&w| {
                let name = point_name(w);
                detail
                    .trials
                    .iter()
                    .any(|t| t.workload == name && t.contestant == c.name)
            });
            if !measured {
                continue;
            }
            let mut points: Vec<SweepPoint> = sweep
                .worker_counts
                .iter()
                .map(|&w| point(detail, workloads, &c.name, w, point_name(w)))
                .collect();
            // From ranked figures only: a lower bound on either side would make it a guess.
            let ranked = |p: &SweepPoint| p.rps.filter(|_| p.not_ranked.is_none());
            let one = points
                .iter()
                .find(|p| p.workers == 1)
                .and_then(|p| ranked(p).map(|e| e.median));
            for p in &mut points {
                p.efficiency = match (one, ranked(p)) {
                    (Some(base), Some(e)) if base > 0.0 => {
                        Some(e.median / (f64::from(p.workers) * base))
                    }
                    _ => None,
                };
            }
            sweep.rows.push(SweepRow {
                name: c.name.clone(),
                display_name: c.display_name.clone(),
                stack: c.stack.clone(),
                deployment: c.deployment.as_ref().map(|d| d.server.clone()),
                points,
            });
        }
    }
    out
}

fn point(
    detail: &RunDetail,
    workloads: &[WorkloadReport],
    contestant: &str,
    workers: u32,
    workload: String,
) -> SweepPoint {
    let result = workloads
        .iter()
        .find(|w| w.name == workload)
        .and_then(|w| w.results.iter().find(|r| r.name == contestant));
    let counted: Vec<_> = detail
        .trials
        .iter()
        .filter(|t| t.workload == workload && t.contestant == contestant && t.metrics.counts())
        .filter_map(|t| t.metrics.cores.as_ref())
        .collect();
    let cores: Vec<f64> = counted.iter().filter_map(|c| c.cores_used).collect();
    let engine_cpu_share = counted
        .iter()
        .filter_map(|c| c.engine_cpu_share)
        .reduce(f64::max);
    let skipped = || {
        detail
            .events
            .iter()
            .find(|e| {
                e.workload.as_deref() == Some(&workload)
                    && e.contestant.as_deref() == Some(contestant)
            })
            .map_or_else(|| "not measured".to_string(), |e| e.message.clone())
    };
    let not_ranked = match result {
        None => Some(skipped()),
        Some(r) if r.standing == Standing::NoData => r.no_data.clone(),
        Some(r) => r.engine_limited.clone(),
    };
    SweepPoint {
        workers,
        rps: result.and_then(|r| r.rps),
        cores_used: stats::median(&cores),
        pss_mean_bytes: result.and_then(|r| r.pss_mean_bytes),
        efficiency: None,
        engine_cpu_share,
        not_ranked,
        workload,
    }
}

/// A point's figures as text, the same in every format.
pub struct PointText {
    /// Requests per second (`≥` for a lower bound, `no data` without figures).
    pub rps: String,
    /// Relative half-width of its interval.
    pub pm: String,
    /// Cores used, two decimals.
    pub cores: String,
    /// Mean PSS in MiB.
    pub pss: String,
    /// Scaling efficiency as a percentage.
    pub efficiency: String,
    /// The engine's share of shared CPUs, as a percentage.
    pub engine: String,
}

impl PointText {
    /// Formats `p`.
    pub fn of(p: &SweepPoint) -> PointText {
        let lower_bound = p.rps.is_some() && p.not_ranked.is_some();
        PointText {
            rps: match p.rps {
                None => "no data".into(),
                Some(e) if lower_bound => format!("≥ {}", format::rps(e.median)),
                Some(e) => format::rps(e.median),
            },
            pm: format::or_missing(p.rps.filter(|_| !lower_bound), |e| format::half_width(&e)),
            cores: format::or_missing(p.cores_used, |c| format!("{c:.2}")),
            pss: format::or_missing(p.pss_mean_bytes, format::mib),
            efficiency: format::or_missing(p.efficiency, |e| format!("{:.0}%", e * 100.0)),
            engine: format::or_missing(p.engine_cpu_share, |s| format!("{:.1}%", s * 100.0)),
        }
    }
}

/// What the section says about a sweep, one paragraph.
pub fn explain(s: &WorkerSweep) -> String {
    let cpus = if s.share_engine_cpus {
        format!(
            " The servers ran on every CPU of the run, the load engine's included; a trial in \
             which the engine took more than {:.0}% of those CPUs is a lower bound, not ranked.",
            crate::suite::cores::ENGINE_SHARE_MAX * 100.0
        )
    } else {
        String::new()
    };
    format!(
        "Each contestant restarted with WORKERS = {}. Cores used: the server's CPU-seconds over \
         the trial's wall seconds. Efficiency: req/s at w workers over w times req/s at 1. With \
         one worker the Python servers run threads in one process (see their deployment), so \
         cores used at 1 worker shows what threads get past the GIL; with more they run \
         processes.{cpus}",
        s.worker_counts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The section as plain-text tables; `clean` strips control characters.
pub fn term(sweeps: &[WorkerSweep], clean: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    for s in sweeps {
        out.push_str(&format!("\ncores: {}\n", clean(&s.sweep)));
        let mut rows = vec![[
            "contestant".to_string(),
            "workers".into(),
            "req/s".into(),
            "±".into(),
            "cores used".into(),
            "PSS MiB".into(),
            "efficiency".into(),
            "engine".into(),
        ]];
        for r in &s.rows {
            for (k, p) in r.points.iter().enumerate() {
                let t = PointText::of(p);
                let who = if k == 0 {
                    format!("{} ({})", clean(&r.display_name), clean(&r.stack))
                } else {
                    String::new()
                };
                rows.push([
                    who,
                    p.workers.to_string(),
                    t.rps,
                    t.pm,
                    t.cores,
                    t.pss,
                    t.efficiency,
                    t.engine,
                ]);
            }
        }
        let widths: Vec<usize> = (0..8)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i] - cell.chars().count());
                if i == 0 {
                    line.push_str(&format!("{cell}{pad}"));
                } else {
                    line.push_str(&format!("  {pad}{cell}"));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for r in &s.rows {
            for p in r.points.iter().filter(|p| p.not_ranked.is_some()) {
                out.push_str(&format!(
                    "  {} at {} workers: {}\n",
                    clean(&r.display_name),
                    p.workers,
                    clean(p.not_ranked.as_deref().unwrap_or(MISSING))
                ));
            }
        }
    }
    out
}

/// The section in Markdown; `esc` escapes a table cell.
pub fn markdown(sweeps: &[WorkerSweep], esc: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    for s in sweeps {
        out.push_str(&format!(
            "\n## Cores: {}\n\n{}\n\n",
            esc(&s.sweep),
            esc(&explain(s))
        ));
        out.push_str(
            "| contestant | deployment | workers | req/s | ± | cores used | PSS MiB | efficiency | engine share | note |\n",
        );
        out.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
        for r in &s.rows {
            for p in &r.points {
                let t = PointText::of(p);
                out.push_str(&format!(
                    "| {} ({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    esc(&r.display_name),
                    esc(&r.stack),
                    esc(r.deployment.as_deref().unwrap_or(MISSING)),
                    p.workers,
                    t.rps,
                    t.pm,
                    t.cores,
                    t.pss,
                    t.efficiency,
                    t.engine,
                    esc(p.not_ranked.as_deref().unwrap_or("")),
                ));
            }
        }
    }
    out
}

/// The charts of one sweep as SVG: requests per second and cores used, one bar per contestant
/// and worker count, in the contestant's colour.
pub fn charts(s: &WorkerSweep, color: &dyn Fn(&str) -> usize) -> (String, String) {
    let mut rps = Vec::new();
    let mut cores = Vec::new();
    for r in &s.rows {
        for p in &r.points {
            let label = format!(
                "{} · {} worker{}",
                r.display_name,
                p.workers,
                if p.workers == 1 { "" } else { "s" }
            );
            let t = PointText::of(p);
            if let Some(e) = p.rps {
                rps.push(Bar {
                    label: label.clone(),
                    color: color(&r.name),
                    value: e.median,
                    interval: p.not_ranked.is_none().then_some((e.lo, e.hi)),
                    marker: None,
                    value_text: format!("{} req/s", t.rps),
                });
            }
            if let Some(c) = p.cores_used {
                cores.push(Bar {
                    label,
                    color: color(&r.name),
                    value: c,
                    interval: None,
                    marker: None,
                    value_text: format!("{} cores", t.cores),
                });
            }
        }
    }
    (
        svg::bar_chart(
            &format!("{}: requests per second by worker count", s.sweep),
            "requests per second",
            &rps,
            format::plain,
            svg::WIDE,
        ),
        svg::bar_chart(
            &format!("{}: cores the server used by worker count", s.sweep),
            "cores used (CPU-s / wall-s)",
            &cores,
            format::plain,
            svg::WIDE,
        ),
    )
}

/// What the HTML template needs besides the data: per sweep its explanation, its charts
/// (marked safe: built by [`svg`], which escapes) and each point's cells as text (escaped by
/// the template).
pub fn html(sweeps: &[WorkerSweep], color: &dyn Fn(&str) -> usize) -> Vec<minijinja::Value> {
    use minijinja::{context, Value};
    sweeps
        .iter()
        .map(|s| {
            let (throughput, cores) = charts(s, color);
            let rows: Vec<Vec<Value>> = s
                .rows
                .iter()
                .map(|r| {
                    r.points
                        .iter()
                        .map(|p| {
                            let t = PointText::of(p);
                            context! {
                                rps => t.rps,
                                pm => t.pm,
                                cores => t.cores,
                                pss => t.pss,
                                efficiency => t.efficiency,
                                engine => t.engine,
                            }
                        })
                        .collect()
                })
                .collect();
            context! {
                explain => explain(s),
                throughput => Value::from_safe_string(throughput),
                cores => Value::from_safe_string(cores),
                rows => rows,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReportData;
    use crate::store::{
        ContestantRecord, ContestantStatus, Event, RunRow, RunSettings, RunStatus, TrialCores,
        TrialMetrics, TrialRecord, WorkloadSettings,
    };
    use crate::suite::WorkerPoint;

    fn contestant(name: &str) -> ContestantRecord {
        ContestantRecord {
            name: name.into(),
            display_name: name.to_uppercase(),
            stack: "Python".into(),
            language: "Python".into(),
            framework: "F".into(),
            versions: serde_json::json!({}),
            status: ContestantStatus::Measured,
            verify: serde_json::json!([]),
            note: String::new(),
            runtime: None,
            deployment: None,
        }
    }

    fn trial(contestant: &str, workers: u32, round: u32, rps: f64, cores: f64) -> TrialRecord {
        let metrics: TrialMetrics = serde_json::from_value(serde_json::json!({
            "duration_s": 1.0, "requests": rps as u64, "rps": rps, "errors": 0,
            "errors_by_kind": {}, "status": {}, "latency_us": [1, 2, 3, 4, 5],
            "latency_uncorrected_us": [1, 2, 3, 4, 5], "latency_mean_us": 2.0, "late_sends": 0,
            "server_cpu_s": cores, "cpu_ms_per_1k": 1.0, "pss_mean_bytes": workers << 20,
            "pss_peak_bytes": workers << 20, "rss_peak_bytes": 1, "engine_cpu_s": 0.01,
            "engine_busiest": 0.1, "timeline_rps": [], "crashed": false,
        }))
        .unwrap();
        TrialRecord {
            workload: format!("compute.w{workers}"),
            contestant: contestant.into(),
            round,
            started_at: String::new(),
            metrics: TrialMetrics {
                cores: Some(TrialCores {
                    workers,
                    server_cpus: vec![0, 1],
                    shares_engine_cpus: true,
                    cores_used: Some(cores),
                    engine_cpu_share: Some(0.01),
                }),
                ..metrics
            },
            histogram: Vec::new(),
            histogram_uncorrected: Vec::new(),
        }
    }

    fn detail() -> RunDetail {
        let point = |workers| WorkloadSettings {
            name: format!("compute.w{workers}"),
            workers: Some(WorkerPoint {
                sweep: "compute".into(),
                workers,
                share_engine_cpus: true,
            }),
            ..WorkloadSettings::default()
        };
        let mut trials = Vec::new();
        for round in 1..=3 {
            let r = f64::from(round);
            trials.push(trial("threads", 1, round, 300.0 + r, 1.0));
            trials.push(trial("threads", 2, round, 450.0 + r, 1.5 + 0.1 * r));
            trials.push(trial("solo", 1, round, 100.0, 0.9));
        }
        RunDetail {
            audits: Vec::new(),
            capacities: Vec::new(),
            run: RunRow {
                id: 1,
                started_at: String::new(),
                finished_at: None,
                status: RunStatus::Complete,
                suite_name: "cores".into(),
                suite_path: "builtin:cores".into(),
                suite_sha256: String::new(),
                trials: trials.len() as u64,
            },
            suite_toml: String::new(),
            environment: None,
            settings: Some(RunSettings {
                workloads: vec![point(1), point(2)],
                ..RunSettings::default()
            }),
            contestants: vec![contestant("threads"), contestant("solo")],
            trials,
            events: vec![Event {
                at: String::new(),
                contestant: Some("solo".into()),
                workload: Some("compute.w2".into()),
                kind: "skip".into(),
                message: "left out of compute.w2: its manifest allows at most 1 workers".into(),
            }],
        }
    }

    #[test]
    fn points_efficiency_and_missing_points() {
        let data = ReportData::from_run(&detail());
        assert_eq!(data.cores.len(), 1);
        let sweep = &data.cores[0];
        assert_eq!(
            (sweep.sweep.as_str(), &sweep.worker_counts),
            ("compute", &vec![1, 2])
        );
        let threads = &sweep.rows[0];
        assert_eq!(threads.name, "threads");
        let (one, two) = (&threads.points[0], &threads.points[1]);
        assert_eq!(one.efficiency, Some(1.0));
        // Medians 302 and 452: 452 / (2 x 302).
        assert!(
            (two.efficiency.unwrap() - 452.0 / 604.0).abs() < 1e-12,
            "{two:?}"
        );
        assert!((two.cores_used.unwrap() - 1.7).abs() < 1e-9, "{two:?}");
        assert_eq!(two.pss_mean_bytes, Some(2 << 20));
        assert_eq!(two.not_ranked, None);
        // A point that did not run is missing, with the reason, never zero.
        let solo = &sweep.rows[1].points[1];
        assert_eq!(
            (solo.rps, solo.cores_used, solo.efficiency),
            (None, None, None)
        );
        assert!(solo
            .not_ranked
            .as_deref()
            .unwrap()
            .contains("at most 1 workers"));
        let text = PointText::of(solo);
        assert_eq!(
            (text.rps.as_str(), text.cores.as_str()),
            ("no data", MISSING)
        );
        // Every format shows the section.
        let md = String::from_utf8(
            crate::report::Exporter::render(&crate::report::Markdown, &data).unwrap(),
        )
        .unwrap();
        assert!(
            md.contains("## Cores: compute") && md.contains("| 75% |"),
            "{md}"
        );
        let term = String::from_utf8(
            crate::report::Exporter::render(&crate::report::Term, &data).unwrap(),
        )
        .unwrap();
        assert!(
            term.contains("cores: compute") && term.contains("1.70"),
            "{term}"
        );
        let html = String::from_utf8(
            crate::report::Exporter::render(&crate::report::Html, &data).unwrap(),
        )
        .unwrap();
        assert!(
            html.contains("Cores: compute") && html.contains("cores used"),
            "{html}"
        );
    }
}
