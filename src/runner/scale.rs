//! The scale workloads of a run (issue 10): a concurrency sweep (each connection count in its
//! own rounds of trials), idle connections held step after step while a probe measures, and the
//! capacity search (`capacity.rs`). Each trial is stored the moment it ends with its point on
//! the workload's axis ([`TrialPoint`]), under a round number unique within the workload and
//! contestant, so an interrupted run resumes where it stopped.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::cores::{self, Launch};
use super::prepare::{BringUpOptions, Entrant};
use super::{
    check_alive, event, isolation, measure, order, trial, warm_up_entrant, Measured, RunConfig, Ui,
};
use crate::contestant::sampler::Sampler;
use crate::load::idle::{IdleHold, IdlePlan, IdleProtocol, GIVE_UP_AFTER};
use crate::load::{Pacing, Recorder, Recording};
use crate::stats;
use crate::store::{IdleFigures, Store, TrialPoint};
use crate::suite::{IdleSpec, LoadShape, Workload, WorkloadKind};

/// What every part of a scale workload needs from the run.
pub struct Ctx<'a> {
    /// The results store.
    pub store: &'a Store,
    /// The run.
    pub run_id: i64,
    /// CPUs, seed and the rest.
    pub config: &'a RunConfig,
    /// Set on Ctrl-C.
    pub interrupt: &'a Arc<AtomicBool>,
    /// Progress.
    pub ui: &'a dyn Ui,
    /// How to start each entrant afresh (its bring-up options and current deployment), so
    /// every idle step measures memory from a new process; `None` keeps them running.
    pub restart: Option<(&'a BringUpOptions<'a>, &'a [Launch])>,
}

impl<'a> Ctx<'a> {
    /// Bundles the run's handles.
    pub fn new(
        store: &'a Store,
        run_id: i64,
        config: &'a RunConfig,
        interrupt: &'a Arc<AtomicBool>,
        ui: &'a dyn Ui,
    ) -> Self {
        Self {
            store,
            run_id,
            config,
            interrupt,
            ui,
            restart: None,
        }
    }

    pub(super) fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    /// One try of `round` of entrant `i` on `workload` (a per-point copy), stored with `point`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn measure(
        &self,
        workload: &Workload,
        entrants: &mut [Entrant],
        i: usize,
        round: u32,
        retry: u32,
        point: TrialPoint,
    ) -> anyhow::Result<Measured> {
        measure(
            self.store,
            self.run_id,
            workload,
            entrants,
            i,
            round,
            retry,
            self.config,
            self.interrupt,
            self.ui,
            Some(point),
        )
    }

    /// Tries `round` until a try is not contaminated (at most [`isolation::MAX_RETRIES`] + 1).
    pub(super) fn measure_round(
        &self,
        workload: &Workload,
        entrants: &mut [Entrant],
        i: usize,
        round: u32,
        point: TrialPoint,
    ) -> anyhow::Result<Measured> {
        for retry in 0..=isolation::MAX_RETRIES {
            match self.measure(workload, entrants, i, round, retry, point.clone())? {
                Measured::Contaminated => continue,
                other => return Ok(other),
            }
        }
        Ok(Measured::Nothing)
    }

    /// Runs `workload`'s warm-up (closed loop at its shape's connections) against entrant `i`.
    pub(super) fn warm_up(&self, workload: &Workload, entrants: &mut [Entrant], i: usize) {
        let _ = warm_up_entrant(
            self.store,
            self.run_id,
            workload,
            entrants,
            i,
            self.config,
            self.interrupt,
            self.ui,
        );
    }
}

/// Whether `workload` is measured here rather than by the plain trial loop.
pub fn is_scale(workload: &Workload) -> bool {
    matches!(workload.kind, WorkloadKind::Idle(_))
        || !workload.sweep.is_empty()
        || workload.capacity.is_some()
}

/// Measures a scale workload on the entrants `racing` (indices into `entrants`).
pub fn run_workload(
    ctx: &mut Ctx,
    workload: &Workload,
    entrants: &mut [Entrant],
    racing: &[usize],
) -> anyhow::Result<()> {
    if let WorkloadKind::Idle(spec) = &workload.kind {
        return idle_steps(ctx, workload, spec, entrants, racing);
    }
    if let Some(target) = &workload.capacity {
        return super::capacity::run(ctx, workload, target, entrants, racing);
    }
    sweep(ctx, workload, entrants, racing)
}

