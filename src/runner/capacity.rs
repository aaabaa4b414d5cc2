//! Capacity under an SLO (issue 10): per contestant, [`stats::capacity_search`] with one
//! constant-rate trial per probe, then confirmation trials at the rate it found, stored as a
//! [`CapacityRecord`] that the report and the cost model read.
//!
//! How the interval is formed ([`find_capacity`]): the search ends with the highest rate that
//! met the SLO and the lowest that missed it. The found rate is then measured `confirm` more
//! times; it is the capacity only if every confirmation meets the SLO. A rate whose trials meet
//! the SLO less than half of the time passes `confirm` of `confirm` with probability below
//! 2^-confirm (3.1% for 5), so the median trial at the reported capacity meets the SLO with at
//! least that confidence. If a confirmation fails, that rate becomes the upper end and the
//! next lower candidate (the rate divided by `(1 + resolution)^2`) is confirmed instead, at
//! most [`MAX_STEP_DOWNS`] times. The interval is [confirmed rate, lowest rate that missed the
//! SLO in any trial]; its upper end is missing when even the search's maximum met the SLO.

use crate::stats::{self, CapacitySearch, ProbeOutcome, SearchEnd, Slo};
use crate::store::{CapacityPhase, CapacityRecord, TrialMetrics, TrialPoint};
use crate::suite::{CapacityTarget, LoadShape, Workload};

use super::prepare::Entrant;
use super::scale::Ctx;
use super::{order, Measured};

/// Candidates tried lower down when a confirmation fails.
pub const MAX_STEP_DOWNS: u32 = 3;

/// What one capacity trial measured, besides its SLO outcome: what the server used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacityTrial {
    /// p99 and error rate.
    pub outcome: ProbeOutcome,
    /// Server CPU seconds of the trial; `None` when not sampled.
    pub server_cpu_s: Option<f64>,
    /// Trial length (seconds).
    pub duration_s: f64,
    /// Mean PSS of the server's group (bytes); `None` when not sampled.
    pub pss_bytes: Option<u64>,
}

impl CapacityTrial {
    /// The figures of a stored trial.
    pub fn of(m: &TrialMetrics) -> Self {
        CapacityTrial {
            outcome: m.probe_outcome(),
            server_cpu_s: (m.server_cpu_s > 0.0).then_some(m.server_cpu_s),
            duration_s: m.duration_s,
            pss_bytes: (m.pss_mean_bytes > 0).then_some(m.pss_mean_bytes),
        }
    }

    /// A trial that gave no answer at all: it missed the SLO.
    pub fn failed() -> Self {
        CapacityTrial {
            outcome: ProbeOutcome {
                p99_us: f64::INFINITY,
                error_rate: 1.0,
            },
            server_cpu_s: None,
            duration_s: 0.0,
            pss_bytes: None,
        }
    }
}

/// What [`find_capacity`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The confirmed capacity (requests per second), `None` when no rate was confirmed.
    pub rate_per_s: Option<f64>,
    /// The lowest rate any trial missed the SLO at.
    pub high_per_s: Option<f64>,
    /// The confirmation trials at `rate_per_s` (all met the SLO).
    pub confirmations: Vec<CapacityTrial>,
    /// The search's probes.
    pub probes: u32,
    /// How the search ended, in words.
    pub note: String,
}

/// Runs the search and the confirmations; `trial(rate, phase)` runs and stores one
/// constant-rate trial. See the module doc for how the interval is formed.
pub fn find_capacity<E>(
    target: &CapacityTarget,
    mut trial: impl FnMut(f64, CapacityPhase) -> Result<CapacityTrial, E>,
) -> Result<Found, E> {
    let search = stats::capacity_search(&target.search, &target.slo, |rate| {
        trial(rate, CapacityPhase::Search).map(|t| t.outcome)
    })?;
    let mut found = Found {
        rate_per_s: None,
        high_per_s: search.above_per_s,
        confirmations: Vec::new(),
        probes: search.probes.len() as u32,
        note: describe_end(&search, &target.search),
    };
    let mut candidate = search.rate_per_s;
    let mut step_downs = 0;
    while let Some(rate) = candidate {
        let mut trials = Vec::with_capacity(target.confirm as usize);
        let mut all_met = true;
        for _ in 0..target.confirm {
            let t = trial(rate, CapacityPhase::Confirm)?;
            let met = target.slo.is_met(&t.outcome);
            trials.push(t);
            if !met {
                all_met = false;
                break;
            }
        }
        if all_met {
            found.rate_per_s = Some(rate);
            found.confirmations = trials;
            return Ok(found);
        }
        found.high_per_s = Some(found.high_per_s.map_or(rate, |h| h.min(rate)));
        step_downs += 1;
        let next = rate / (1.0 + target.search.resolution_rel).powi(2);
        candidate =
            (step_downs <= MAX_STEP_DOWNS && next >= target.search.min_per_s).then_some(next);
    }
    if search.rate_per_s.is_some() {
        found.note = format!(
            "the search's rate missed the SLO in a confirmation trial, and so did {MAX_STEP_DOWNS} lower ones: no capacity confirmed"
        );
    }
    Ok(found)
}

