//! Worker sweeps in a run (issue 10, part 5): before a workload that is a point of a sweep
//! ([`crate::suite::WorkerPoint`]), each contestant is restarted with that point's `WORKERS`
//! (and, with `share_engine_cpus`, pinned to every CPU of the run); before a workload that is
//! not, it goes back to the run's own deployment. Restarts go through the one bring-up path
//! ([`prepare::bring_up`]), without the contract checks it passed at the start of the run.
//!
//! Each trial of a point records the deployment, the cores the contestant used (its group's
//! CPU-seconds over the wall seconds) and, on shared CPUs, the engine's share of them
//! ([`TrialCores`]). The rule for shared CPUs: the engine may take at most
//! [`ENGINE_SHARE_MAX`] of the shared CPUs' time; a trial above it is marked engine-limited,
//! so it is shown with its reason and not ranked.

use crate::contestant::sampler::Usage;
use crate::load::Recording;
use crate::store::{ContestantStatus, Store, TrialCores, TrialMetrics};
use crate::suite::cores::ENGINE_SHARE_MAX;
use crate::suite::Workload;

use super::prepare::{self, BringUpOptions, Entrant};
use super::{event, RunConfig, Ui};

/// How a contestant is running: its `WORKERS` and the CPUs of its group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// `WORKERS`.
    pub workers: u32,
    /// CPUs its process group is pinned to.
    pub server_cpus: Vec<usize>,
}

impl Launch {
    /// The run's own deployment, as every contestant starts.
    pub fn of_run(config: &RunConfig) -> Launch {
        Launch {
            workers: config.workers,
            server_cpus: config.server_cpus.clone(),
        }
    }

    /// The deployment `workload` runs with.
    pub fn for_workload(workload: &Workload, config: &RunConfig) -> Launch {
        Launch {
            workers: workload
                .workers
                .as_ref()
                .map_or(config.workers, |p| p.workers),
            server_cpus: server_cpus(workload, config),
        }
    }
}

/// The CPUs the server runs on for `workload`: the run's server CPUs, or with
/// `share_engine_cpus` those and the load engine's together.
pub fn server_cpus(workload: &Workload, config: &RunConfig) -> Vec<usize> {
    let mut cpus = config.server_cpus.clone();
    if workload
        .workers
        .as_ref()
        .is_some_and(|p| p.share_engine_cpus)
    {
        cpus.extend(&config.load_cpus);
        cpus.sort_unstable();
        cpus.dedup();
    }
    cpus
}

/// Why `entrant` cannot run at `launch`, if it cannot: more workers than server CPUs, or than
/// its manifest's `workers_max`.
fn unfit(entrant: &Entrant, launch: &Launch) -> Option<String> {
    let cpus = launch.server_cpus.len();
    if launch.workers as usize > cpus {
        return Some(format!(
            "{} workers need as many server CPUs and this run has {cpus}; give more with \
             --server-cpus, or set share_engine_cpus = true in the suite",
            launch.workers
        ));
    }
    let max = entrant.contestant.manifest.start.workers_max?;
    (launch.workers > max.get()).then(|| {
        format!(
            "its manifest allows at most {max} workers (workers_max), not {}",
            launch.workers
        )
    })
}

/// Puts every entrant of `racing` in the deployment `workload` needs, restarting those that run
/// another, and drops from `racing` those that cannot run it (with a `skip` event) or did not
/// come back up (taken out of the run, with a `failed_start` event). `launches[i]` tracks how
/// entrant `i` runs.
#[allow(clippy::too_many_arguments)]
pub fn redeploy(
    store: &Store,
    run_id: i64,
    workload: &Workload,
    entrants: &mut [Entrant],
    racing: &mut Vec<usize>,
    launches: &mut [Launch],
    opts: &BringUpOptions<'_>,
    config: &RunConfig,
    ui: &dyn Ui,
) -> anyhow::Result<()> {
    let wanted = Launch::for_workload(workload, config);
    let mut kept = Vec::with_capacity(racing.len());
    for &i in racing.iter() {
        let name = entrants[i].name().to_string();
        if workload.workers.is_some() {
            if let Some(why) = unfit(&entrants[i], &wanted) {
                let note = format!("left out of {}: {why}", workload.name);
                ui.notice(&format!("{name}: {note}"));
                event(
                    store,
                    run_id,
                    Some(&name),
                    Some(&workload.name),
                    "skip",
                    &note,
                )?;
                continue;
            }
        }
        if launches[i] == wanted {
            kept.push(i);
            continue;
        }
        ui.phase(&format!(
            "{}: restarting {name} with WORKERS={} on CPUs {:?}",
            workload.name, wanted.workers, wanted.server_cpus
        ));
        if relaunch(
            store,
            run_id,
            workload,
            &mut entrants[i],
            &wanted,
            opts,
            config,
            ui,
        )? {
            launches[i] = wanted.clone();
            kept.push(i);
        }
    }
    *racing = kept;
    Ok(())
}

