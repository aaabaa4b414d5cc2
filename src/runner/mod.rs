//! The trial loop of `faceoff run`: every contestant up together, a short calibration of this
//! machine's noise, then rounds of one trial per contestant in a shuffled order (so machine
//! drift, and a neighbour's leftover work, hit all alike), taking turns across the workloads
//! (see `rounds.rs`), until every contestant's confidence interval is narrow enough; each
//! workload's contestants are warmed up before its first round. Before each trial the server CPUs
//! must be quiet; a trial that something else disturbed is stored, not counted, and tried again
//! (see [`isolation`]). Each trial is written to the store the moment it ends.

pub mod audit;
pub mod calibrate;
pub mod capacity;
pub mod cores;
pub mod environment;
pub mod isolation;
pub mod order;
pub mod prepare;
mod rounds;
pub mod scale;
pub mod trial;
pub mod ws;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cancel::Cancel;
use crate::contestant::Contestant;
use crate::database::{DatabaseKind, Postgres};
use crate::store::{ContestantStatus, Event, RunStatus, Store};
use crate::suite::{Plan, Workload};
use crate::warnings::rate_not_reached;
use prepare::{BringUpOptions, Entrant};

/// Everything a run needs besides the plan and the contestants.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// CPUs for the contestants.
    pub server_cpus: Vec<usize>,
    /// CPUs for the load engine.
    pub load_cpus: Vec<usize>,
    /// `WORKERS` given to each contestant.
    pub workers: u32,
    /// Install cache root.
    pub cache: PathBuf,
    /// This run's folder ([`crate::settings::run_dir`]): contestants' logs and data go under it,
    /// beside the reports.
    pub run_dir: PathBuf,
    /// Check the full API contract (reference suites) rather than only `/healthz`.
    pub full_contract: bool,
    /// Seed of the order of contestants within each round ([`order::round_order`]).
    pub order_seed: u64,
    /// Measure this machine's noise before the first workload (unless the run already has it).
    pub calibrate: bool,
    /// The PostgreSQL server the contestants serve from (`--database postgres`); `None`: SQLite.
    pub postgres: Option<Arc<Postgres>>,
    /// How deep to audit each contestant once every workload is measured ([`audit`]).
    pub audit: crate::audit::AuditDepth,
}

