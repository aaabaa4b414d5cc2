//! The "best of each stack" view: per workload, the best ranked contestant of every stack
//! (Node.js, Python, Rust first, then other labels), with its figures and whether it leads.

use super::{
    ContestantInfo, ContestantResult, Estimate, StackCell, StackRow, StackView, Who, WorkloadReport,
};
use crate::stats;

/// The stacks of the reference contestants, shown first in this order.
const REFERENCE_STACKS: [&str; 3] = ["Node.js", "Python", "Rust"];

/// The reference stacks first (when present), then other labels alphabetically.
fn order(contestants: &[ContestantInfo]) -> Vec<String> {
    let mut stacks: Vec<String> = REFERENCE_STACKS
        .iter()
        .filter(|s| contestants.iter().any(|c| c.stack == **s))
        .map(|s| s.to_string())
        .collect();
    let mut others: Vec<String> = contestants
        .iter()
        .map(|c| c.stack.clone())
        .filter(|s| !REFERENCE_STACKS.contains(&s.as_str()))
        .collect();
    others.sort();
    others.dedup();
    stacks.extend(others);
    stacks
}

/// The best ranked result of each stack on every workload, the stacks in [`order`].
pub(super) fn view(contestants: &[ContestantInfo], workloads: &[WorkloadReport]) -> StackView {
    let stacks = order(contestants);
    let rows = workloads
        .iter()
        .map(|w| {
            // Results are in rank order, so the first ranked one of each stack is its best;
            // lower bounds and results without figures are not a stack's figure.
            let best: Vec<Option<(&ContestantResult, Estimate)>> = stacks
                .iter()
                .map(|s| {
                    w.results
                        .iter()
                        .filter(|r| r.rank.is_some())
                        .find(|r| &r.stack == s)
                        .and_then(|r| Some((r, r.rps?)))
                })
                .collect();
            let leader = best.iter().flatten().min_by_key(|(r, _)| r.rank).copied();
            let cells = best
                .into_iter()
                .map(|cell| {
                    cell.map(|(r, rps)| {
                        let is_leader = leader.is_some_and(|(l, _)| l.rank == r.rank);
                        StackCell {
                            contestant: Who {
                                name: r.name.clone(),
                                display_name: r.display_name.clone(),
                                stack: r.stack.clone(),
                            },
                            rps,
                            p99_us: r.p99_us,
                            cpu_ms_per_1k: r.cpu_ms_per_1k,
                            pss_mean_bytes: r.pss_mean_bytes,
                            leader: is_leader,
                            within_noise_of_leader: !is_leader
                                && leader.is_some_and(|(_, l)| {
                                    stats::overlaps(
                                        &super::build::interval_of(&rps),
                                        &super::build::interval_of(&l),
                                    )
                                }),
                        }
                    })
                })
                .collect();
            StackRow {
                workload: w.name.clone(),
                cells,
            }
        })
        .collect();
    StackView { stacks, rows }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn reference_stacks_come_first() {
        let info = |stack: &str| ContestantInfo {
            name: stack.into(),
            display_name: stack.into(),
            stack: stack.into(),
            language: String::new(),
            framework: String::new(),
            status: crate::store::ContestantStatus::Measured,
            versions: BTreeMap::new(),
            verify: Vec::new(),
            verify_passed: 0,
            verify_failed: 0,
            note: String::new(),
            runtime: None,
            deployment: None,
        };
        let order = order(&[info("Go"), info("Rust"), info("Node.js"), info("Elixir")]);
        assert_eq!(order, ["Node.js", "Rust", "Elixir", "Go"]);
    }
}
