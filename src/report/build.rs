//! [`ReportData::from_run`]: reduces a stored run to the figures every report shows. All the
//! arithmetic of reports lives here, so the renderers only format.

use std::collections::BTreeMap;

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use serde_json::Value;

use super::{
    CellCount, ContestantInfo, ContestantResult, CurvePoint, Estimate, Headline, Method, QuietWait,
    ReportData, ReportWarning, RunInfo, Standing, Verdict, VerifyCheck, Who, WorkloadMethod,
    WorkloadReport, CONFIDENCE, CURVE_PERCENTILES, DEFAULT_TARGET_CI_REL, SCHEMA_VERSION,
};
use crate::stats::{self, Interval};
use crate::store::{ContestantRecord, RunDetail, TrialRecord};
use crate::warnings::{Warning, SATURATED_BUSY};

impl ReportData {
    /// Computes a report from everything stored about one run. Never fails: a part that cannot
    /// be read (a corrupt histogram, a malformed verify list) becomes a warning or is left out.
    pub fn from_run(detail: &RunDetail) -> ReportData {
        Self::from_run_gated(detail, &[])
    }

    /// As [`ReportData::from_run`], with `extra` thresholds judged beside the run's own (the
    /// suite's and those it ran with): `faceoff show --threshold`, `faceoff report --threshold`.
    pub fn from_run_gated(detail: &RunDetail, extra: &[crate::gate::Threshold]) -> ReportData {
        let settings = detail.settings.as_ref();
        let workload_settings =
            |name: &str| settings.and_then(|s| s.workloads.iter().find(|w| w.name == name));
        let mut warnings = Vec::new();

        let contestants: Vec<ContestantInfo> =
            detail.contestants.iter().map(contestant_info).collect();
        let workloads: Vec<WorkloadReport> = group_trials(detail)
            .into_iter()
            .map(|(workload, by_contestant)| {
                let results = by_contestant
                    .into_iter()
                    .map(|(name, trials)| {
                        let who = who(&detail.contestants, name);
                        summarize(who, workload, &trials, &mut warnings)
                    })
                    .collect();
                WorkloadReport {
                    name: workload.to_string(),
                    results: rank(results),
                }
            })
            .collect();

        let mut workload_methods = Vec::with_capacity(workloads.len());
        for w in &workloads {
            let settings = workload_settings(&w.name);
            let target = settings
                .map(|s| s.target_ci_rel)
                .filter(|t| *t > 0.0)
                .unwrap_or(DEFAULT_TARGET_CI_REL);
            let ranked: Vec<(&Estimate, u32)> = w
                .results
                .iter()
                .filter(|r| r.rank.is_some())
                .filter_map(|r| Some((r.rps.as_ref()?, r.trials)))
                .collect();
            let widest = ranked
                .iter()
                .copied()
                .max_by(|a, b| a.0.rel_half_width.total_cmp(&b.0.rel_half_width));
            let noisy = ranked
                .iter()
                .filter(|(e, _)| e.rel_half_width > target)
                .count();
            if let Some((e, trials)) = widest.filter(|_| noisy > 0) {
                warnings.push(ReportWarning {
                    kind: "high_variance".into(),
                    contestant: None,
                    workload: Some(w.name.clone()),
                    message: Warning::HighVariance {
                        noisy,
                        results: ranked.len(),
                        widest_rel: e.rel_half_width,
                        target_ci_rel: target,
                        trials: trials as usize,
                        short_of_confidence: e.short_of_confidence,
                        trial_s: settings.map(|s| s.trial_s),
                    }
                    .to_string(),
                });
            }
            workload_methods.push(WorkloadMethod {
                name: w.name.clone(),
                settings: settings.cloned(),
                widest_rel_half_width: widest.map(|(e, _)| e.rel_half_width),
                target_reached: widest.map(|_| noisy == 0),
            });
        }
        // The report raises variance warnings itself, once per workload; older runs also
        // stored one per contestant (issue 8: each warning once, by one rule). An idle step's
        // fresh start is a record of method, not a warning.
        warnings.extend(
            detail
                .events
                .iter()
                .filter(|e| e.kind != "high_variance" && e.kind != crate::store::RESTART_EVENT)
                .map(|e| ReportWarning {
                    kind: e.kind.clone(),
                    contestant: e.contestant.clone(),
                    workload: e.workload.clone(),
                    message: e.message.clone(),
                }),
        );
        // The machine's own speed over the run (issue 8).
        let workload_names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
        let machine_speed = super::speed::MachineSpeed::of(&detail.trials, &workload_names);
        // A warning stored once per trial says the same thing each time: show it once.
        let mut seen = std::collections::BTreeSet::new();
        warnings.retain(|w| {
            seen.insert((
                w.kind.clone(),
                w.contestant.clone(),
                w.workload.clone(),
                w.message.clone(),
            ))
        });

        let trial_counts = workloads
            .iter()
            .flat_map(|w| w.results.iter().map(|r| r.trials));
        let method = Method {
            server_cpus: settings.map(|s| s.server_cpus.clone()),
            load_cpus: settings.map(|s| s.load_cpus.clone()),
            workers: settings.map(|s| s.workers),
            order_seed: settings.and_then(|s| s.order_seed),
            noise: settings.and_then(|s| s.noise.clone()),
            database: settings.map(|s| super::format::database(s.database.as_ref())),
            confidence: CONFIDENCE,
            workloads: workload_methods,
            trials_total: detail.trials.len() as u64,
            trials_min: trial_counts.clone().min().unwrap_or(0),
            trials_max: trial_counts.max().unwrap_or(0),
            environment: detail.environment.clone(),
            contaminated: workloads
                .iter()
                .flat_map(|w| {
                    w.results
                        .iter()
                        .filter(|r| r.contaminated > 0)
                        .map(|r| CellCount {
                            workload: w.name.clone(),
                            contestant: r.name.clone(),
                            count: r.contaminated,
                        })
                })
                .collect(),
            quiet_wait: quiet_wait(&detail.trials),
            machine_speed: machine_speed.clone(),
            rows_within_10pct: ranked_estimates(&workloads)
                .filter(|e| e.rel_half_width <= 0.10)
                .count() as u32,
            rows_with_interval: ranked_estimates(&workloads).count() as u32,
            suite_toml: detail.suite_toml.clone(),
            reproduce: reproduce(detail),
        };

        // Issue 13: the thresholds, judged on the same counted trials.
        let gates = super::gates::evaluate(detail, extra, &mut warnings);
        let mut data = ReportData {
            schema: SCHEMA_VERSION,
            faceoff_version: env!("CARGO_PKG_VERSION").to_string(),
            run: RunInfo {
                id: detail.run.id,
                started_at: detail.run.started_at.clone(),
                finished_at: detail.run.finished_at.clone(),
                status: detail.run.status,
                suite_name: detail.run.suite_name.clone(),
                suite_path: detail.run.suite_path.clone(),
                suite_sha256: detail.run.suite_sha256.clone(),
            },
            headline: workloads.iter().map(headline).collect(),
            cores: super::cores::sweeps(detail, &workloads),
            comparison: None,
            stacks: super::stacks::view(&contestants, &workloads),
            workloads,
            contestants,
            warnings,
            method,
            audit: super::audit::section(detail),
            scale: super::scale::ScaleReport::from_run(detail),
            claims: Default::default(),
            verdicts: Vec::new(),
            gates,
        };
        // Issue 12: the claims and verdicts, from the figures above.
        match crate::verdict::Answer::of(&crate::verdict::Facts::from_report(&data)) {
            Ok(answer) => (data.claims, data.verdicts) = (answer.claims, answer.verdicts),
            // The figures stand without the verdicts: the report says why they are missing.
            Err(e) => data.warnings.push(ReportWarning {
                kind: "verdict".into(),
                contestant: None,
                workload: None,
                message: format!("the claims and verdicts are left out: {e}"),
            }),
        }
        data
    }
}

