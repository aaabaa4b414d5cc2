//! The rounds of the ordinary (not scale) workloads, and how they take turns.
//!
//! A run's workloads are measured round by round across all of them: round 1 of every workload,
//! then round 2 of every workload, and so on, rather than every round of one workload before
//! the next. Each workload's trials are then spread over the whole run, so a spell in which the
//! machine runs slower (on a shared VM these last minutes and cost a quarter to a half of the
//! throughput; see bench/README.md) touches a few trials of every workload instead of all the
//! trials of the one measured at that time. Its effect shows in the intervals instead of
//! shifting one workload's medians unseen, and a second run lands inside the first one's
//! intervals more often.
//!
//! A workload that restarts the contestants (a worker count of its own, see [`super::cores`])
//! or a scale workload cannot take turns without restarting them every round: it runs whole,
//! alone, between the blocks of workloads that do ([`blocks`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::prepare::Entrant;
use super::{cores, isolation, measure, order, scale, warm_up_entrant, Done, Measured};
use super::{RunConfig, Ui};
use crate::stats;
use crate::store::Store;
use crate::suite::Workload;

/// What the rounds need from the run.
pub(super) struct Ctx<'a> {
    pub store: &'a Store,
    pub run_id: i64,
    pub config: &'a RunConfig,
    pub interrupt: &'a Arc<AtomicBool>,
    pub ui: &'a dyn Ui,
    /// Trials already stored (when resuming).
    pub done: &'a Done,
}

/// One workload's rounds in progress.
pub(super) struct Sweep<'w> {
    workload: &'w Workload,
    /// The entrants (indices) measured on it.
    racing: Vec<usize>,
    /// Counted throughputs per entrant, those stored by an interrupted run first.
    samples: BTreeMap<usize, Vec<f64>>,
    /// The round after those already stored.
    first_round: u32,
    /// Whether this run has warmed its contestants up on it.
    warmed: bool,
}

impl<'w> Sweep<'w> {
    pub fn new(
        workload: &'w Workload,
        racing: Vec<usize>,
        done: &Done,
        entrants: &[Entrant],
    ) -> Self {
        let samples: BTreeMap<usize, Vec<f64>> = racing
            .iter()
            .map(|&i| {
                let key = (workload.name.clone(), entrants[i].name().to_string());
                (i, done.rps.get(&key).cloned().unwrap_or_default())
            })
            .collect();
        let first_round = samples.values().map(Vec::len).min().unwrap_or(0) as u32 + 1;
        Sweep {
            workload,
            racing,
            samples,
            first_round,
            warmed: false,
        }
    }

    /// Whether every entrant still in the race has enough trials: its interval is as narrow as
    /// the target, or it has the most rounds.
    fn finished(&self, entrants: &[Entrant]) -> bool {
        let w = self.workload;
        self.samples
            .iter()
            .filter(|(i, _)| entrants[**i].in_race())
            .all(|(_, s)| {
                stats::should_stop(s, w.target_ci_rel, w.min_rounds, w.max_rounds).is_stop()
            })
    }
}

/// The plan's workloads in the groups that take turns round by round, in the plan's order: a
/// run of consecutive workloads that keep the run's deployment and are not scale workloads
/// forms one group; every other workload is a group of its own.
pub(super) fn blocks<'w>(workloads: &'w [Workload], config: &RunConfig) -> Vec<Vec<&'w Workload>> {
    let mut out: Vec<Vec<&Workload>> = Vec::new();
    let mut open = false;
    for w in workloads {
        let takes_turns = !scale::is_scale(w)
            && cores::Launch::for_workload(w, config) == cores::Launch::of_run(config);
        if takes_turns && open {
            out.last_mut().expect("open group").push(w);
        } else {
            out.push(vec![w]);
        }
        open = takes_turns;
    }
    out
}

/// Runs the rounds of `sweeps` in turn, round 1 of each, then round 2 of each ..., until each
/// has enough trials or the run is interrupted. A workload's contestants are warmed up just
/// before its first round of this run.
pub(super) fn run_block(
    ctx: &Ctx,
    sweeps: &mut [Sweep],
    entrants: &mut [Entrant],
) -> anyhow::Result<()> {
    let last = sweeps
        .iter()
        .map(|s| s.workload.max_rounds as u32)
        .max()
        .unwrap_or(0);
    for round in 1..=last {
        for sweep in sweeps.iter_mut() {
            if ctx.interrupt.load(Ordering::Relaxed) {
                return Ok(());
            }
            if round < sweep.first_round || sweep.finished(entrants) {
                continue;
            }
            if !sweep.warmed {
                warm_up(ctx, sweep, entrants)?;
                sweep.warmed = true;
            }
            run_round(ctx, sweep, round, entrants)?;
        }
    }
    Ok(())
}

