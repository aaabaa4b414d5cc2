//! [`ReportData::from_run`]: reduces a stored run to the figures every report shows. All the
//! arithmetic of reports lives here, so the renderers only format.

use std::collections::BTreeMap;

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use serde_json::Value;

use super::{
    ContestantInfo, ContestantResult, CurvePoint, Estimate, Headline, KeyValue, Method, ReportData,
    ReportWarning, RunInfo, StackCell, StackRow, StackView, VerifyCheck, Who, WorkloadReport,
    CONFIDENCE, CURVE_PERCENTILES, DEFAULT_TARGET_REL_HALF_WIDTH, SCHEMA_VERSION,
};
use crate::stats::{self, Interval};
use crate::store::{ContestantRecord, RunDetail, TrialRecord};
use crate::warnings::{Warning, SATURATED_BUSY};

/// The stacks of the reference contestants, shown first in this order.
const REFERENCE_STACKS: [&str; 3] = ["Node.js", "Python", "Rust"];

impl ReportData {
    /// Computes a report from everything stored about one run. Never fails: a part that cannot
    /// be read (a corrupt histogram, a malformed verify list) becomes a warning or is left out.
    pub fn from_run(detail: &RunDetail) -> ReportData {
        let settings = &detail.settings;
        let target = lookup(settings, &["target_rel_half_width", "ci_target"])
            .and_then(Value::as_f64)
            .filter(|t| *t > 0.0)
            .unwrap_or(DEFAULT_TARGET_REL_HALF_WIDTH);
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

        for w in &workloads {
            for r in &w.results {
                if r.rps.rel_half_width > target {
                    warnings.push(ReportWarning {
                        kind: "high_variance".into(),
                        contestant: Some(r.name.clone()),
                        workload: Some(w.name.clone()),
                        message: Warning::HighVariance {
                            rel_half_width: r.rps.rel_half_width,
                            target_rel_half_width: target,
                            trials: r.trials as usize,
                        }
                        .to_string(),
                    });
                }
            }
        }
        warnings.extend(detail.events.iter().map(|e| ReportWarning {
            kind: e.kind.clone(),
            contestant: e.contestant.clone(),
            workload: e.workload.clone(),
            message: e.message.clone(),
        }));

        let trial_counts = workloads
            .iter()
            .flat_map(|w| w.results.iter().map(|r| r.trials));
        let method = Method {
            server_cpus: lookup_text(settings, &["server_cpus", "cpus.server", "server.cpus"]),
            engine_cpus: lookup_text(settings, &["engine_cpus", "cpus.engine", "engine.cpus"]),
            warmup: lookup_text(settings, &["warmup", "warmup_s", "warm_up", "warm_up_s"]),
            trial_duration: lookup_text(settings, &["trial_duration", "trial_duration_s"]),
            confidence: CONFIDENCE,
            target_rel_half_width: target,
            trials_total: detail.trials.len() as u64,
            trials_min: trial_counts.clone().min().unwrap_or(0),
            trials_max: trial_counts.max().unwrap_or(0),
            environment: flatten(&detail.environment),
            settings: flatten(settings),
            suite_toml: detail.suite_toml.clone(),
            reproduce: lookup(settings, &["command_line"])
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    // A built-in suite is stored as `builtin:NAME`; faceoff takes the bare name.
                    let suite = detail.run.suite_path.as_str();
                    let suite = suite.strip_prefix("builtin:").unwrap_or(suite);
                    format!("faceoff run --suite {suite}")
                }),
        };

        ReportData {
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
            stacks: stack_view(&contestants, &workloads),
            workloads,
            contestants,
            warnings,
            method,
        }
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
    for t in &detail.trials {
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

fn interval_of(e: &Estimate) -> Interval {
    Interval {
        point: e.median,
        lo: e.lo,
        hi: e.hi,
        coverage: e.coverage,
        short_of_confidence: e.short_of_confidence,
    }
}

/// Median of a trial figure, 0 when there is none.
fn median_of(trials: &[&TrialRecord], f: impl Fn(&TrialRecord) -> f64) -> f64 {
    let values: Vec<f64> = trials.iter().map(|t| f(t)).collect();
    stats::median(&values).unwrap_or(0.0)
}

/// One contestant's figures on one workload; not yet ranked.
fn summarize(
    who: Who,
    workload: &str,
    trials: &[&TrialRecord],
    warnings: &mut Vec<ReportWarning>,
) -> ContestantResult {
    let rps_samples: Vec<f64> = trials.iter().map(|t| t.metrics.rps).collect();
    let rps = stats::median_ci(&rps_samples, CONFIDENCE)
        .map(estimate)
        .unwrap_or(Estimate {
            median: 0.0,
            lo: 0.0,
            hi: 0.0,
            coverage: 0.0,
            short_of_confidence: true,
            rel_half_width: 0.0,
        });
    let mut errors_by_kind = BTreeMap::new();
    for t in trials {
        for (kind, n) in &t.metrics.errors_by_kind {
            *errors_by_kind.entry(kind.clone()).or_insert(0) += n;
        }
    }
    let engine_busiest = trials
        .iter()
        .map(|t| t.metrics.engine_busiest)
        .fold(0.0, f64::max);
    if engine_busiest >= SATURATED_BUSY {
        warnings.push(ReportWarning {
            kind: "engine_saturated".into(),
            contestant: Some(who.name.clone()),
            workload: Some(workload.to_string()),
            message: Warning::EngineSaturated {
                busiest: engine_busiest,
            }
            .to_string(),
        });
    }
    let latency_curve = match (
        merge_histograms(trials.iter().map(|t| &t.histogram)),
        merge_histograms(trials.iter().map(|t| &t.histogram_uncorrected)),
    ) {
        (Some(corrected), Some(uncorrected)) => curve(&corrected, &uncorrected),
        _ => {
            warnings.push(ReportWarning {
                kind: "unreadable_histogram".into(),
                contestant: Some(who.name.clone()),
                workload: Some(workload.to_string()),
                message: "a stored latency histogram could not be read, so the percentile curve \
                          is left out; the per-trial percentiles are still shown"
                    .into(),
            });
            Vec::new()
        }
    };
    let n = trials.len().max(1) as u64;
    ContestantResult {
        name: who.name,
        display_name: who.display_name,
        stack: who.stack,
        rank: 0,
        trials: trials.len() as u32,
        rps,
        rps_samples,
        ratio_to_first: 1.0,
        within_noise_of_first: None,
        p50_us: median_of(trials, |t| t.metrics.latency_us[0] as f64),
        p99_us: median_of(trials, |t| t.metrics.latency_us[2] as f64),
        p50_uncorrected_us: median_of(trials, |t| t.metrics.latency_uncorrected_us[0] as f64),
        p99_uncorrected_us: median_of(trials, |t| t.metrics.latency_uncorrected_us[2] as f64),
        max_us: trials
            .iter()
            .map(|t| t.metrics.latency_us[4])
            .max()
            .unwrap_or(0),
        latency_curve,
        cpu_ms_per_1k: median_of(trials, |t| t.metrics.cpu_ms_per_1k),
        pss_mean_bytes: trials.iter().map(|t| t.metrics.pss_mean_bytes).sum::<u64>() / n,
        pss_peak_bytes: trials
            .iter()
            .map(|t| t.metrics.pss_peak_bytes)
            .max()
            .unwrap_or(0),
        requests: trials.iter().map(|t| t.metrics.requests).sum(),
        errors: trials.iter().map(|t| t.metrics.errors).sum(),
        errors_by_kind,
        engine_busiest,
        crashed: trials.iter().any(|t| t.metrics.crashed),
    }
}

/// Sorts by median throughput (best first) and fills rank, ratio and "within noise of #1".
fn rank(mut results: Vec<ContestantResult>) -> Vec<ContestantResult> {
    results.sort_by(|a, b| {
        b.rps
            .median
            .total_cmp(&a.rps.median)
            .then_with(|| a.name.cmp(&b.name))
    });
    let Some(first) = results.first().map(|r| interval_of(&r.rps)) else {
        return results;
    };
    for (i, r) in results.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
        r.ratio_to_first = if first.point > 0.0 {
            r.rps.median / first.point
        } else {
            1.0
        };
        r.within_noise_of_first = (i > 0).then(|| stats::overlaps(&interval_of(&r.rps), &first));
    }
    results
}