/// Stops `entrant` and starts it again as `launch` says. Returns whether it is up; one that
/// does not come back is recorded as failed to start (an interrupted start is not recorded).
#[allow(clippy::too_many_arguments)]
pub fn relaunch(
    store: &Store,
    run_id: i64,
    workload: &Workload,
    entrant: &mut Entrant,
    launch: &Launch,
    opts: &BringUpOptions<'_>,
    config: &RunConfig,
    ui: &dyn Ui,
) -> anyhow::Result<bool> {
    let name = entrant.name().to_string();
    if let Some(guard) = entrant.guard.take() {
        guard.stop();
    }
    let point = BringUpOptions {
        workers: launch.workers,
        server_cpus: &launch.server_cpus,
        checks: Vec::new(),
        ..opts.clone()
    };
    // The runner's thread sits on the load CPUs while it measures; a group is pinned
    // within the CPUs of the thread that starts it, so it starts from all the run's CPUs.
    let up = {
        let mut all = config.server_cpus.clone();
        all.extend(&config.load_cpus);
        let _wide = super::isolation::PinnedThread::to(&all);
        prepare::bring_up(&entrant.contestant, &point)
    };
    if let Some(guard) = up.guard {
        entrant.guard = Some(guard);
        return Ok(true);
    }
    if up.status == ContestantStatus::Interrupted {
        return Ok(false);
    }
    let message = format!(
        "did not come back up with WORKERS={} for {}: {}",
        launch.workers,
        workload.name,
        up.message.as_deref().unwrap_or("no reason given")
    );
    ui.notice(&format!("{name} {message} (the run goes on without it)"));
    entrant.record.status = ContestantStatus::FailedStart;
    entrant.record.note = message.clone();
    store.put_contestant(run_id, &entrant.record)?;
    event(
        store,
        run_id,
        Some(&name),
        Some(&workload.name),
        "failed_start",
        &message,
    )?;
    Ok(false)
}

/// On CPUs shared with the load engine, the engine's own CPU time is no contamination: it is
/// taken out of the server CPUs' busy time, and judged by [`ENGINE_SHARE_MAX`] instead.
pub fn discount_engine(workload: &Workload, usage: &mut Usage, recording: &Recording) {
    discount_engine_s(workload, usage, recording.engine_cpu.as_secs_f64());
}

fn discount_engine_s(workload: &Workload, usage: &mut Usage, engine_s: f64) {
    if workload
        .workers
        .as_ref()
        .is_some_and(|p| p.share_engine_cpus)
    {
        usage.server_busy_s = usage.server_busy_s.map(|busy| (busy - engine_s).max(0.0));
    }
}

/// The cores figures of a trial of a sweep point (nothing for other workloads), and the
/// engine-share rule on shared CPUs.
pub fn annotate(metrics: &mut TrialMetrics, workload: &Workload, cpus: &[usize], usage: &Usage) {
    let Some(point) = &workload.workers else {
        return;
    };
    let wall_s = usage.wall_s;
    let cores_used = (wall_s > 0.0).then(|| usage.cpu_s / wall_s);
    let engine_cpu_share = (point.share_engine_cpus && wall_s > 0.0)
        .then(|| metrics.engine_cpu_s / (wall_s * cpus.len().max(1) as f64));
    if let Some(share) = engine_cpu_share.filter(|s| *s > ENGINE_SHARE_MAX) {
        if metrics.quality.engine_limited.is_none() {
            metrics.quality.engine_limited = Some(engine_share_reason(share));
        }
    }
    metrics.cores = Some(TrialCores {
        workers: point.workers,
        server_cpus: cpus.to_vec(),
        shares_engine_cpus: point.share_engine_cpus,
        cores_used,
        engine_cpu_share,
    });
}

