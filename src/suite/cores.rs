//! Worker sweeps (issue 10, part 5): a workload that lists worker counts,
//! `workers = [1, 2]`, is measured once per count, each contestant restarted with
//! `WORKERS = w` for its point. The sweep is expanded here into one [`Workload`] per count,
//! named `<name>.w<count>`, so the runner, the store and the per-workload tables treat each
//! point as a workload of its own; [`WorkerPoint`] ties the points back to their sweep.
//!
//! `share_engine_cpus = true` runs the server on every CPU of the run, the load engine's
//! included: on a 2-CPU machine that is the only way to give a server two cores. It is only
//! fair where the engine costs little next to the server (a CPU-bound `/compute`); the runner
//! measures the engine's share of the shared CPUs in every such trial and leaves a figure above
//! [`ENGINE_SHARE_MAX`] out of the ranking.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::raw::RawWorkload;
use super::Workload;

/// Largest share of the shared CPUs' time (CPU-seconds over wall seconds x CPUs) the load
/// engine may use in a trial whose server runs on the engine's CPUs too.
///
/// Why 10%: the server can lose at most what the engine uses, so 10% bounds the figure's bias at
/// about the machine's own trial-to-trial noise (±11% on this 2-CPU VM, DESIGN.md). Measured
/// here (2026-12-02, /compute?n=10000, 8 connections, both CPUs shared): the engine used about
/// 1% against the pure-Python servers and more against the fast Node.js and Rust servers, whose
/// figures this rule then leaves out of the ranking rather than reporting a biased number.
pub const ENGINE_SHARE_MAX: f64 = 0.10;

/// Highest worker count a sweep may list (the reference contestants' `workers_max`).
pub const MAX_WORKERS: i64 = 64;

/// One point of a worker sweep: which sweep, how many workers, on which CPUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerPoint {
    /// The sweep's name as written in the suite (the points are `<sweep>.w<workers>`).
    pub sweep: String,
    /// `WORKERS` given to each contestant for this point.
    pub workers: u32,
    /// The server runs on every CPU of the run, the load engine's included.
    #[serde(default)]
    pub share_engine_cpus: bool,
}

/// A workload's sweep settings as checked, before expansion.
pub(super) struct Sweep {
    counts: Vec<u32>,
    share_engine_cpus: bool,
}

/// Takes the sweep fields out of `raw` and checks them; problems are `(offset, message)`.
pub(super) fn take_sweep(
    raw: &mut RawWorkload,
    problems: &mut Vec<(usize, String)>,
) -> Option<Sweep> {
    let what = format!("workload '{}'", raw.name.get_ref());
    let share: Option<Spanned<bool>> = raw.share_engine_cpus.take();
    let Some(list) = raw.workers.take() else {
        if let Some(s) = share {
            problems.push((
                s.span().start,
                format!(
                    "{what}: share_engine_cpus applies to a worker sweep; add a list of worker \
                     counts, e.g. workers = [1, 2]"
                ),
            ));
        }
        return None;
    };
    let mut counts: Vec<u32> = Vec::new();
    if list.get_ref().is_empty() {
        problems.push((
            list.span().start,
            format!("{what}: workers lists no count; write e.g. workers = [1, 2]"),
        ));
    }
    for count in list.get_ref() {
        let n = *count.get_ref();
        if !(1..=MAX_WORKERS).contains(&n) {
            problems.push((
                count.span().start,
                format!("{what}: a worker count must be between 1 and {MAX_WORKERS}, not {n}"),
            ));
        } else if counts.last().is_some_and(|&last| i64::from(last) >= n) {
            problems.push((
                count.span().start,
                format!(
                    "{what}: worker counts must rise without repeats, e.g. [1, 2, 4]; {n} \
                     follows {}",
                    counts.last().copied().unwrap_or_default()
                ),
            ));
        } else {
            counts.push(n as u32);
        }
    }
    Some(Sweep {
        counts,
        share_engine_cpus: share.is_some_and(|s| *s.get_ref()),
    })
}

/// The name of the point of sweep `sweep` at `workers`.
pub fn point_name(sweep: &str, workers: u32) -> String {
    format!("{sweep}.w{workers}")
}

