//! The noise calibration at the start of a run (issue 8, Build 6): a few back-to-back short
//! trials of one contestant, nothing changed between them, give this machine's own
//! trial-to-trial spread, so a reader knows what "within noise" means here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::isolation;
use super::trial;
use crate::contestant::Guard;
use crate::store::NoiseCalibration;
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
) -> Option<NoiseCalibration> {
    let warmup = trial::load_plan(workload, guard.addr(), WARMUP, load_cpus);
    let _ = warmup.run(interrupt.clone(), |_| {});
    let plan = trial::load_plan(workload, guard.addr(), TRIAL, load_cpus);
    let mut rps = Vec::with_capacity(TRIALS);
    for _ in 0..TRIALS {
        isolation::wait_for_quiet(server_cpus, &[guard.pgid()], QUIET_WAIT_MAX, &interrupt);
        if interrupt.load(Ordering::Relaxed) {
            return None;
        }
        let recording = plan.run(interrupt.clone(), |_| {}).ok()?;
        if interrupt.load(Ordering::Relaxed) {
            return None;
        }
        let summary = crate::load::summary::Summary::of(&recording);
        if summary.requests > 0 {
            rps.push(summary.rps);
        }
    }
    noise_of(contestant, &workload.name, TRIAL.as_secs_f64(), &rps)
}

/// The noise of some trials' throughputs: half their range relative to their median. `None`
/// with fewer than two trials, or a median of zero.
pub fn noise_of(
    contestant: &str,
    workload: &str,
    trial_s: f64,
    rps: &[f64],
) -> Option<NoiseCalibration> {
    if rps.len() < 2 {
        return None;
    }
    let median_rps = crate::stats::median(rps)?;
    if median_rps <= 0.0 {
        return None;
    }
    let (lo, hi) = rps
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
    Some(NoiseCalibration {
        contestant: contestant.to_string(),
        workload: workload.to_string(),
        trials: rps.len() as u32,
        trial_s,
        median_rps,
        rel_spread: (hi - lo) / 2.0 / median_rps,
    })
}

/// One line for the terminal at the start of a run.
pub fn describe(n: &NoiseCalibration) -> String {
    format!(
        "machine noise: {} trials of {:.1} s of {} on {}, median {:.0} req/s, spread +/-{:.1}% \
         (differences smaller than this are within this machine's noise)",
        n.trials,
        n.trial_s,
        n.workload,
        n.contestant,
        n.median_rps,
        n.rel_spread * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_half_the_range_over_the_median() {
        let n = noise_of("a", "json", 1.0, &[90.0, 100.0, 110.0, 100.0, 95.0]).unwrap();
        assert_eq!(n.median_rps, 100.0);
        assert_eq!(n.trials, 5);
        assert!((n.rel_spread - 0.10).abs() < 1e-9);
        assert!(describe(&n).contains("+/-10.0%"), "{}", describe(&n));
        assert_eq!(noise_of("a", "json", 1.0, &[100.0]), None);
        assert_eq!(noise_of("a", "json", 1.0, &[0.0, 0.0]), None);
    }
}