/// One workload's trials by contestant.
type ByContestant<'a> = Vec<(&'a str, Vec<&'a TrialRecord>)>;

/// Trials grouped by workload (in the order workloads first ran) and contestant (in the run's
/// contestant order, then any unknown name in the order it appears).
fn group_trials(detail: &RunDetail) -> Vec<(&str, ByContestant<'_>)> {
    let order = |name: &str| {
        detail
            .contestants
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(usize::MAX)
    };
    let mut groups: Vec<(&str, ByContestant<'_>)> = Vec::new();
    // Every try is grouped, replaced (contaminated) ones included, so a cell can say how many
    // there were; `TrialMetrics::counts` picks the ones its figures come from (issue 8).
    // Scale trials (with a point) have their own sections (report/scale.rs).
    for t in detail.trials.iter().filter(|t| t.metrics.point.is_none()) {
        let at = match groups.iter().position(|(w, _)| *w == t.workload) {
            Some(at) => at,
            None => {
                groups.push((&t.workload, Vec::new()));
                groups.len() - 1
            }
        };
        let by_contestant = &mut groups[at].1;
        match by_contestant.iter_mut().find(|(c, _)| *c == t.contestant) {
            Some((_, trials)) => trials.push(t),
            None => by_contestant.push((&t.contestant, vec![t])),
        }
    }
    for (_, by_contestant) in &mut groups {
        // A stable sort keeps unknown names in the order they appeared.
        by_contestant.sort_by_key(|(name, _)| order(name));
    }
    groups
}

fn who(contestants: &[ContestantRecord], name: &str) -> Who {
    match contestants.iter().find(|c| c.name == name) {
        Some(c) => Who {
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            stack: c.stack.clone(),
        },
        None => Who {
            name: name.to_string(),
            display_name: name.to_string(),
            stack: String::new(),
        },
    }
}

fn estimate(interval: Interval) -> Estimate {
    Estimate {
        median: interval.point,
        lo: interval.lo,
        hi: interval.hi,
        coverage: interval.coverage,
        short_of_confidence: interval.short_of_confidence,
        rel_half_width: interval.rel_half_width(),
    }
}

pub(super) fn interval_of(e: &Estimate) -> Interval {
    Interval {
        point: e.median,
        lo: e.lo,
        hi: e.hi,
        coverage: e.coverage,
        short_of_confidence: e.short_of_confidence,
    }
}

/// Median of a trial figure; `None` when no trial counts.
fn median_of(trials: &[&TrialRecord], f: impl Fn(&TrialRecord) -> f64) -> Option<f64> {
    let values: Vec<f64> = trials.iter().map(|t| f(t)).collect();
    stats::median(&values)
}

/// Why the load engine rather than the server limited a trial: the runner's record, or for
/// trials stored before it recorded one, a load thread on its CPU nearly all the time. The one
/// rule for lower bounds.
pub(super) fn engine_limit(t: &TrialRecord) -> Option<String> {
    let q = &t.metrics.quality;
    if let Some(reason) = &q.engine_limited {
        return Some(reason.clone());
    }
    let recorded = q.connections.is_some();
    (!recorded && t.metrics.engine_busiest >= SATURATED_BUSY).then(|| {
        format!(
            "a load thread was on its CPU {:.0}% of the time",
            t.metrics.engine_busiest * 100.0
        )
    })
}

/// One contestant's figures on one workload; not yet ranked.
fn summarize(
    who: Who,
    workload: &str,
    all: &[&TrialRecord],
    warnings: &mut Vec<ReportWarning>,
) -> ContestantResult {
    let trials: Vec<&TrialRecord> = all.iter().copied().filter(|t| t.metrics.counts()).collect();
    let contaminated = all
        .iter()
        .filter(|t| t.metrics.quality.contaminated)
        .count() as u32;
    let crashed_trials = all.iter().filter(|t| t.metrics.crashed).count() as u32;
    let silent: Vec<&TrialRecord> = all
        .iter()
        .copied()
        .filter(|t| {
            let m = &t.metrics;
            !m.quality.superseded && !m.crashed && m.requests == 0
        })
        .collect();
    let silent_trials = silent.len() as u32;
    // A silent trial whose server spent at least half a CPU on the window was working, not
    // stopped: every request it held took longer than the window.
    let busy_silent = silent
        .iter()
        .filter(|t| t.metrics.server_cpu_s >= 0.5 * t.metrics.duration_s)
        .count();
    let unanswered: u64 = all.iter().map(|t| t.metrics.quality.unanswered).sum();
    let unanswered_max_age_us = all
        .iter()
        .filter_map(|t| t.metrics.quality.unanswered_max_age_us)
        .max();

    let rps_samples: Vec<f64> = trials.iter().map(|t| t.metrics.rps).collect();
    let rps = stats::median_ci(&rps_samples, CONFIDENCE).map(estimate);
    let no_data = rps.is_none().then(|| {
        let mut why = Vec::new();
        if crashed_trials > 0 {
            why.push(format!("crashed in {crashed_trials}"));
        }
        if contaminated > 0 {
            why.push(format!(
                "{contaminated} contaminated by other work on the server CPUs"
            ));
        }
        if silent_trials > 0 {
            why.push(format!("no response in {silent_trials}"));
        }
        if why.is_empty() {
            "no trial gave a figure".to_string()
        } else {
            format!("of {} trials: {}", all.len(), why.join("; "))
        }
    });

    let limited: Vec<String> = trials.iter().filter_map(|t| engine_limit(t)).collect();
    let engine_limited = limited.first().map(|reason| {
        warnings.push(ReportWarning {
            kind: "engine_limited".into(),
            contestant: Some(who.name.clone()),
            workload: Some(workload.to_string()),
            message: Warning::EngineLimited {
                reason: reason.clone(),
                trials: limited.len(),
                of: trials.len(),
            }
            .to_string(),
        });
        reason.clone()
    });

    let p99_max = trials
        .iter()
        .map(|t| t.metrics.latency_us[2])
        .max()
        .unwrap_or(0);
    // A request in flight when the window closes is normal; one that has waited far longer
    // than any answer took means the server stopped answering.
    let stalled = unanswered_max_age_us.is_some_and(|age| age >= (10 * p99_max).max(1_000_000));
    let unanswered_fault = silent_trials > 0 || (unanswered > 0 && stalled);
    if unanswered_fault {
        warnings.push(ReportWarning {
            kind: "unanswered".into(),
            contestant: Some(who.name.clone()),
            workload: Some(workload.to_string()),
            message: Warning::Unanswered {
                requests: unanswered,
                oldest_us: unanswered_max_age_us,
                silent_trials: silent_trials as usize,
                busy_silent,
                trials: all.len(),
            }
            .to_string(),
        });
    }

    let mut errors_by_kind = BTreeMap::new();
    for t in &trials {
        for (kind, n) in &t.metrics.errors_by_kind {
            *errors_by_kind.entry(kind.clone()).or_insert(0) += n;
        }
    }
    let engine_busiest = all
        .iter()
        .map(|t| t.metrics.engine_busiest)
        .fold(0.0, f64::max);
    // p95 and min are not among the figures stored with each trial: they come from its
    // stored histogram, so runs stored before they were reported have them too.
    let read: Vec<Histogram<u64>> = trials
        .iter()
        .filter_map(|t| read_histogram(&t.histogram))
        .filter(|h| !h.is_empty())
        .collect();
    let p95_values: Vec<f64> = read
        .iter()
        .map(|h| h.value_at_quantile(0.95) as f64)
        .collect();
    let p95_us = stats::median(&p95_values);
    let min_us = read.iter().map(Histogram::min).min();
    let latency_curve = if trials.is_empty() {
        Vec::new()
    } else {
        match (
            merge_histograms(trials.iter().map(|t| &t.histogram)),
            merge_histograms(trials.iter().map(|t| &t.histogram_uncorrected)),
        ) {
            (Some(corrected), Some(uncorrected)) => curve(&corrected, &uncorrected),
            _ => {
                warnings.push(ReportWarning {
                    kind: "unreadable_histogram".into(),
                    contestant: Some(who.name.clone()),
                    workload: Some(workload.to_string()),
                    message: "a stored latency histogram could not be read, so the percentile \
                              curve is left out; the per-trial percentiles are still shown"
                        .into(),
                });
                Vec::new()
            }
        }
    };
    let pss_mean_bytes = (!trials.is_empty()).then(|| {
        trials.iter().map(|t| t.metrics.pss_mean_bytes).sum::<u64>() / trials.len() as u64
    });
    ContestantResult {
        name: who.name,
        display_name: who.display_name,
        stack: who.stack,
        rank: None,
        standing: if rps.is_none() {
            Standing::NoData
        } else if engine_limited.is_some() {
            Standing::LowerBound
        } else {
            Standing::Leader
        },
        trials: trials.len() as u32,
        trials_stored: all.len() as u32,
        contaminated,
        crashed_trials,
        silent_trials,
        no_data,
        engine_limited,
        rps,
        rps_samples,
        ratio_to_first: None,
        p50_us: median_of(&trials, |t| t.metrics.latency_us[0] as f64),
        p95_us,
        p99_us: median_of(&trials, |t| t.metrics.latency_us[2] as f64),
        p50_uncorrected_us: median_of(&trials, |t| t.metrics.latency_uncorrected_us[0] as f64),
        p99_uncorrected_us: median_of(&trials, |t| t.metrics.latency_uncorrected_us[2] as f64),
        min_us,
        max_us: trials.iter().map(|t| t.metrics.latency_us[4]).max(),
        latency_curve,
        cpu_ms_per_1k: median_of(&trials, |t| t.metrics.cpu_ms_per_1k),
        database_cpu_ms_per_1k: {
            let values: Vec<f64> = trials
                .iter()
                .filter_map(|t| t.metrics.database.map(|d| d.cpu_ms_per_1k))
                .collect();
            stats::median(&values)
        },
        pss_mean_bytes,
        pss_peak_bytes: trials.iter().map(|t| t.metrics.pss_peak_bytes).max(),
        requests: trials.iter().map(|t| t.metrics.requests).sum(),
        errors: trials.iter().map(|t| t.metrics.errors).sum(),
        errors_by_kind,
        unanswered,
        unanswered_max_age_us,
        unanswered_fault,
        engine_busiest,
        crashed: crashed_trials > 0,
        ws: super::ws::summarize(&trials),
    }
}

/// Where `r` stands against the leader `first` (both with figures, `r` ranked).
fn standing(r: &Estimate, first: &Estimate) -> Standing {
    if stats::overlaps(&interval_of(r), &interval_of(first)) {
        Standing::WithinNoise
    } else if r.short_of_confidence || first.short_of_confidence {
        Standing::Indicative
    } else {
        Standing::Behind
    }
}

/// Orders ranked results by median throughput (best first), then lower bounds, then results
/// without figures; fills rank, ratio to the leader and standing.
fn rank(mut results: Vec<ContestantResult>) -> Vec<ContestantResult> {
    let class = |r: &ContestantResult| match r.standing {
        Standing::NoData => 2,
        Standing::LowerBound => 1,
        _ => 0,
    };
    let median = |r: &ContestantResult| r.rps.map_or(0.0, |e| e.median);
    results.sort_by(|a, b| {
        class(a)
            .cmp(&class(b))
            .then_with(|| median(b).total_cmp(&median(a)))
            .then_with(|| a.name.cmp(&b.name))
    });
    let first = results
        .first()
        .filter(|r| class(r) == 0)
        .and_then(|r| r.rps);
    let mut place = 0;
    for r in &mut results {
        let (Some(first), Some(e)) = (first, r.rps) else {
            continue;
        };
        r.ratio_to_first = Some(e.median / first.median);
        if r.standing == Standing::LowerBound {
            continue;
        }
        place += 1;
        r.rank = Some(place);
        r.standing = if place == 1 {
            Standing::Leader
        } else {
            standing(&e, &first)
        };
    }
    results
}

/// Throughput intervals of the ranked results (a single trial has none).
fn ranked_estimates(workloads: &[WorkloadReport]) -> impl Iterator<Item = &Estimate> {
    workloads
        .iter()
        .flat_map(|w| w.results.iter())
        .filter(|r| r.rank.is_some())
        .filter_map(|r| r.rps.as_ref())
        .filter(|e| e.coverage > 0.0)
}

/// The wait for quiet server CPUs over the trials that recorded one.
fn quiet_wait(trials: &[TrialRecord]) -> Option<QuietWait> {
    let waits: Vec<f64> = trials
        .iter()
        .filter_map(|t| t.metrics.quality.quiet_wait_s)
        .collect();
    Some(QuietWait {
        trials: waits.len() as u32,
        median_s: stats::median(&waits)?,
        max_s: waits.iter().copied().fold(0.0, f64::max),
        not_quiet: trials
            .iter()
            .filter(|t| t.metrics.quality.quiet_at_start == Some(false))
            .count() as u32,
    })
}

/// Reads one serialized HDR histogram; `None` if it cannot be read.
fn read_histogram(blob: &[u8]) -> Option<Histogram<u64>> {
    Deserializer::new().deserialize(&mut &blob[..]).ok()
}

/// Merges serialized HDR histograms exactly; `None` if any cannot be read.
fn merge_histograms<'a>(blobs: impl Iterator<Item = &'a Vec<u8>>) -> Option<Histogram<u64>> {
    let mut merged = Histogram::<u64>::new(3).expect("3 significant digits is valid");
    for blob in blobs {
        merged.add(&read_histogram(blob)?).ok()?;
    }
    Some(merged)
}