/// One workload per worker count of `sweep`; `workload` itself when there is no sweep.
pub(super) fn expand(workload: Workload, sweep: Option<Sweep>) -> Vec<Workload> {
    let Some(sweep) = sweep else {
        return vec![workload];
    };
    sweep
        .counts
        .iter()
        .map(|&workers| Workload {
            name: point_name(&workload.name, workers),
            workers: Some(WorkerPoint {
                sweep: workload.name.clone(),
                workers,
                share_engine_cpus: sweep.share_engine_cpus,
            }),
            ..workload.clone()
        })
        .collect()
}

/// Whether `name` picks `workload` in `--only`/`--skip`: its own name, or its sweep's.
pub fn picks(workload: &Workload, name: &str) -> bool {
    workload.name == name || workload.workers.as_ref().is_some_and(|p| p.sweep == name)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::suite::{parse_plan, Error};

    fn suite(fields: &str) -> Result<crate::suite::Plan, Error> {
        parse_plan(
            &format!(
                "[[workload]]\nname = \"compute\"\n{fields}\n[[workload.request]]\npath = \
                 \"/compute?n=10000\"\n\n[[workload]]\nname = \"json\"\n[[workload.request]]\n\
                 path = \"/json\"\n"
            ),
            Path::new("s.toml"),
        )
    }

    fn problems(fields: &str) -> Vec<String> {
        match suite(fields) {
            Err(Error::Invalid { problems }) => problems.iter().map(|p| p.to_string()).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn a_sweep_becomes_one_workload_per_count() {
        let plan = suite("workers = [1, 2, 4]\nshare_engine_cpus = true").unwrap();
        let names: Vec<&str> = plan.workloads.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["compute.w1", "compute.w2", "compute.w4", "json"]);
        let point = plan.workloads[1].workers.clone().unwrap();
        assert_eq!(
            point,
            WorkerPoint {
                sweep: "compute".into(),
                workers: 2,
                share_engine_cpus: true
            }
        );
        assert_eq!(plan.workloads[3].workers, None);
        assert_eq!(plan.workloads[1].requests, plan.workloads[0].requests);
        // Without share_engine_cpus the server keeps its own CPUs.
        let plan = suite("workers = [1]").unwrap();
        assert!(
            !plan.workloads[0]
                .workers
                .as_ref()
                .unwrap()
                .share_engine_cpus
        );
        // --only and --skip take the sweep's name for all its points.
        let only = suite("workers = [1, 2]")
            .unwrap()
            .filter(&["compute".into()], &[])
            .unwrap();
        assert_eq!(only.workloads.len(), 2);
        let skip = suite("workers = [1, 2]")
            .unwrap()
            .filter(&[], &["compute".into()])
            .unwrap();
        assert_eq!(skip.workloads.len(), 1);
        let one = suite("workers = [1, 2]")
            .unwrap()
            .filter(&["compute.w2".into()], &[])
            .unwrap();
        assert_eq!(one.workloads[0].name, "compute.w2");
    }

    #[test]
    fn bad_sweeps_name_the_fix() {
        let p = problems("workers = [2, 1]");
        assert!(
            p[0].contains("s.toml:3:") && p[0].contains("must rise"),
            "{p:?}"
        );
        let p = problems("workers = [0, 65]");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("between 1 and 64, not 0"), "{p:?}");
        let p = problems("workers = []");
        assert!(p[0].contains("lists no count"), "{p:?}");
        let p = problems("share_engine_cpus = true");
        assert!(p[0].contains("add a list of worker counts"), "{p:?}");
        let p = problems("workers = [1, 1]");
        assert!(p[0].contains("without repeats"), "{p:?}");
    }

    #[test]
    fn the_cores_suite_is_built_in() {
        let plan = crate::suite::builtin("cores").unwrap();
        let points: Vec<(u32, bool)> = plan
            .workloads
            .iter()
            .filter_map(|w| w.workers.as_ref().map(|p| (p.workers, p.share_engine_cpus)))
            .collect();
        assert_eq!(points, [(1, true), (2, true)]);
    }
}