/// Progress and notices, shown however the command likes.
pub trait Ui {
    /// A one-line notice (skips, crashes, warnings).
    fn notice(&self, line: &str);
    /// A new phase: "installing", "warm-up json", "round 2 of json" ...
    fn phase(&self, text: &str);
    /// A trial is under way: contestant, workload, round, fraction of its length done.
    fn trial(&self, contestant: &str, workload: &str, round: u32, done: f64);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEnd {
    /// The run's id in the store.
    pub run_id: i64,
    /// Complete or interrupted.
    pub status: RunStatus,
}

/// Trials already in the store (when resuming).
#[derive(Debug, Default)]
struct Done {
    /// (workload, contestant) → throughputs of the counted trials, by round.
    rps: BTreeMap<(String, String), Vec<f64>>,
    /// (workload, contestant, round) → tries stored (counted or not).
    tries: BTreeMap<(String, String, u32), u32>,
}

/// Runs `plan` on `contestants`, storing everything in `store` under `run_id`.
///
/// `done` holds trials already stored (when resuming); their rounds are not run again.
pub fn run(
    store: &Store,
    run_id: i64,
    plan: &Plan,
    contestants: Vec<Contestant>,
    config: &RunConfig,
    cancel: &Cancel,
    ui: &dyn Ui,
) -> anyhow::Result<RunEnd> {
    let interrupt = cancel.flag();
    let run_dir = &config.run_dir;
    std::fs::create_dir_all(run_dir)
        .with_context(|| format!("could not create '{}'", run_dir.display()))?;
    let done = done_trials(store, run_id)?;
    // Contestants inherit this process's descriptor limit: raise it (soft to hard) before any
    // starts, so connection-scale workloads can hold thousands of connections (issue 10).
    crate::sys::raise_nofile_limit();

    let opts = BringUpOptions {
        cache: &config.cache,
        data_dir: run_dir.join("data"),
        log_dir: run_dir.join("logs"),
        server_cpus: &config.server_cpus,
        workers: config.workers,
        checks: prepare::run_checks(
            config.full_contract,
            config.workers,
            if config.postgres.is_some() {
                DatabaseKind::Postgres
            } else {
                DatabaseKind::Sqlite
            },
        ),
        postgres: config.postgres.as_deref(),
        cancel: cancel.clone(),
    };
    let mut entrants: Vec<Entrant> = Vec::with_capacity(contestants.len());
    for contestant in contestants {
        if interrupt.load(Ordering::Relaxed) {
            break;
        }
        ui.phase(&format!("preparing {}", contestant.name()));
        let entrant = prepare::prepare(contestant, &opts, &|line| ui.notice(line));
        store.put_contestant(run_id, &entrant.record)?;
        if entrant.record.status != ContestantStatus::Measured {
            event(
                store,
                run_id,
                Some(entrant.name()),
                None,
                entrant.record.status.as_str(),
                &entrant.record.note,
            )?;
        }
        entrants.push(entrant);
    }
    if entrants.iter().all(|e| !e.in_race()) && !interrupt.load(Ordering::Relaxed) {
        anyhow::bail!(
            "no contestant could be measured: {}",
            entrants
                .iter()
                .map(|e| format!("{} ({})", e.name(), e.record.note))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }

    // From here on the runner's own thread stays off the server CPUs.
    let _pinned = isolation::PinnedThread::to(&config.load_cpus);
    warm_up_at_start(plan, &entrants, config, &interrupt, ui);
    let mut launches = vec![cores::Launch::of_run(config); entrants.len()];
    if config.calibrate && !interrupt.load(Ordering::Relaxed) {
        calibrate_noise(store, run_id, plan, &entrants, config, &interrupt, ui)?;
    }

    for block in rounds::blocks(&plan.workloads, config) {
        if interrupt.load(Ordering::Relaxed) {
            break;
        }
        let mut sweeps = Vec::with_capacity(block.len());
        for workload in block {
            if interrupt.load(Ordering::Relaxed) {
                break;
            }
            let racing = enter_workload(
                store,
                run_id,
                workload,
                &mut entrants,
                &mut launches,
                &opts,
                config,
                ui,
            )?;
            let Some(racing) = racing else { continue };
            if scale::is_scale(workload) {
                let mut ctx = scale::Ctx::new(store, run_id, config, &interrupt, ui);
                ctx.restart = Some((&opts, &launches));
                scale::run_workload(&mut ctx, workload, &mut entrants, &racing)?;
                continue;
            }
            sweeps.push(rounds::Sweep::new(workload, racing, &done, &entrants));
        }
        let ctx = rounds::Ctx {
            store,
            run_id,
            config,
            interrupt: &interrupt,
            ui,
            done: &done,
        };
        rounds::run_block(&ctx, &mut sweeps, &mut entrants)?;
        // A workload that ends at max_rounds wider than its target is reported once, by
        // the report (`warnings::Warning::HighVariance`), not here (issue 8).
    }

    // The audit may start a contestant again (on the server CPUs): unpin first.
    drop(_pinned);
    if !interrupt.load(Ordering::Relaxed) {
        audit::audit_entrants(store, run_id, &mut entrants, &opts, config.audit, ui)?;
    }
    for entrant in &mut entrants {
        if let Some(guard) = entrant.guard.take() {
            guard.stop();
        }
    }
    let status = if interrupt.load(Ordering::Relaxed) {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    store.finish_run(run_id, status)?;
    Ok(RunEnd { run_id, status })
}

/// Readies `workload` for its rounds: the contestants in the race that serve every endpoint it
/// needs (the others are left out with a note), restarted if it asks for another deployment
/// ([`cores::redeploy`]). `None` when the workload is left out altogether.
#[allow(clippy::too_many_arguments)]
fn enter_workload(
    store: &Store,
    run_id: i64,
    workload: &Workload,
    entrants: &mut [Entrant],
    launches: &mut [cores::Launch],
    opts: &BringUpOptions<'_>,
    config: &RunConfig,
    ui: &dyn Ui,
) -> anyhow::Result<Option<Vec<usize>>> {
    if let Some(note) = ws::left_out(workload, config.workers) {
        ui.notice(&note);
        event(store, run_id, None, Some(&workload.name), "skip", &note)?;
        return Ok(None);
    }
    // Those up, less any that does not declare an endpoint this workload needs.
    let mut racing: Vec<usize> = Vec::new();
    for i in (0..entrants.len()).filter(|&i| entrants[i].in_race()) {
        let missing = undeclared_endpoints(&entrants[i], workload);
        if missing.is_empty() {
            racing.push(i);
            continue;
        }
        let note = format!(
            "left out of {}: its manifest does not declare {}",
            workload.name,
            missing.join(", ")
        );
        ui.notice(&format!("{}: {note}", entrants[i].name()));
        let name = Some(entrants[i].name());
        event(store, run_id, name, Some(&workload.name), "skip", &note)?;
    }
    cores::redeploy(
        store,
        run_id,
        workload,
        entrants,
        &mut racing,
        launches,
        opts,
        config,
        ui,
    )?;
    Ok(Some(racing))
}

/// Load every contestant gets once, after it starts and before anything is measured: runtimes
/// that compile hot code as they run (V8 above all) reach their steady state here rather than
/// in their first workload's trials, and the contestant the noise calibration measures gains no
/// head start over the others. Measured with bench/reproducibility.sh (2026-12-02): after only
/// the 0.5 s per-workload warm-up, Express served /json 32% slower in a full run than alone,
/// where the calibration had warmed it for 5.5 s.
pub const STARTUP_WARMUP: Duration = Duration::from_secs(3);

/// Runs [`STARTUP_WARMUP`] of the calibration workload (the plan's `json`, else its first)
/// against every contestant in the race that serves it; nothing is recorded.
fn warm_up_at_start(
    plan: &Plan,
    entrants: &[Entrant],
    config: &RunConfig,
    interrupt: &Arc<AtomicBool>,
    ui: &dyn Ui,
) {
    let Some(workload) = calibrate::pick_workload(&plan.workloads) else {
        return;
    };
    for entrant in entrants {
        if interrupt.load(Ordering::Relaxed) {
            return;
        }
        let Some(guard) = entrant.guard.as_ref() else {
            continue;
        };
        if !undeclared_endpoints(entrant, workload).is_empty() {
            continue;
        }
        ui.phase(&format!(
            "warming up {} ({})",
            entrant.name(),
            workload.name
        ));
        let plan = trial::load_plan(workload, guard.addr(), STARTUP_WARMUP, &config.load_cpus);
        let _ = plan.run(interrupt.clone(), |_| {});
    }
}

/// Runs `workload`'s warm-up (its load for its `warmup`, nothing recorded) against entrant `i`,
/// then checks that it is still up ([`check_alive`]).
#[allow(clippy::too_many_arguments)]
fn warm_up_entrant(
    store: &Store,
    run_id: i64,
    workload: &Workload,
    entrants: &mut [Entrant],
    i: usize,
    config: &RunConfig,
    interrupt: &Arc<AtomicBool>,
    ui: &dyn Ui,
) -> anyhow::Result<()> {
    let Some(guard) = entrants[i].guard.as_ref() else {
        return Ok(());
    };
    ui.phase(&format!(
        "{}: warming up {}",
        workload.name,
        entrants[i].name()
    ));
    let plan = trial::load_plan(workload, guard.addr(), workload.warmup, &config.load_cpus);
    let _ = plan.run(interrupt.clone(), |_| {});
    check_alive(store, run_id, &mut entrants[i], Some(&workload.name), ui)?;
    Ok(())
}

/// What one try of a round gave.
enum Measured {
    /// A trial that counts, with its figures.
    Counted(Box<crate::store::TrialMetrics>),
    /// A contaminated trial, stored and to be tried again.
    Contaminated,
    /// No trial that counts and none to try again: interrupted, failed or crashed.
    Nothing,
}

/// One try of round `round` for entrant `i`: wait for quiet, run the trial, store it (with its
/// `point` on a scale workload's axis, if any).
#[allow(clippy::too_many_arguments)]
fn measure(
    store: &Store,
    run_id: i64,
    workload: &Workload,
    entrants: &mut [Entrant],
    i: usize,
    round: u32,
    retry: u32,
    config: &RunConfig,
    interrupt: &Arc<AtomicBool>,
    ui: &dyn Ui,
    point: Option<crate::store::TrialPoint>,
) -> anyhow::Result<Measured> {
    let name = entrants[i].name().to_string();
    // The database server must be quiet too (autovacuum after /updates, for one).
    let database_pgid = config.postgres.as_ref().and_then(|pg| pg.pgid());
    let pgids: Vec<i32> = entrants
        .iter()
        .filter_map(|e| e.guard.as_ref().map(|g| g.pgid()))
        .chain(database_pgid)
        .collect();
    let cpus = cores::server_cpus(workload, config);
    let quiet = isolation::wait_for_quiet(&cpus, &pgids, isolation::QUIET_WAIT_MAX, interrupt);
    if interrupt.load(Ordering::Relaxed) {
        return Ok(Measured::Nothing);
    }
    // How fast the machine runs right now, on the quiet server CPU (about 4 ms).
    let speed_ns_per_step = cpus.first().and_then(|&cpu| isolation::speed_probe(cpu));
    let guard = entrants[i].guard.as_ref().expect("in race");
    let plan = trial::load_plan(workload, guard.addr(), workload.trial, &config.load_cpus);
    let started_at = crate::store::now_rfc3339();
    let trial_len = workload.trial.as_secs_f64();
    let outcome = trial::run_trial(
        &plan,
        guard.pgid(),
        database_pgid,
        &cpus,
        interrupt.clone(),
        |snap| {
            ui.trial(
                &name,
                &workload.name,
                round,
                snap.elapsed.as_secs_f64() / trial_len,
            )
        },
    );
    if interrupt.load(Ordering::Relaxed) {
        // A cut-short trial is not a trial: keep only whole ones.
        return Ok(Measured::Nothing);
    }
    let alive = check_alive(store, run_id, &mut entrants[i], Some(&workload.name), ui)?;
    let (recording, mut usage, database_usage) = match outcome {
        Ok(r) => r,
        Err(e) => {
            if alive {
                event(
                    store,
                    run_id,
                    Some(&name),
                    Some(&workload.name),
                    "error",
                    &e.to_string(),
                )?;
                ui.notice(&format!("{name}: {e}"));
            }
            return Ok(Measured::Nothing);
        }
    };
    cores::discount_engine(workload, &mut usage, &recording);
    let isolation = trial::Isolation {
        quiet,
        server_cpus: cpus.len(),
        retry,
        speed_ns_per_step,
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
    out.record.metrics.point = point;
    cores::annotate(&mut out.record.metrics, workload, &cpus, &usage);
    store.put_trial(run_id, &out.record)?;
    let quality = &out.record.metrics.quality;
    if quality.superseded && alive {
        ui.notice(&format!(
            "{}: {name}'s trial of round {round} was disturbed ({:.2} CPU-s used by something else on the server CPUs); trying it again",
            workload.name,
            quality.foreign_cpu_s.unwrap_or(0.0)
        ));
        return Ok(Measured::Contaminated);
    }
    // An engine limit travels in the trial's quality (`engine_limited`), from which the report
    // raises it once; only a missed rate is an event of its own.
    if let Some(warning) = rate_not_reached(&out.summary) {
        event(
            store,
            run_id,
            Some(&name),
            Some(&workload.name),
            "warning",
            &warning.for_run(),
        )?;
    }
    if quality.contaminated {
        let message = format!(
            "round {round} was disturbed in each of its {} tries (something else used {:.2} CPU-s on the server CPUs in the last); the last is kept and marked. Stop other work on this machine.",
            retry + 1,
            quality.foreign_cpu_s.unwrap_or(0.0)
        );
        event(
            store,
            run_id,
            Some(&name),
            Some(&workload.name),
            "contaminated",
            &message,
        )?;
    }
    Ok(if alive && out.record.metrics.counts() {
        Measured::Counted(Box::new(out.record.metrics))
    } else {
        Measured::Nothing
    })
}

/// Measures this machine's noise against the first contestant in the race, stores it with the
/// run's environment and prints it. Skipped when the run already has it (a resumed run).
fn calibrate_noise(
    store: &Store,
    run_id: i64,
    plan: &Plan,
    entrants: &[Entrant],
    config: &RunConfig,
    interrupt: &Arc<AtomicBool>,
    ui: &dyn Ui,
) -> anyhow::Result<()> {
    let Some(mut settings) = store.run(run_id)?.settings else {
        // Settings stored by an older faceoff: leave them as they are.
        return Ok(());
    };
    if settings.noise.is_some() {
        return Ok(());
    }
    let (Some(entrant), Some(workload)) = (
        entrants.iter().find(|e| e.in_race()),
        calibrate::pick_workload(&plan.workloads),
    ) else {
        return Ok(());
    };
    let guard = entrant.guard.as_ref().expect("in race");
    ui.phase(&format!(
        "measuring this machine's noise ({} on {})",
        workload.name,
        entrant.name()
    ));
    let Some(noise) = calibrate::calibrate(
        entrant.name(),
        guard,
        workload,
        &config.server_cpus,
        &config.load_cpus,
        interrupt.clone(),
    ) else {
        return Ok(());
    };
    ui.notice(&calibrate::describe(&noise));
    settings.noise = Some(noise);
    store.put_settings(run_id, &settings)?;
    Ok(())
}

/// Checks that a contestant is still running; if not, records the crash with its log tail and
/// takes it out of the race. Returns whether it is alive. A contestant stopped by an interrupt
/// did not crash (see [`crate::contestant::Guard::crashed`]): it counts as alive, and the loop
/// ends on the interrupt.
fn check_alive(
    store: &Store,
    run_id: i64,
    entrant: &mut Entrant,
    workload: Option<&str>,
    ui: &dyn Ui,
) -> anyhow::Result<bool> {
    let Some(guard) = entrant.guard.as_mut() else {
        return Ok(false);
    };
    let Some(how) = guard.crashed() else {
        return Ok(true);
    };
    let log = guard.log_path().to_path_buf();
    let tail = crate::contestant::log_tail(&log, 20);
    let message = format!(
        "{} {how} during the run; its log is {}:\n{tail}",
        entrant.name(),
        log.display()
    );
    ui.notice(&format!(
        "{} {how}; its log is {} (the run goes on without it)",
        entrant.name(),
        log.display()
    ));
    entrant.guard = None;
    entrant.record.status = ContestantStatus::Crashed;
    entrant.record.note = message.clone();
    store.put_contestant(run_id, &entrant.record)?;
    event(
        store,
        run_id,
        Some(entrant.name()),
        workload,
        "crash",
        &message,
    )?;
    Ok(false)
}

/// The contract endpoints `workload` needs (its request paths and `requires`) that the
/// entrant's manifest does not declare.
fn undeclared_endpoints(entrant: &Entrant, workload: &Workload) -> Vec<&'static str> {
    let paths = workload.requests.iter().map(|r| r.path.as_str());
    let targets = paths.chain(workload.requires.iter().map(String::as_str));
    let missing = entrant.contestant.manifest.undeclared(targets);
    missing.into_iter().map(|e| e.name()).collect()
}

fn event(
    store: &Store,
    run_id: i64,
    contestant: Option<&str>,
    workload: Option<&str>,
    kind: &str,
    message: &str,
) -> anyhow::Result<()> {
    store.put_event(
        run_id,
        &Event {
            at: crate::store::now_rfc3339(),
            contestant: contestant.map(str::to_string),
            workload: workload.map(str::to_string),
            kind: kind.to_string(),
            message: message.to_string(),
        },
    )?;
    Ok(())
}

fn done_trials(store: &Store, run_id: i64) -> anyhow::Result<Done> {
    let mut done = Done::default();
    // Scale trials (with a point) are resumed by `scale`, point by point.
    for t in store
        .run(run_id)?
        .trials
        .into_iter()
        .filter(|t| t.metrics.point.is_none())
    {
        *done
            .tries
            .entry((t.workload.clone(), t.contestant.clone(), t.round))
            .or_default() += 1;
        if t.metrics.counts() {
            done.rps
                .entry((t.workload, t.contestant))
                .or_default()
                .push(t.metrics.rps);
        }
    }
    Ok(done)
}