fn describe_end(c: &stats::Capacity, search: &CapacitySearch) -> String {
    match c.end {
        SearchEnd::Resolved => format!(
            "bracketed to within {:.0}%",
            search.resolution_rel * 100.0
        ),
        SearchEnd::ProbeBudget => format!(
            "the search used its {} probes before the bracket was within {:.0}%",
            search.max_probes,
            search.resolution_rel * 100.0
        ),
        SearchEnd::AboveMax => format!(
            "even the search's maximum of {} req/s met the SLO: the capacity is at least that (a lower bound)",
            search.max_per_s
        ),
        SearchEnd::BelowMin => format!(
            "even {} req/s missed the SLO: no capacity in the search range",
            search.min_per_s
        ),
        SearchEnd::InvalidSearch => "the search range was unusable".into(),
    }
}

/// The median of `values`, `None` when empty.
fn median(values: Vec<f64>) -> Option<f64> {
    stats::median(&values)
}

/// The record stored for one contestant.
pub fn record(
    workload: &str,
    contestant: &str,
    slo: &Slo,
    trial_s: f64,
    found: &Found,
) -> CapacityRecord {
    let c = &found.confirmations;
    CapacityRecord {
        workload: workload.to_string(),
        contestant: contestant.to_string(),
        rate_per_s: found.rate_per_s,
        interval_low_per_s: found.rate_per_s,
        interval_high_per_s: found.high_per_s,
        slo_p99_us: slo.p99_us,
        max_error_rate: slo.max_error_rate,
        confirmations: c.len() as u32,
        p99_us: median(c.iter().map(|t| t.outcome.p99_us).collect()),
        server_cpu_share: median(
            c.iter()
                .filter(|t| t.duration_s > 0.0)
                .filter_map(|t| Some(t.server_cpu_s? / t.duration_s))
                .collect(),
        ),
        server_cpu_s: median(c.iter().filter_map(|t| t.server_cpu_s).collect()),
        trial_s,
        pss_bytes: median(
            c.iter()
                .filter_map(|t| t.pss_bytes.map(|b| b as f64))
                .collect(),
        )
        .map(|b| b as u64),
        probes: found.probes,
        note: found.note.clone(),
    }
}

/// The capacity search of `workload` for every racing contestant, one after another (in the
/// run's shuffled order); each probe is a stored trial, each result a stored
/// [`CapacityRecord`]. A contestant whose record is stored already (a resumed run) is skipped.
pub(super) fn run(
    ctx: &mut Ctx,
    workload: &Workload,
    target: &CapacityTarget,
    entrants: &mut [Entrant],
    racing: &[usize],
) -> anyhow::Result<()> {
    let done: Vec<String> = ctx
        .store
        .capacities(ctx.run_id)?
        .into_iter()
        .filter(|c| c.workload == workload.name)
        .map(|c| c.contestant)
        .collect();
    let connections = workload.shape.connections();
    for k in order::round_order(ctx.config.order_seed, &workload.name, 0, racing.len()) {
        let i = racing[k];
        if ctx.interrupted() {
            break;
        }
        if !entrants[i].in_race() || done.iter().any(|d| d == entrants[i].name()) {
            continue;
        }
        ctx.warm_up(workload, entrants, i);
        let mut round = 0;
        let mut stopped = false;
        let found = find_capacity(target, |rate, phase| {
            round += 1;
            let at = Workload {
                shape: LoadShape::Rate {
                    per_s: rate,
                    connections,
                },
                capacity: None,
                ..workload.clone()
            };
            ctx.ui.phase(&format!(
                "{}: {} at {rate:.0} req/s ({})",
                workload.name,
                entrants[i].name(),
                match phase {
                    CapacityPhase::Search => "search",
                    CapacityPhase::Confirm => "confirmation",
                }
            ));
            let point = TrialPoint::Capacity {
                rate_per_s: rate,
                phase,
            };
            let measured = ctx.measure_round(&at, entrants, i, round, point)?;
            if ctx.interrupted() || !entrants[i].in_race() {
                stopped = true;
                anyhow::bail!("stopped");
            }
            Ok(match measured {
                Measured::Counted(m) => CapacityTrial::of(&m),
                _ => CapacityTrial::failed(),
            })
        });
        let found = match found {
            Ok(found) => found,
            Err(_) if stopped => continue,
            Err(e) => return Err(e),
        };
        let record = record(
            &workload.name,
            entrants[i].name(),
            &target.slo,
            workload.trial.as_secs_f64(),
            &found,
        );
        ctx.ui.notice(&format!(
            "{}: {} capacity {} ({})",
            workload.name,
            entrants[i].name(),
            record
                .rate_per_s
                .map_or("not found".to_string(), |r| format!("{r:.0} req/s")),
            record.note
        ));
        ctx.store.put_capacity(ctx.run_id, &record)?;
    }
    Ok(())
}