/// Merges serialized HDR histograms exactly; `None` if any cannot be read.
fn merge_histograms<'a>(blobs: impl Iterator<Item = &'a Vec<u8>>) -> Option<Histogram<u64>> {
    let mut merged = Histogram::<u64>::new(3).expect("3 significant digits is valid");
    let mut deserializer = Deserializer::new();
    for blob in blobs {
        let h: Histogram<u64> = deserializer.deserialize(&mut blob.as_slice()).ok()?;
        merged.add(&h).ok()?;
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
    let first = w.results.first();
    let second = w.results.get(1);
    Headline {
        workload: w.name.clone(),
        winner: first.map(who),
        winner_rps: first.map(|r| r.rps.median),
        runner_up: second.map(who),
        runner_up_rps: second.map(|r| r.rps.median),
        margin_rel: match (first, second) {
            (Some(a), Some(b)) if b.rps.median > 0.0 => Some(a.rps.median / b.rps.median - 1.0),
            _ => None,
        },
        within_noise: second
            .and_then(|r| r.within_noise_of_first)
            .unwrap_or(false),
    }
}

/// The reference stacks first (when present), then other labels alphabetically.
fn stack_order(contestants: &[ContestantInfo]) -> Vec<String> {
    let mut stacks: Vec<String> = REFERENCE_STACKS
        .iter()
        .filter(|s| contestants.iter().any(|c| c.stack == **s))
        .map(|s| s.to_string())
        .collect();
    let mut others: Vec<String> = contestants
        .iter()
        .map(|c| c.stack.clone())
        .filter(|s| !REFERENCE_STACKS.contains(&s.as_str()))
        .collect();
    others.sort();
    others.dedup();
    stacks.extend(others);
    stacks
}

fn stack_view(contestants: &[ContestantInfo], workloads: &[WorkloadReport]) -> StackView {
    let stacks = stack_order(contestants);
    let rows = workloads
        .iter()
        .map(|w| {
            // Results are ranked, so the first of each stack is its best.
            let best: Vec<Option<&ContestantResult>> = stacks
                .iter()
                .map(|s| w.results.iter().find(|r| &r.stack == s))
                .collect();
            let leader = best
                .iter()
                .flatten()
                .map(|r| r.rank)
                .min()
                .and_then(|rank| w.results.iter().find(|r| r.rank == rank));
            let cells = best
                .into_iter()
                .map(|r| {
                    r.map(|r| {
                        let is_leader = leader.is_some_and(|l| l.rank == r.rank);
                        StackCell {
                            contestant: Who {
                                name: r.name.clone(),
                                display_name: r.display_name.clone(),
                                stack: r.stack.clone(),
                            },
                            rps: r.rps,
                            p99_us: r.p99_us,
                            cpu_ms_per_1k: r.cpu_ms_per_1k,
                            pss_mean_bytes: r.pss_mean_bytes,
                            leader: is_leader,
                            within_noise_of_leader: !is_leader
                                && leader.is_some_and(|l| {
                                    stats::overlaps(&interval_of(&r.rps), &interval_of(&l.rps))
                                }),
                        }
                    })
                })
                .collect();
            StackRow {
                workload: w.name.clone(),
                cells,
            }
        })
        .collect();
    StackView { stacks, rows }
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
        status: c.status.clone(),
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

/// The first of `keys` (dotted paths) present in `root`.
fn lookup<'a>(root: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|key| {
        key.split('.')
            .try_fold(root, |v, part| v.get(part))
            .filter(|v| !v.is_null())
    })
}

