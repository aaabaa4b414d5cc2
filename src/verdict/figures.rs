//! The figures a test compares, gathered from [`Facts`] per side, and their text: split from
//! `judge.rs`, which decides on them.

use super::claims::{Measure, Precision, Side};
use super::cost::{self, Pricing};
use super::facts::Facts;
use super::judge::*;
use crate::units::group;

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
            let mut shown = match (&value, &note) {
                (Some(f), None) => show(measure, f),
                (Some(f), Some(n)) => format!("{} ({n})", show(measure, f)),
                (None, n) => n.clone().unwrap_or_default(),
            };
            if let Some(d) = figure_detail(facts, measure, workload, &name) {
                shown.push_str(&format!(" · {d}"));
            }
            Row {
                shown,
                role,
                display_name: c.map_or_else(|| name.clone(), |c| c.display_name.clone()),
                stack: c.map(|c| c.stack.clone()).unwrap_or_default(),
                framework: c.map(|c| c.framework.clone()).unwrap_or_default(),
                contestant: name,
                workload: workload.to_string(),
                run_id: Some(facts.run_id),
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
        None => return Err(format!("not in run {}", facts.run_id)),
        Some(c) if !c.measured => return Err(format!("not measured in run {}", facts.run_id)),
        Some(_) => {}
    }
    let not_measured = || "not measured".to_string();
    let result = || {
        facts.result(workload, contestant).ok_or_else(|| {
            if facts.workload(workload).is_none() {
                format!("workload {workload} not in run {}", facts.run_id)
            } else {
                format!("did not run {workload} in run {}", facts.run_id)
            }
        })
    };
    // The workload of a measure read outside the per-workload results (idle, WebSocket,
    // worker sweep): absent from the run, or run without this contestant.
    let absent = || {
        if facts.holds(measure, workload) {
            format!("did not run {workload} in run {}", facts.run_id)
        } else {
            format!("workload {workload} not in run {}", facts.run_id)
        }
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
            .ok_or_else(|| {
                if facts.holds(measure, workload) {
                    format!(
                        "no capacity confirmed on {workload} in run {} (not searched, or no rate met the SLO)",
                        facts.run_id
                    )
                } else {
                    absent()
                }
            }),
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
                .idle(workload, contestant)
                .ok_or_else(absent)?;
            // Everyone is compared at the same count: the workload's largest.
            let top = facts.idle_top(workload).unwrap_or(0);
            let p = idle
                .points
                .iter()
                .find(|p| p.target == top)
                .ok_or_else(|| format!("no step at {} idle connections", group(top.into())))?;
            if let Some(why) = &p.not_reached {
                return Err(format!(
                    "{} idle connections not reached: {why}",
                    group(top.into())
                ));
            }
            let value = if measure == Measure::IdlePssPer1k {
                p.pss_per_1k_bytes.map(|b| b / MIB)
            } else {
                p.probe_p99_us
            };
            value.map(Figure::point).ok_or_else(|| {
                format!(
                    "no {} figure at {} idle connections",
                    if measure == Measure::IdlePssPer1k {
                        "PSS"
                    } else {
                        "probe p99"
                    },
                    group(top.into())
                )
            })
        }
        Measure::WsMessages | Measure::WsP99 | Measure::WsDelivered => {
            let ws = facts
                .ws(workload, contestant)
                .ok_or_else(absent)?;
            let no_data = || ws.no_data.clone().unwrap_or_else(not_measured);
            match measure {
                Measure::WsMessages => {
                    let rps = ws.messages_per_s.as_ref().ok_or_else(no_data)?;
                    let mut f = Figure::interval(rps, Some(ws.trials));
                    f.lower_bound = ws.engine_limited.is_some();
                    Ok(f)
                }
                Measure::WsP99 => ws.p99_us.map(Figure::point).ok_or_else(no_data),
                _ => match ws.room {
                    None => Err(format!("{workload} is not a room (no fan-out counts)")),
                    Some(_) => ws
                        .delivery_ratio()
                        .map(Figure::point)
                        .ok_or_else(|| "no delivery owed in any counted trial".to_string()),
                },
            }
        }
        Measure::ScalingEfficiency => {
            let sweep = facts
                .worker_sweep(workload, contestant)
                .ok_or_else(absent)?;
            let top = sweep
                .top()
                .ok_or_else(|| format!("no point of worker sweep {workload}"))?;
            if top.workers < 2 {
                return Err(format!(
                    "worker sweep {workload} has no point above 1 worker"
                ));
            }
            match top.efficiency {
                Some(e) => Ok(Figure::point(e)),
                None => {
                    let base = sweep.points.iter().find(|p| p.workers == 1);
                    Err(match (base, &top.not_ranked) {
                        (_, Some(why)) => format!("no figure at {} workers: {why}", top.workers),
                        (None, None) => "no 1-worker point to scale from".to_string(),
                        (Some(b), None) => match &b.not_ranked {
                            Some(why) => format!("no figure at 1 worker: {why}"),
                            None => "no ranked figure at 1 worker".to_string(),
                        },
                    })
                }
            }
        }
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

/// What stands behind a figure, shown beside it: for idle connections how many were held
/// at each count and the probe's p99 there, for a room the deliveries, for a worker sweep the
/// throughput and cores used per worker count. `None` when there is nothing to add.
pub(super) fn figure_detail(
    facts: &Facts,
    measure: Measure,
    workload: &str,
    contestant: &str,
) -> Option<String> {
    let ms = |us: f64| format!("{:.1} ms", us / 1000.0);
    let count = |v: Option<u64>| v.map_or_else(|| "?".to_string(), group);
    match measure {
        Measure::IdlePssPer1k | Measure::IdleProbeP99 => {
            let idle = facts.idle(workload, contestant)?;
            let steps: Vec<String> = idle
                .points
                .iter()
                .map(|p| match &p.not_reached {
                    Some(_) => format!("{}: not reached", group(p.target.into())),
                    None => format!(
                        "{}: {} held, {} refused, {} dropped, probe p99 {}",
                        group(p.target.into()),
                        count(p.held),
                        count(p.refused),
                        count(p.dropped),
                        p.probe_p99_us.map_or_else(|| "?".to_string(), ms)
                    ),
                })
                .collect();
            Some(steps.join("; "))
        }
        Measure::WsDelivered | Measure::WsP99 => {
            let room = facts.ws(workload, contestant)?.room?;
            Some(format!(
                "{} of {} delivered, {} lost, {} in flight",
                group(room.delivered),
                group(room.expected),
                group(room.lost),
                group(room.in_flight)
            ))
        }
        Measure::ScalingEfficiency => {
            let sweep = facts.worker_sweep(workload, contestant)?;
            let points: Vec<String> = sweep
                .points
                .iter()
                .map(|p| {
                    format!(
                        "{} req/s at {} worker{}{}",
                        p.rps.map_or_else(
                            || "no figure".to_string(),
                            |r| group(r.point.round() as u64)
                        ),
                        p.workers,
                        if p.workers == 1 { "" } else { "s" },
                        p.cores_used
                            .map(|c| format!(" ({c:.2} cores used)"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            Some(points.join(", "))
        }
        _ => None,
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
        Measure::P99 | Measure::IdleProbeP99 | Measure::WsP99 => group(v.round() as u64),
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
