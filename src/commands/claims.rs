//! `faceoff claims [--run ID]... [--claims FILE]`: the claims judged on stored runs.
//!
//! The claims' figures come from runs of different suites (standard, scale, cores, compute), so
//! several runs are judged together: those given with `--run`, else the latest run of each
//! suite. Each test is judged within one run and says which ([`crate::verdict::judge`]).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{ClaimsArgs, StoredRun};
use crate::report::ReportData;
use crate::store::Store;
use crate::verdict::{claims, cost, judge, Facts};

/// Runs `faceoff claims`.
pub fn run(args: ClaimsArgs) -> anyhow::Result<ExitCode> {
    // The files first: a mistake in them is reported before any database is opened.
    let file = claims::load(args.claims.as_deref().unwrap_or(claims::DEFAULT_CLAIMS))?;
    let pricing = cost::load(args.pricing.as_deref().unwrap_or(cost::DEFAULT_PRICING))?;
    let store = super::show::open_existing(args.db.as_ref())?;
    let ids = if args.runs.is_empty() {
        latest_of_each_suite(&store)?
    } else {
        args.runs.clone()
    };
    let runs = ids
        .iter()
        .map(|&id| facts_of_run(&store, id))
        .collect::<anyhow::Result<Vec<Facts>>>()?;
    let report = judge::judge_runs(&file, &runs, &pricing);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        stdout.write_all(crate::report::answer::claims_text(&report).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The newest run of each suite name, newest first. A run that stored no trial (it stopped
/// before measuring) leaves its suite to an older run that did; a suite none of whose runs
/// did is represented by its newest run, whose audit may still count.
pub fn latest_of_each_suite(store: &Store) -> anyhow::Result<Vec<i64>> {
    let rows = store.runs()?;
    if rows.is_empty() {
        anyhow::bail!("the results database has no runs yet; start one with `faceoff run`");
    }
    let mut picked: Vec<(&str, i64, bool)> = Vec::new();
    for r in &rows {
        let measured = r.trials > 0;
        match picked.iter_mut().find(|(s, ..)| *s == r.suite_name) {
            None => picked.push((&r.suite_name, r.id, measured)),
            Some(p) if !p.2 && measured => *p = (&r.suite_name, r.id, true),
            Some(_) => {}
        }
    }
    let mut ids: Vec<i64> = picked.into_iter().map(|(_, id, _)| id).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ids)
}

fn facts_of_run(store: &Store, run_id: i64) -> anyhow::Result<Facts> {
    let detail = store.run(run_id)?;
    Ok(Facts::from_report(&ReportData::from_run(&detail)))
}

/// The facts of the stored run asked for (the newest when none is).
pub(super) fn facts_of(stored: &StoredRun) -> anyhow::Result<Facts> {
    let store = super::show::open_existing(stored.db.as_ref())?;
    let run_id = match stored.run {
        Some(id) => id,
        None => store
            .latest_run()?
            .context("the results database has no runs yet; start one with `faceoff run`")?,
    };
    facts_of_run(&store, run_id)
}