/// A copy of `workload` at `connections` (closed loop), as one point of its sweep.
fn at_connections(workload: &Workload, connections: u32) -> Workload {
    Workload {
        shape: LoadShape::Closed { connections },
        sweep: Vec::new(),
        ..workload.clone()
    }
}

/// Rounds already stored for this workload, as (contestant, stored round) of trials that count
/// (or, for idle steps, of any trial: a step not reached is not tried again on resume).
fn stored_rounds(ctx: &Ctx, workload: &str) -> anyhow::Result<BTreeSet<(String, u32)>> {
    Ok(ctx
        .store
        .run(ctx.run_id)?
        .trials
        .into_iter()
        .filter(|t| t.workload == workload && t.metrics.point.is_some())
        .filter(|t| t.metrics.counts() || matches!(t.metrics.point, Some(TrialPoint::Idle(_))))
        .map(|t| (t.contestant, t.round))
        .collect())
}

/// A concurrency sweep: for each connection count in turn, a warm-up of every contestant and
/// rounds of one trial each until every contestant's interval is within the target (the same
/// rule as a plain workload). Point `p` (from 0), round `r` is stored as round
/// `p * max_rounds + r`.
fn sweep(
    ctx: &mut Ctx,
    workload: &Workload,
    entrants: &mut [Entrant],
    racing: &[usize],
) -> anyhow::Result<()> {
    let stored = stored_rounds(ctx, &workload.name)?;
    let max_rounds = workload.max_rounds as u32;
    for (p, &connections) in workload.sweep.iter().enumerate() {
        if ctx.interrupted() {
            break;
        }
        let at = at_connections(workload, connections);
        let base = p as u32 * max_rounds;
        let key = format!("{}@{connections}", workload.name);
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); racing.len()];
        for (k, &i) in racing.iter().enumerate() {
            for round in 1..=max_rounds {
                if stored.contains(&(entrants[i].name().to_string(), base + round)) {
                    // Resumed: the figure is in the store; count it toward convergence.
                    samples[k].push(f64::NAN);
                }
            }
        }
        let warm = samples.iter().any(|s| s.len() < workload.min_rounds);
        if warm {
            for k in order::round_order(ctx.config.order_seed, &key, 0, racing.len()) {
                if ctx.interrupted() {
                    break;
                }
                if entrants[racing[k]].in_race() {
                    ctx.warm_up(&at, entrants, racing[k]);
                }
            }
        }
        for round in 1..=max_rounds {
            for k in order::round_order(ctx.config.order_seed, &key, round, racing.len()) {
                let i = racing[k];
                if ctx.interrupted() || !entrants[i].in_race() || samples[k].len() >= round as usize
                {
                    continue;
                }
                ctx.ui.phase(&format!(
                    "{}: {connections} connections, round {round}",
                    workload.name
                ));
                let point = TrialPoint::Sweep { connections };
                if let Measured::Counted(m) =
                    ctx.measure_round(&at, entrants, i, base + round, point)?
                {
                    samples[k].push(m.rps);
                }
            }
            let converged = racing.iter().zip(&samples).all(|(&i, s)| {
                !entrants[i].in_race()
                    || s.iter().any(|x| x.is_nan())
                    || stats::should_stop(
                        s,
                        workload.target_ci_rel,
                        workload.min_rounds,
                        workload.max_rounds,
                    )
                    .is_stop()
            });
            if ctx.interrupted() || converged {
                break;
            }
        }
    }
    Ok(())
}