fn lookup_text(root: &Value, keys: &[&str]) -> Option<String> {
    let (key, value) = keys.iter().find_map(|k| Some((*k, lookup(root, &[k])?)))?;
    let mut s = text(value);
    if key.ends_with("_s") && value.is_number() {
        s.push_str(" s");
    }
    Some(s)
}

/// Flattens nested objects to dotted keys; arrays of scalars become one comma-joined value.
fn flatten(v: &Value) -> Vec<KeyValue> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<KeyValue>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{prefix}.{i}"), item, out);
                }
            }
            scalar => out.push(KeyValue {
                key: prefix.to_string(),
                value: text(scalar),
            }),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_nested_settings() {
        let kv = flatten(&json!({"cpus": {"server": [0, 1], "engine": [2]}, "warmup_s": 5}));
        let pairs: Vec<(&str, &str)> = kv
            .iter()
            .map(|kv| (kv.key.as_str(), kv.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("cpus.engine", "2"),
                ("cpus.server", "0,1"),
                ("warmup_s", "5")
            ]
        );
    }

    #[test]
    fn looks_up_dotted_keys() {
        let v = json!({"cpus": {"server": [0, 1]}, "warmup_s": 5});
        assert_eq!(
            lookup_text(&v, &["server_cpus", "cpus.server"]).as_deref(),
            Some("0,1")
        );
        assert_eq!(lookup_text(&v, &["warmup_s"]).as_deref(), Some("5 s"));
        assert_eq!(lookup_text(&v, &["nothing"]), None);
    }

    #[test]
    fn reference_stacks_come_first() {
        let info = |stack: &str| ContestantInfo {
            name: stack.into(),
            display_name: stack.into(),
            stack: stack.into(),
            language: String::new(),
            framework: String::new(),
            status: "measured".into(),
            versions: BTreeMap::new(),
            verify: Vec::new(),
            verify_passed: 0,
            verify_failed: 0,
            note: String::new(),
            runtime: None,
            deployment: None,
        };
        let order = stack_order(&[info("Go"), info("Rust"), info("Node.js"), info("Elixir")]);
        assert_eq!(order, ["Node.js", "Rust", "Elixir", "Go"]);
    }
}
