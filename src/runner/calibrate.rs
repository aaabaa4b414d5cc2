//! The noise calibration at the start of a run (issue 8, Build 6): a few back-to-back short
//! trials of one contestant, nothing changed between them, give this machine's own
//! trial-to-trial spread, so a reader knows what "within noise" means here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::environment::Noise;
use super::isolation;
use super::trial;
use crate::contestant::Guard;
use crate::suite::Workload;

/// Trials in a calibration: five give a spread that means something and cost ~6 s.
pub const TRIALS: usize = 5;
/// Length of each calibration trial.
pub const TRIAL: Duration = Duration::from_secs(1);
/// Warm-up before the calibration trials.
pub const WARMUP: Duration = Duration::from_millis(500);
/// Bound on the wait for quiet before each calibration trial (shorter than a real trial's, to
/// keep the whole calibration near ten seconds on a busy machine).
pub const QUIET_WAIT_MAX: Duration = Duration::from_secs(1);

/// The workload used: the plan's `json` when it has one (cheap, and what every reference
/// contestant serves), else its first.
pub fn pick_workload(workloads: &[Workload]) -> Option<&Workload> {
    workloads
        .iter()
        .find(|w| w.name == "json")
        .or_else(|| workloads.first())
}

/// Runs the calibration against `guard`; `None` when interrupted or when too few trials
/// produced a figure.
pub fn calibrate(
    contestant: &str,
    guard: &Guard,
    workload: &Workload,
    server_cpus: &[usize],
    load_cpus: &[usize],
    interrupt: Arc<AtomicBool>,
) -> Option<Noise> {
    let warmup = trial::load_plan(workload, guard.addr(), WARMUP, load_cpus);
    let _ = crate::load::run(&warmup, interrupt.clone(), |_| {});
    let plan = trial::load_plan(workload, guard.addr(), TRIAL, load_cpus);
    let mut rps = Vec::with_capacity(TRIALS);
    for _ in 0..TRIALS {
        isolation::wait_for_quiet(server_cpus, &[guard.pgid()], QUIET_WAIT_MAX, &interrupt);
        if interrupt.load(Ordering::Relaxed) {
            return None;
        }
        let recording = crate::load::run(&plan, interrupt.clone(), |_| {}).ok()?;
        if interrupt.load(Ordering::Relaxed) {
            return None;
        }
        let summary = crate::load::summary::Summary::of(&recording);
        if summary.requests > 0 {
            rps.push(summary.rps);
        }
    }
    Noise::of(contestant, &workload.name, TRIAL.as_secs_f64(), rps)
}