/// Idle connections: for each count in turn, every contestant (in a shuffled order) holds that
/// many idle connections while the probe runs one trial; `max_rounds` times. Step `s` (from
/// 0), round `r` is stored as round `s * max_rounds + r`.
fn idle_steps(
    ctx: &mut Ctx,
    workload: &Workload,
    spec: &IdleSpec,
    entrants: &mut [Entrant],
    racing: &[usize],
) -> anyhow::Result<()> {
    let stored = stored_rounds(ctx, &workload.name)?;
    let max_rounds = workload.max_rounds as u32;
    for (s, &count) in spec.counts.iter().enumerate() {
        let key = format!("{}@{count}", workload.name);
        for round in 1..=max_rounds {
            let stored_round = s as u32 * max_rounds + round;
            for k in order::round_order(ctx.config.order_seed, &key, round, racing.len()) {
                let i = racing[k];
                if ctx.interrupted() {
                    return Ok(());
                }
                if !entrants[i].in_race()
                    || stored.contains(&(entrants[i].name().to_string(), stored_round))
                {
                    continue;
                }
                ctx.ui.phase(&format!(
                    "{}: {count} idle connections, round {round}",
                    workload.name
                ));
                // A disturbed step is stored, marked, and tried again (as plain trials are).
                for retry in 0..=isolation::MAX_RETRIES {
                    let step = Step {
                        count,
                        round: stored_round,
                        retry,
                    };
                    if !idle_step(ctx, workload, spec, entrants, i, step)? {
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Time over which the group's PSS is sampled before the connections open.
const BASELINE: Duration = Duration::from_millis(300);

/// Which try of which idle step.
#[derive(Clone, Copy)]
struct Step {
    count: u32,
    round: u32,
    retry: u32,
}

/// One try of an idle step of entrant `i`: check the limits, sample the baseline PSS, open
/// `count` connections, run the probe's trial while they are held, release them, store the
/// trial. Returns whether the try was disturbed and is to be tried again.
fn idle_step(
    ctx: &Ctx,
    workload: &Workload,
    spec: &IdleSpec,
    entrants: &mut [Entrant],
    i: usize,
    step: Step,
) -> anyhow::Result<bool> {
    let Step {
        count,
        round,
        retry,
    } = step;
    let name = entrants[i].name().to_string();
    // Memory a server freed is seldom handed back to the system, so a server that held the
    // previous step's (or try's) connections would hold these in memory it already has and
    // show a fraction of their cost: each step starts from a fresh process, warmed up again.
    if let Some((opts, launches)) = ctx.restart {
        ctx.ui.phase(&format!(
            "{}: restarting {name} before {count} idle connections",
            workload.name
        ));
        let up = cores::relaunch(
            ctx.store,
            ctx.run_id,
            workload,
            &mut entrants[i],
            &launches[i],
            opts,
            ctx.config,
            ctx.ui,
        )?;
        if !up {
            return Ok(false);
        }
        // Stored, so a reader of the run can tell each step's process was new; not a warning.
        event(
            ctx.store,
            ctx.run_id,
            Some(&name),
            Some(&workload.name),
            crate::store::RESTART_EVENT,
            &format!(
                "started afresh before {count} idle connections (round {round}, try {})",
                retry + 1
            ),
        )?;
        ctx.warm_up(workload, entrants, i);
        if !entrants[i].in_race() {
            return Ok(false);
        }
    }
    let guard = entrants[i].guard.as_ref().expect("in race");
    let (addr, pgid) = (guard.addr(), guard.pgid());
    let started_at = crate::store::now_rfc3339();
    if let Some(reason) = contestant_limit(pgid, count) {
        not_reached(ctx, workload, &name, count, round, started_at, reason)?;
        return Ok(false);
    }
    let pgids: Vec<i32> = entrants
        .iter()
        .filter_map(|e| e.guard.as_ref().map(|g| g.pgid()))
        .collect();
    let quiet = isolation::wait_for_quiet(
        &ctx.config.server_cpus,
        &pgids,
        isolation::QUIET_WAIT_MAX,
        ctx.interrupt,
    );
    let baseline = {
        let sampler = Sampler::start(pgid, Duration::from_millis(50));
        std::thread::sleep(BASELINE);
        let usage = sampler.stop();
        (usage.samples > 0).then_some(usage.pss_mean_bytes)
    };
    let plan = IdlePlan {
        addr,
        count,
        protocol: spec.protocol,
        open_timeout: workload.timeout,
        cpus: ctx.config.load_cpus.clone(),
    };
    let hold = match IdleHold::open(&plan) {
        Ok(hold) => hold,
        Err(e) => {
            not_reached(
                ctx,
                workload,
                &name,
                count,
                round,
                started_at,
                e.to_string(),
            )?;
            return Ok(false);
        }
    };
    let probe = trial::load_plan(workload, addr, workload.trial, &ctx.config.load_cpus);
    let trial_len = workload.trial.as_secs_f64();
    let database_pgid = ctx.config.postgres.as_ref().and_then(|pg| pg.pgid());
    let outcome = trial::run_trial(
        &probe,
        pgid,
        database_pgid,
        &ctx.config.server_cpus,
        ctx.interrupt.clone(),
        |snap| {
            ctx.ui.trial(
                &name,
                &workload.name,
                round,
                snap.elapsed.as_secs_f64() / trial_len,
            )
        },
    );
    let counts = hold.release();
    if ctx.interrupted() {
        // A cut-short trial is not a trial.
        return Ok(false);
    }
    let alive = check_alive(
        ctx.store,
        ctx.run_id,
        &mut entrants[i],
        Some(&workload.name),
        ctx.ui,
    )?;
    let (recording, usage, database_usage) = match outcome {
        Ok(r) => r,
        Err(e) => {
            if alive {
                let message = e.to_string();
                event(
                    ctx.store,
                    ctx.run_id,
                    Some(&name),
                    Some(&workload.name),
                    "error",
                    &message,
                )?;
            }
            return Ok(false);
        }
    };
    let held = counts.held();
    let pss_per_1k_bytes = match (baseline, usage.samples > 0, held > 0) {
        (Some(base), true, true) => {
            Some((usage.pss_mean_bytes as f64 - base as f64) / held as f64 * 1000.0)
        }
        _ => None,
    };
    let isolation = trial::Isolation {
        quiet,
        server_cpus: ctx.config.server_cpus.len(),
        retry,
        // Idle steps measure memory and a light probe, not speed: no speed probe.
        speed_ns_per_step: None,
    };
    let mut out = trial::record(
        &workload.name,
        &name,
        round,
        started_at,
        &recording,
        &usage,
        database_usage.as_ref(),
        !alive,
        isolation,
    );
    out.record.metrics.point = Some(TrialPoint::Idle(IdleFigures {
        protocol: spec.protocol,
        target: count,
        held: Some(held),
        refused: Some(counts.refused),
        dropped: Some(counts.dropped),
        baseline_pss_bytes: baseline,
        pss_per_1k_bytes,
        not_reached: None,
    }));
    ctx.store.put_trial(ctx.run_id, &out.record)?;
    if counts.refused > 0 || counts.dropped > 0 {
        let gave_up = if counts.untried > 0 {
            format!(
                "; {} of the refused not tried after {GIVE_UP_AFTER} failures in a row",
                counts.untried
            )
        } else {
            String::new()
        };
        ctx.ui.notice(&format!(
            "{}: {name} held {held} of {count} {} idle connections ({} refused, {} dropped{gave_up})",
            workload.name,
            spec.protocol.label(),
            counts.refused,
            counts.dropped
        ));
    }
    Ok(alive && out.record.metrics.quality.superseded)
}

/// Why the contestant's own descriptor limit forbids `count` connections, if it does: the
/// group leader's soft `Max open files` from `/proc/PID/limits`.
fn contestant_limit(pgid: i32, count: u32) -> Option<String> {
    let limits = std::fs::read_to_string(format!("/proc/{pgid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    let needed = u64::from(count) + 64;
    (soft < needed).then(|| {
        format!(
            "holding {count} idle connections needs about {needed} file descriptors in the \
             contestant, but it may open only {soft}; raise the limit of the shell that runs \
             faceoff (e.g. `ulimit -n {needed}`; faceoff passes its own limit on) and run again"
        )
    })
}

/// Stores a step that could not be measured: a trial without answers whose point says why, so
/// the report shows "not reached" with the fix, never zero.
fn not_reached(
    ctx: &Ctx,
    workload: &Workload,
    name: &str,
    count: u32,
    round: u32,
    started_at: String,
    reason: String,
) -> anyhow::Result<()> {
    let protocol = match &workload.kind {
        WorkloadKind::Idle(spec) => spec.protocol,
        _ => IdleProtocol::Http,
    };
    ctx.ui.notice(&format!(
        "{}: {name} did not reach {count} idle connections: {reason}",
        workload.name
    ));
    event(
        ctx.store,
        ctx.run_id,
        Some(name),
        Some(&workload.name),
        "not_reached",
        &format!("{count} idle connections not reached: {reason}"),
    )?;
    let nothing = Recording {
        recorder: Recorder::new(),
        duration: Duration::from_millis(1),
        engine_cpu: Duration::ZERO,
        worker_busy: Vec::new(),
        worker_waiting: Vec::new(),
        ws: None,
        connections: 0,
        threads: 0,
        pacing: Pacing::ClosedLoop,
        interrupted: false,
        setup: None,
    };
    let isolation = trial::Isolation {
        quiet: None,
        server_cpus: ctx.config.server_cpus.len(),
        retry: 0,
        speed_ns_per_step: None,
    };
    let mut out = trial::record(
        &workload.name,
        name,
        round,
        started_at,
        &nothing,
        &Default::default(),
        None,
        false,
        isolation,
    );
    out.record.metrics.point = Some(TrialPoint::Idle(IdleFigures {
        protocol,
        target: count,
        held: None,
        refused: None,
        dropped: None,
        baseline_pss_bytes: None,
        pss_per_1k_bytes: None,
        not_reached: Some(reason),
    }));
    ctx.store.put_trial(ctx.run_id, &out.record)?;
    Ok(())
}