/// Warm-up: every contestant, not recorded, in the order of "round 0".
fn warm_up(ctx: &Ctx, sweep: &Sweep, entrants: &mut [Entrant]) -> anyhow::Result<()> {
    let workload = sweep.workload;
    let n = sweep.racing.len();
    for k in order::round_order(ctx.config.order_seed, &workload.name, 0, n) {
        let i = sweep.racing[k];
        if ctx.interrupt.load(Ordering::Relaxed) {
            break;
        }
        warm_up_entrant(
            ctx.store,
            ctx.run_id,
            workload,
            entrants,
            i,
            ctx.config,
            ctx.interrupt,
            ctx.ui,
        )?;
    }
    Ok(())
}

/// Round `round` of one workload: one trial of each contestant in the race that lacks it, in
/// the round's shuffled order; a disturbed trial is tried again (bounded).
fn run_round(
    ctx: &Ctx,
    sweep: &mut Sweep,
    round: u32,
    entrants: &mut [Entrant],
) -> anyhow::Result<()> {
    let workload = sweep.workload;
    let n = sweep.racing.len();
    for k in order::round_order(ctx.config.order_seed, &workload.name, round, n) {
        let i = sweep.racing[k];
        if ctx.interrupt.load(Ordering::Relaxed) {
            break;
        }
        if !entrants[i].in_race() || sweep.samples[&i].len() >= round as usize {
            continue;
        }
        let key = (workload.name.clone(), entrants[i].name().to_string(), round);
        let first_retry = ctx.done.tries.get(&key).copied().unwrap_or(0);
        ctx.ui.phase(&format!("{}: round {round}", workload.name));
        for retry in first_retry..=isolation::MAX_RETRIES.max(first_retry) {
            let measured = measure(
                ctx.store,
                ctx.run_id,
                workload,
                entrants,
                i,
                round,
                retry,
                ctx.config,
                ctx.interrupt,
                ctx.ui,
                None,
            )?;
            match measured {
                Measured::Counted(metrics) => {
                    sweep.samples.get_mut(&i).expect("racing").push(metrics.rps);
                    break;
                }
                Measured::Contaminated => continue,
                Measured::Nothing => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RunConfig {
        RunConfig {
            server_cpus: vec![1],
            load_cpus: vec![0],
            workers: 1,
            cache: "cache".into(),
            run_dir: "results/1".into(),
            full_contract: true,
            order_seed: 1,
            calibrate: false,
            postgres: None,
            audit: crate::audit::AuditDepth::Off,
        }
    }

    fn names(blocks: &[Vec<&Workload>]) -> Vec<Vec<String>> {
        blocks
            .iter()
            .map(|b| b.iter().map(|w| w.name.clone()).collect())
            .collect()
    }

    #[test]
    fn every_workload_of_the_standard_suite_takes_turns_with_the_others() {
        let plan = crate::suite::builtin("standard").unwrap();
        let blocks = names(&blocks(&plan.workloads, &config()));
        assert_eq!(blocks.len(), 1, "{blocks:?}");
        assert_eq!(blocks[0].len(), plan.workloads.len());
    }

    #[test]
    fn workloads_that_restart_or_sweep_run_alone_in_the_plans_order() {
        let text = "name = 's'\n[defaults]\nwarmup = '100ms'\ntrial = '200ms'\n\
            [[workload]]\nname = 'a'\nconnections = 4\n[[workload.request]]\npath = '/json'\n\
            [[workload]]\nname = 'b'\nconnections = 4\n[[workload.request]]\npath = '/json'\n\
            [[workload]]\nname = 'c'\nconnections = [4, 8]\n[[workload.request]]\npath = '/json'\n\
            [[workload]]\nname = 'd'\nconnections = 4\n[[workload.request]]\npath = '/json'\n";
        let plan = crate::suite::parse_plan(text, "s.toml".as_ref()).unwrap();
        assert_eq!(
            names(&blocks(&plan.workloads, &config())),
            [vec!["a", "b"], vec!["c"], vec!["d"]]
        );

        let cores = crate::suite::builtin("cores").unwrap();
        let blocks = blocks(&cores.workloads, &config());
        for block in &blocks {
            if block.len() > 1 {
                assert!(
                    block.iter().all(|w| w.workers.is_none()),
                    "{:?}",
                    names(&blocks)
                );
            }
        }
        assert!(
            blocks
                .iter()
                .any(|b| b.len() == 1 && b[0].workers.is_some()),
            "{:?}",
            names(&blocks)
        );
    }
}
