//! The trial loop of `faceoff run`: every contestant up together, then per workload a warm-up
//! of each and rounds of one trial per contestant in turn (so machine drift hits all alike),
//! until every contestant's confidence interval is narrow enough. Each trial is written to the
//! store the moment it ends.

pub mod environment;
pub mod prepare;
pub mod trial;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;

use crate::contestant::Contestant;
use crate::stats;
use crate::store::{Event, RunStatus, Store};
use crate::suite::{Plan, Workload};
use crate::warnings::engine_warnings;
use prepare::{Entrant, PrepareOptions};

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
    /// Folder for this tool's results (`faceoff-results`).
    pub results_dir: PathBuf,
    /// Check the full API contract (reference suites) rather than only `/healthz`.
    pub full_contract: bool,
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

/// Trials already in the store for (workload, contestant): their throughputs, by round.
type Done = BTreeMap<(String, String), Vec<f64>>;

/// Runs `plan` on `contestants`, storing everything in `store` under `run_id`.
///
/// `done` holds trials already stored (when resuming); their rounds are not run again.
pub fn run(
    store: &Store,
    run_id: i64,
    plan: &Plan,
    contestants: Vec<Contestant>,
    config: &RunConfig,
    interrupt: Arc<AtomicBool>,
    ui: &dyn Ui,
) -> anyhow::Result<RunEnd> {
    let run_dir = config.results_dir.join(run_id.to_string());
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("could not create '{}'", run_dir.display()))?;
    let done = done_trials(store, run_id)?;

    let opts = PrepareOptions {
        cache: &config.cache,
        run_dir: &run_dir,
        server_cpus: &config.server_cpus,
        workers: config.workers,
        full_contract: config.full_contract,
    };
    let mut entrants: Vec<Entrant> = Vec::with_capacity(contestants.len());
    for contestant in contestants {
        if interrupt.load(Ordering::Relaxed) {
            break;
        }
        ui.phase(&format!("preparing {}", contestant.name()));
        let entrant = prepare::prepare(contestant, &opts, &|line| ui.notice(line));
        store.put_contestant(run_id, &entrant.record)?;
        if entrant.record.status != "measured" {
            event(
                store,
                run_id,
                Some(entrant.name()),
                None,
                &entrant.record.status,
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

    for workload in &plan.workloads {
        if interrupt.load(Ordering::Relaxed) {
            break;
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
        let mut samples: BTreeMap<usize, Vec<f64>> = racing
            .iter()
            .map(|&i| {
                (
                    i,
                    done.get(&(workload.name.clone(), entrants[i].name().to_string()))
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect();
        let converged = |samples: &BTreeMap<usize, Vec<f64>>, entrants: &[Entrant]| {
            samples
                .iter()
                .filter(|(i, _)| entrants[**i].in_race())
                .all(|(_, s)| {
                    stats::should_stop(
                        s,
                        workload.target_ci_rel,
                        workload.min_rounds,
                        workload.max_rounds,
                    )
                    .is_stop()
                })
        };
        if converged(&samples, &entrants) {
            continue;
        }

        // Warm-up: every contestant, not recorded.
        for &i in &racing {
            if interrupt.load(Ordering::Relaxed) {
                break;
            }
            ui.phase(&format!(
                "{}: warming up {}",
                workload.name,
                entrants[i].name()
            ));
            let Some(guard) = entrants[i].guard.as_ref() else {
                continue;
            };
            let plan = trial::load_plan(workload, guard.addr(), workload.warmup, &config.load_cpus);
            let _ = crate::load::run(&plan, interrupt.clone(), |_| {});
            check_alive(store, run_id, &mut entrants[i], Some(&workload.name), ui)?;
        }

        let first_round = samples.values().map(Vec::len).min().unwrap_or(0) as u32 + 1;
        for round in first_round..=workload.max_rounds as u32 {
            for &i in &racing {
                if interrupt.load(Ordering::Relaxed) {
                    break;
                }
                if !entrants[i].in_race() || samples[&i].len() >= round as usize {
                    continue;
                }
                let name = entrants[i].name().to_string();
                ui.phase(&format!("{}: round {round}", workload.name));
                let guard = entrants[i].guard.as_ref().expect("in race");
                let plan =
                    trial::load_plan(workload, guard.addr(), workload.trial, &config.load_cpus);
                let started_at = crate::store::now_rfc3339();
                let trial_len = workload.trial.as_secs_f64();
                let outcome = trial::run_trial(&plan, guard.pgid(), interrupt.clone(), |snap| {
                    ui.trial(
                        &name,
                        &workload.name,
                        round,
                        snap.elapsed.as_secs_f64() / trial_len,
                    )
                });
                if interrupt.load(Ordering::Relaxed) {
                    // A cut-short trial is not a trial: keep only whole ones.
                    break;
                }
                let alive = check_alive(store, run_id, &mut entrants[i], Some(&workload.name), ui)?;
                let (recording, usage) = match outcome {
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
                        continue;
                    }
                };
                let out = trial::record(
                    &workload.name,
                    &name,
                    round,
                    started_at,
                    &recording,
                    &usage,
                    !alive,
                );
                store.put_trial(run_id, &out.record)?;
                for warning in engine_warnings(&out.summary) {
                    event(
                        store,
                        run_id,
                        Some(&name),
                        Some(&workload.name),
                        "warning",
                        &warning.to_string(),
                    )?;
                }
                if alive {
                    samples
                        .get_mut(&i)
                        .expect("racing")
                        .push(out.record.metrics.rps);
                }
            }
            if interrupt.load(Ordering::Relaxed) || converged(&samples, &entrants) {
                break;
            }
        }
        for (&i, s) in &samples {
            if let stats::Decision::MaxRounds { rel_half_width } = stats::should_stop(
                s,
                workload.target_ci_rel,
                workload.min_rounds,
                workload.max_rounds,
            ) {
                if entrants[i].in_race() {
                    let message = format!(
                        "after {} rounds the 95% interval of the median throughput is +/-{:.1}%, wider than the +/-{:.1}% target; raise max_rounds or the trial length, or quiet the machine",
                        s.len(),
                        rel_half_width * 100.0,
                        workload.target_ci_rel * 100.0
                    );
                    event(
                        store,
                        run_id,
                        Some(entrants[i].name()),
                        Some(&workload.name),
                        "high_variance",
                        &message,
                    )?;
                }
            }
        }
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

/// Checks that a contestant is still running; if not, records the crash with its log tail and
/// takes it out of the race. Returns whether it is alive.
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
    let Some(how) = guard.exited() else {
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
    entrant.record.status = "crashed".into();
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
    let mut done = Done::new();
    for t in store.run(run_id)?.trials {
        if !t.metrics.crashed {
            done.entry((t.workload, t.contestant))
                .or_default()
                .push(t.metrics.rps);
        }
    }
    Ok(done)
}
