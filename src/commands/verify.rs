//! `faceoff verify`: bring every contestant up through the run's own path
//! ([`crate::runner::prepare::bring_up`]: install, dataset, start, the contract checks), stop
//! it, then print a table of contestant × check.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::cli::VerifyArgs;
use crate::contestant::Contestant;
use crate::contract::{self, CheckResult};
use crate::runner::prepare::{bring_up, BringUpOptions};
use crate::store::ContestantStatus;

/// Verify's verdict on one contestant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Passed,
    /// It ran, and a check failed or it exited during the checks.
    Failed,
    /// A runtime it needs is missing.
    Skipped,
    /// It could not be checked: install, dataset or start failed.
    Error,
}

impl Verdict {
    /// The verdict for a bring-up status; `None` when verify was interrupted.
    fn of(status: ContestantStatus) -> Option<Verdict> {
        Some(match status {
            ContestantStatus::Measured => Verdict::Passed,
            ContestantStatus::FailedVerify => Verdict::Failed,
            ContestantStatus::Skipped => Verdict::Skipped,
            ContestantStatus::InstallFailed
            | ContestantStatus::FailedStart
            | ContestantStatus::Crashed => Verdict::Error,
            ContestantStatus::Interrupted => return None,
        })
    }
}

/// What became of one contestant.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Machine name.
    pub name: String,
    /// Name for tables.
    pub display_name: String,
    /// Its verdict.
    pub status: Verdict,
    /// Why it was skipped or could not be checked.
    pub message: Option<String>,
    /// The check results (empty when it never started).
    pub checks: Vec<CheckResult>,
    /// Checks not run because they exercise endpoints its manifest does not declare.
    pub undeclared: Vec<&'static str>,
    /// `name=version` pairs from its versions command.
    pub versions: Vec<(String, String)>,
    /// Its server log.
    pub log: Option<PathBuf>,
}