fn curve(corrected: &Histogram<u64>, uncorrected: &Histogram<u64>) -> Vec<CurvePoint> {
    if corrected.is_empty() {
        return Vec::new();
    }
    let at = |h: &Histogram<u64>, p: f64| {
        if h.is_empty() {
            0
        } else {
            h.value_at_quantile(p / 100.0)
        }
    };
    CURVE_PERCENTILES
        .iter()
        .map(|&p| CurvePoint {
            percentile: p,
            corrected_us: at(corrected, p),
            uncorrected_us: at(uncorrected, p),
        })
        .collect()
}

fn headline(w: &WorkloadReport) -> Headline {
    let who = |r: &ContestantResult| Who {
        name: r.name.clone(),
        display_name: r.display_name.clone(),
        stack: r.stack.clone(),
    };
    let mut ranked = w.results.iter().filter(|r| r.rank.is_some());
    let first = ranked.next();
    let second = ranked.next();
    let median = |r: Option<&ContestantResult>| r.and_then(|r| r.rps).map(|e| e.median);
    Headline {
        workload: w.name.clone(),
        winner: first.map(who),
        winner_rps: median(first),
        runner_up: second.map(who),
        runner_up_rps: median(second),
        margin_rel: match (median(first), median(second)) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b - 1.0),
            _ => None,
        },
        verdict: match (first, second) {
            (None, _) => Verdict::NothingRanked,
            (Some(_), None) => Verdict::OnlyOne,
            (Some(_), Some(r)) => match r.standing {
                Standing::Behind => Verdict::Ahead,
                Standing::Indicative => Verdict::Indicative,
                _ => Verdict::WithinNoise,
            },
        },
        not_ranked: w.results.iter().filter(|r| r.rank.is_none()).count() as u32,
    }
}