/// Why a shared-CPU trial is not ranked.
fn engine_share_reason(share: f64) -> String {
    format!(
        "the load engine used {:.1}% of the CPUs it shared with the server, above the {:.0}% a \
         shared-CPU trial allows, so it may have taken CPU from the server",
        share * 100.0,
        ENGINE_SHARE_MAX * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TrialQuality;

    fn metrics(engine_cpu_s: f64) -> TrialMetrics {
        TrialMetrics {
            database: None,
            point: None,
            ws: None,
            duration_s: 2.0,
            requests: 1000,
            rps: 500.0,
            errors: 0,
            errors_by_kind: Default::default(),
            status: Default::default(),
            latency_us: [1; 5],
            latency_uncorrected_us: [1; 5],
            latency_mean_us: 1.0,
            late_sends: 0,
            server_cpu_s: 3.0,
            cpu_ms_per_1k: 3.0,
            pss_mean_bytes: 1,
            pss_peak_bytes: 1,
            rss_peak_bytes: 1,
            engine_cpu_s,
            engine_busiest: 0.1,
            timeline_rps: Vec::new(),
            crashed: false,
            quality: TrialQuality::default(),
            cores: None,
        }
    }

    fn workload(share_engine_cpus: bool) -> Workload {
        let plan = crate::suite::parse_plan(
            &format!(
                "[[workload]]\nname = \"c\"\nworkers = [1, 2]\nshare_engine_cpus = \
                 {share_engine_cpus}\n[[workload.request]]\npath = \"/compute\"\n"
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        plan.workloads[1].clone()
    }

    #[test]
    fn a_shared_trial_over_the_engine_share_is_not_ranked() {
        let usage = Usage {
            cpu_s: 3.0,
            wall_s: 2.0,
            ..Usage::default()
        };
        // 0.2 CPU-s of engine in 2 s on 2 CPUs: 5%, allowed.
        let mut m = metrics(0.2);
        annotate(&mut m, &workload(true), &[0, 1], &usage);
        let cores = m.cores.clone().unwrap();
        assert_eq!(cores.workers, 2);
        assert_eq!(cores.cores_used, Some(1.5));
        assert!((cores.engine_cpu_share.unwrap() - 0.05).abs() < 1e-9);
        assert_eq!(m.quality.engine_limited, None);
        // 0.6 CPU-s: 15%, over the rule.
        let mut m = metrics(0.6);
        annotate(&mut m, &workload(true), &[0, 1], &usage);
        assert!(m.quality.engine_limited.unwrap().contains("15.0%"));
        // Not shared: no engine share, whatever the engine used.
        let mut m = metrics(0.6);
        annotate(&mut m, &workload(false), &[1], &usage);
        assert_eq!(m.cores.unwrap().engine_cpu_share, None);
        assert_eq!(m.quality.engine_limited, None);
        // Not a sweep point: nothing recorded.
        let mut plain = workload(false);
        plain.workers = None;
        let mut m = metrics(0.6);
        annotate(&mut m, &plain, &[1], &usage);
        assert_eq!(m.cores, None);
        // No sampled time: cores used is missing, not zero.
        let mut m = metrics(0.1);
        annotate(&mut m, &workload(true), &[0, 1], &Usage::default());
        let cores = m.cores.unwrap();
        assert_eq!((cores.cores_used, cores.engine_cpu_share), (None, None));
    }

    #[test]
    fn engine_time_on_shared_cpus_is_not_contamination() {
        let usage = Usage {
            server_busy_s: Some(3.5),
            ..Usage::default()
        };
        let mut own = usage.clone();
        discount_engine_s(&workload(false), &mut own, 0.4);
        assert_eq!(own.server_busy_s, Some(3.5));
        let mut shared = usage.clone();
        discount_engine_s(&workload(true), &mut shared, 0.4);
        assert!((shared.server_busy_s.unwrap() - 3.1).abs() < 1e-9);
        // Never below zero, and unknown stays unknown.
        discount_engine_s(&workload(true), &mut shared, 9.0);
        assert_eq!(shared.server_busy_s, Some(0.0));
        let mut unknown = Usage::default();
        discount_engine_s(&workload(true), &mut unknown, 0.4);
        assert_eq!(unknown.server_busy_s, None);
    }
}
