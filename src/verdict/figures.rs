//! The figures a test compares, gathered from [`Facts`] per side, and their text: split from
//! `judge.rs`, which decides on them.

use super::claims::{Measure, Precision, Side};
use super::cost::{self, Pricing};
use super::facts::Facts;
use super::judge::*;
use crate::report::format::group;

/// The rows of one side: every contestant standing for it, with its figure or why not.
pub(super) fn side_rows(
    side: &Side,
    role: Role,
    facts: &Facts,
    measure: Measure,
    workload: &str,
    pricing: &Pricing,
) -> Vec<Row> {
    let names: Vec<String> = match side {
        Side::Stack(stack) => facts
            .contestants
            .iter()
            .filter(|c| &c.stack == stack)
            .map(|c| c.name.clone())
            .collect(),
        Side::Contestants(names) => names.clone(),
    };
    names
        .into_iter()
        .map(|name| {
            let c = facts.contestant(&name);
            let figure = figure(facts, measure, workload, &name, pricing);
            let (value, note) = match &figure {
                Ok(f) if f.lower_bound => (
                    Some(*f),
                    Some("a lower bound: the load engine was the limit".to_string()),
                ),
                Ok(f) => (Some(*f), None),
                Err(why) => (None, Some(why.clone())),
            };
            let shown = match (&value, &note) {
                (Some(f), None) => show(measure, f),
                (Some(f), Some(n)) => format!("{} ({n})", show(measure, f)),
                (None, n) => n.clone().unwrap_or_default(),
            };
            Row {
                shown,
                role,
                display_name: c.map_or_else(|| name.clone(), |c| c.display_name.clone()),
                stack: c.map(|c| c.stack.clone()).unwrap_or_default(),
                framework: c.map(|c| c.framework.clone()).unwrap_or_default(),
                contestant: name,
                workload: workload.to_string(),
                value: value.map(|f| f.value),
                lo: value.map(|f| f.lo),
                hi: value.map(|f| f.hi),
                short_of_confidence: value.is_some_and(|f| f.short_of_confidence),
                trials: value.and_then(|f| f.trials),
                note,
                best: false,
            }
        })
        .collect()
}

/// The index of the row that stands for `role`: the best figure that is not a lower bound.
pub(super) fn best_row(rows: &[Row], role: Role, measure: Measure) -> Option<usize> {
    let key = |r: &Row| {
        let v = r.value.unwrap_or(f64::NAN);
        if measure.higher_is_better() {
            v
        } else {
            -v
        }
    };
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.role == role && r.note.is_none() && r.value.is_some_and(f64::is_finite))
        .max_by(|(_, a), (_, b)| key(a).total_cmp(&key(b)))
        .map(|(i, _)| i)
}

/// Exactly what is missing for one side: its contestants' reasons, grouped.
pub(super) fn side_missing(rows: &[Row], side: &Side, role: Role) -> String {
    let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
    for r in rows.iter().filter(|r| r.role == role) {
        let why = r.note.clone().unwrap_or_else(|| "no figure".into());
        match reasons.iter_mut().find(|(w, _)| *w == why) {
            Some((_, names)) => names.push(&r.contestant),
            None => reasons.push((why, vec![&r.contestant])),
        }
    }
    let who = side.label();
    if reasons.is_empty() {
        return format!("{who}: no contestant in this run");
    }
    let parts: Vec<String> = reasons
        .iter()
        .map(|(why, names)| match names.len() {
            1 => format!("{}: {why}", names[0]),
            n => format!("{why}, for all {n}"),
        })
        .collect();
    format!("{who} ({})", parts.join(", "))
}

