//! `faceoff claims [--run ID] [--claims FILE]`: the claims judged on a stored run.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{ClaimsArgs, StoredRun};
use crate::report::ReportData;
use crate::verdict::{claims, cost, judge, Facts};

/// Runs `faceoff claims`.
pub fn run(args: ClaimsArgs) -> anyhow::Result<ExitCode> {
    // The files first: a mistake in them is reported before any database is opened.
    let file = claims::load(args.claims.as_deref().unwrap_or(claims::DEFAULT_CLAIMS))?;
    let pricing = cost::load(args.pricing.as_deref().unwrap_or(cost::DEFAULT_PRICING))?;
    let facts = facts_of(&args.stored)?;
    let report = judge::judge(&file, &facts, &pricing);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        stdout.write_all(crate::report::answer::claims_text(&report).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
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
    let detail = store.run(run_id)?;
    Ok(Facts::from_report(&ReportData::from_run(&detail)))
}