fn contestant_info(c: &ContestantRecord) -> ContestantInfo {
    let versions = match &c.versions {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        _ => BTreeMap::new(),
    };
    let verify: Vec<VerifyCheck> = c
        .verify
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|v| VerifyCheck {
                    check: v
                        .get("check")
                        .or_else(|| v.get("name"))
                        .map(text)
                        .unwrap_or_default(),
                    passed: v.get("passed").and_then(Value::as_bool).unwrap_or(false),
                    detail: v.get("detail").map(text).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let passed = verify.iter().filter(|v| v.passed).count() as u32;
    ContestantInfo {
        name: c.name.clone(),
        display_name: c.display_name.clone(),
        stack: c.stack.clone(),
        language: c.language.clone(),
        framework: c.framework.clone(),
        status: c.status,
        versions,
        verify_passed: passed,
        verify_failed: verify.len() as u32 - passed,
        verify,
        note: c.note.clone(),
        runtime: c.runtime.clone(),
        deployment: c.deployment.clone(),
    }
}

/// A JSON value as text: strings without quotes, arrays of scalars joined with commas.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A command line that runs the same suite again on the same CPUs.
fn reproduce(detail: &RunDetail) -> String {
    // A built-in suite is stored as `builtin:NAME`; faceoff takes the bare name.
    let suite = detail.run.suite_path.as_str();
    let suite = suite.strip_prefix("builtin:").unwrap_or(suite);
    let mut line = format!("faceoff run --suite {suite}");
    if let Some(s) = &detail.settings {
        let cpus = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        line.push_str(&format!(
            " --server-cpus {} --load-cpus {} --workers {}",
            cpus(&s.server_cpus),
            cpus(&s.load_cpus),
            s.workers
        ));
    }
    line
}