/// One contestant's figure for `measure` on `workload`, or exactly why there is none.
pub(super) fn figure(
    facts: &Facts,
    measure: Measure,
    workload: &str,
    contestant: &str,
    pricing: &Pricing,
) -> Result<Figure, String> {
    match facts.contestant(contestant) {
        None => return Err("not in this run".into()),
        Some(c) if !c.measured => return Err("not measured in this run".into()),
        Some(_) => {}
    }
    let not_measured = || "not measured".to_string();
    let result = || {
        facts.result(workload, contestant).ok_or_else(|| {
            if facts.workload(workload).is_none() {
                format!("workload {workload} not in this run")
            } else {
                format!("did not run {workload}")
            }
        })
    };
    let some = |v: Option<f64>, what: &str| v.ok_or_else(|| format!("no {what} figure"));
    match measure {
        Measure::Throughput => {
            let r = result()?;
            let rps = r
                .rps
                .as_ref()
                .ok_or_else(|| r.no_data.clone().unwrap_or_else(not_measured))?;
            let mut f = Figure::interval(rps, Some(r.trials));
            f.lower_bound = r.engine_limited.is_some();
            Ok(f)
        }
        Measure::P99 => Ok(Figure::point(some(result()?.p99_us, "p99")?)),
        Measure::CpuPer1k => Ok(Figure::point(some(result()?.cpu_ms_per_1k, "CPU")?)),
        Measure::Pss => Ok(Figure::point(
            some(result()?.pss_mean_bytes.map(|b| b as f64), "memory")? / MIB,
        )),
        Measure::Capacity => facts
            .capacity(workload, contestant)
            .map(|c| Figure::interval(&c.rate_per_s, None))
            .ok_or_else(not_measured),
        Measure::CostPerMillion => {
            let cap = facts.capacity(workload, contestant).ok_or_else(|| {
                "capacity under the SLO not measured, so no cost (never guessed)".to_string()
            })?;
            let c = cost::estimate(cap, pricing, CLAIM_COST_TARGET_RPS, CLAIM_COST_HEADROOM);
            Ok(Figure {
                value: c.per_million.point,
                lo: c.per_million.lo,
                hi: c.per_million.hi.unwrap_or(f64::INFINITY),
                short_of_confidence: cap.rate_per_s.short_of_confidence,
                trials: None,
                lower_bound: false,
            })
        }
        Measure::IdlePssPer1k | Measure::IdleProbeP99 => {
            let idle = facts
                .idle
                .iter()
                .find(|i| i.workload == workload && i.contestant == contestant)
                .ok_or_else(not_measured)?;
            let value = idle.points.iter().rev().find_map(|p| {
                if measure == Measure::IdlePssPer1k {
                    p.pss_per_1k_bytes.map(|b| b / MIB)
                } else {
                    p.probe_p99_us
                }
            });
            value.map(Figure::point).ok_or_else(not_measured)
        }
        Measure::WsMessages | Measure::WsDelivered => {
            let ws = facts
                .ws
                .iter()
                .find(|w| w.workload == workload && w.contestant == contestant)
                .ok_or_else(not_measured)?;
            if measure == Measure::WsMessages {
                ws.messages_per_s
                    .as_ref()
                    .map(|i| Figure::interval(i, None))
                    .ok_or_else(not_measured)
            } else {
                match (ws.delivered, ws.expected) {
                    (Some(d), Some(e)) if e > 0 => Ok(Figure::point(d as f64 / e as f64)),
                    _ => Err("no delivery count".into()),
                }
            }
        }
        Measure::ScalingEfficiency => facts
            .worker_sweeps
            .iter()
            .filter(|s| s.workload == workload && s.contestant == contestant)
            .filter_map(|s| s.points.iter().rev().find_map(|p| p.efficiency))
            .max_by(f64::total_cmp)
            .map(Figure::point)
            .ok_or_else(not_measured),
        Measure::AuditScore | Measure::Dependencies => {
            let audit = facts
                .audit
                .iter()
                .find(|a| a.contestant == contestant)
                .ok_or_else(|| "no audit stored with this run".to_string())?;
            let v = if measure == Measure::AuditScore {
                audit.score.map(f64::from)
            } else {
                audit.deps_total.map(f64::from)
            };
            v.map(Figure::point)
                .ok_or_else(|| format!("the audit has no {}", measure.unit()))
        }
    }
}

/// The crossovers of one per-size test: where its ratio passes the threshold between two
/// consecutive sizes.
pub(super) fn find_crossovers(judged: &[JudgedTest]) -> Vec<Crossover> {
    let mut out = Vec::new();
    for pair in judged.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (Some(ra), Some(rb), Some(na), Some(nb)) = (a.ratio, b.ratio, a.size, b.size) else {
            continue;
        };
        let t = a.threshold;
        if (ra.point >= t) == (rb.point >= t) {
            continue;
        }
        let (la, lb) = (ra.point.ln(), rb.point.ln());
        let estimate = (la != lb && la.is_finite() && lb.is_finite()).then(|| {
            let x = (na as f64).ln()
                + (t.ln() - la) * ((nb as f64).ln() - (na as f64).ln()) / (lb - la);
            x.exp()
        });
        out.push(Crossover {
            sides: format!("{} vs {}", a.favoured, a.other),
            below: na,
            above: nb,
            below_outcome: a.outcome,
            above_outcome: b.outcome,
            estimate,
        });
    }
    out
}

/// A figure with its interval and unit, for sentences.
pub(super) fn show(measure: Measure, f: &Figure) -> String {
    let v = |x: f64| value_text(measure, x);
    if measure.precision() == Precision::Interval && (f.lo != f.value || f.hi != f.value) {
        format!(
            "{} {} [{} – {}]",
            v(f.value),
            measure.unit(),
            v(f.lo),
            v(f.hi)
        )
    } else {
        format!("{} {}", v(f.value), measure.unit())
    }
}

/// A number as the measure's figures are written.
pub fn value_text(measure: Measure, v: f64) -> String {
    if !v.is_finite() {
        return "unbounded".into();
    }
    match measure {
        Measure::Throughput | Measure::Capacity | Measure::WsMessages => {
            if v >= 100.0 {
                group(v.round() as u64)
            } else {
                format!("{v:.1}")
            }
        }
        Measure::P99 | Measure::IdleProbeP99 => group(v.round() as u64),
        Measure::CostPerMillion => format!("{v:.4}"),
        Measure::CpuPer1k | Measure::Pss | Measure::IdlePssPer1k => format!("{v:.1}"),
        Measure::WsDelivered | Measure::ScalingEfficiency => format!("{v:.3}"),
        Measure::AuditScore | Measure::Dependencies => format!("{v:.0}"),
    }
}

pub(super) fn ratio_text(r: f64) -> String {
    if !r.is_finite() {
        "∞".into()
    } else if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

pub(super) fn pct(f: f64) -> String {
    format!("{}%", (f * 1000.0).round() / 10.0)
}