/// Runs `faceoff verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    // Every manifest is read first so a typo fails before any slow install.
    let contestants = super::select::choose(
        &args.contestants,
        &args.only,
        &args.skip,
        super::select::WithOwn::OwnOnly,
    )?;
    let database = args.database.kind();
    let known = contract::check_names_for(database);
    let only: Vec<&'static str> = match &args.checks {
        Some(names) => names
            .iter()
            .map(|name| {
                known
                    .iter()
                    .find(|k| **k == name.as_str())
                    .copied()
                    .with_context(|| {
                        if contract::POSTGRES_CHECKS.contains(&name.as_str()) {
                            format!("the check '{name}' needs --database postgres")
                        } else {
                            format!(
                                "there is no check '{name}'; the checks are {}",
                                known.join(", ")
                            )
                        }
                    })
            })
            .collect::<anyhow::Result<_>>()?,
        None => known.clone(),
    };
    let places = super::OneAtATime::new("verify", args.server_cpus.as_ref())?;
    let cancel = super::cancel_on_interrupt()?;
    // One contestant is up at a time, with one worker.
    let need = crate::database::ConnectionNeed {
        contestants: 1,
        workers: 1,
    };
    let postgres = match args.database.open(
        places.work_dir().join("postgres.log"),
        places.server_cpus(),
        need,
        &cancel,
    ) {
        Ok(pg) => pg,
        Err(_) if cancel.is_cancelled() => {
            eprintln!("interrupted: verify stopped before any contestant was checked");
            return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
        }
        Err(e) => return Err(e),
    };
    let opts = places.options(only.clone(), cancel.clone(), postgres.as_ref());
    let mut outcomes = Vec::new();
    for c in &contestants {
        match verify_one(c, &opts) {
            Some(outcome) => outcomes.push(outcome),
            None => break,
        }
    }
    if let Some(pg) = postgres {
        pg.stop();
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "contestants": outcomes }))?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &outcomes, &only)?;
    }
    if cancel.is_cancelled() {
        eprintln!("interrupted: verify stopped; the table shows the contestants it finished");
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    let bad = outcomes
        .iter()
        .any(|o| matches!(o.status, Verdict::Failed | Verdict::Error));
    if bad {
        return Ok(ExitCode::from(crate::EXIT_FAILURE));
    }
    if !outcomes.iter().any(|o| o.status == Verdict::Passed) {
        let why: Vec<String> = outcomes
            .iter()
            .map(|o| format!("{} ({})", o.name, o.message.as_deref().unwrap_or("skipped")))
            .collect();
        eprintln!(
            "error: nothing was verified: every contestant was skipped: {}; install what they \
             need and run verify again (exit status {EXIT_NOTHING_VERIFIED})",
            why.join("; ")
        );
        return Ok(ExitCode::from(EXIT_NOTHING_VERIFIED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit status of `verify` when no contestant was checked at all (every one was skipped, e.g.
/// for a runtime that is not installed): not a pass (issue 13).
pub const EXIT_NOTHING_VERIFIED: u8 = 4;

/// Brings `c` up through the run's own path, checks it and stops it; `None` if interrupted.
fn verify_one(c: &Contestant, opts: &BringUpOptions<'_>) -> Option<Outcome> {
    let up = bring_up(c, opts);
    let status = Verdict::of(up.status)?;
    if status == Verdict::Skipped {
        let message = up.message.as_deref().unwrap_or_default();
        eprintln!("notice: skipping {}: {message}", c.name());
    }
    if let Some(guard) = up.guard {
        guard.stop();
    }
    Some(Outcome {
        name: c.name().to_string(),
        display_name: c.manifest.display_name.clone(),
        status,
        message: up.message,
        checks: up.checks,
        undeclared: up.undeclared,
        versions: up.versions,
        log: up.log,
    })
}

fn write_table(out: &mut impl Write, outcomes: &[Outcome], only: &[&str]) -> std::io::Result<()> {
    let check_width = only.iter().map(|n| n.len()).max().unwrap_or(5).max(5);
    let widths: Vec<usize> = outcomes.iter().map(|o| o.name.len().max(4)).collect();
    let mut line = format!("{:check_width$}", "check");
    for (o, w) in outcomes.iter().zip(&widths) {
        line.push_str(&format!("  {:w$}", o.name));
    }
    writeln!(out, "{}", line.trim_end())?;
    for name in only {
        let mut line = format!("{name:check_width$}");
        for (o, w) in outcomes.iter().zip(&widths) {
            let cell = match o.checks.iter().find(|r| r.name == *name) {
                Some(r) if r.passed => "pass",
                Some(_) => "FAIL",
                None if o.status == Verdict::Skipped || o.undeclared.contains(name) => "skip",
                None => "-",
            };
            line.push_str(&format!("  {cell:w$}"));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let mut first = true;
    for o in outcomes {
        let failures: Vec<&CheckResult> = o.checks.iter().filter(|r| !r.passed).collect();
        if failures.is_empty() && o.message.is_none() && o.undeclared.is_empty() {
            continue;
        }
        if first {
            writeln!(out)?;
            first = false;
        }
        if !o.undeclared.is_empty() {
            writeln!(
                out,
                "{} (skipped): {}: its manifest does not declare those endpoints",
                o.name,
                o.undeclared.join(", ")
            )?;
        }
        if let Some(message) = &o.message {
            let label = if o.status == Verdict::Skipped {
                "skipped"
            } else {
                "error"
            };
            writeln!(out, "{} ({label}): {message}", o.name)?;
        }
        for r in failures {
            writeln!(
                out,
                "{} / {}: {}",
                o.name,
                r.name,
                r.reason.as_deref().unwrap_or("failed")
            )?;
        }
    }
    let count = |s: Verdict| outcomes.iter().filter(|o| o.status == s).count();
    writeln!(
        out,
        "\nverify: {} of {} contestants meet the contract ({} failing, {} with errors, {} skipped)",
        count(Verdict::Passed),
        outcomes.len(),
        count(Verdict::Failed),
        count(Verdict::Error),
        count(Verdict::Skipped)
    )
}
