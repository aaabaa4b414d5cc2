//! `faceoff audit`: bring every contestant up through the run's own path
//! ([`crate::runner::prepare::bring_up`]), probe its security posture ([`crate::audit`]), stop
//! it, and print a table per contestant (terminal, `--json`, `--markdown FILE`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::audit::deps::{self, Advisories};
use crate::audit::{self, AuditDepth, AuditReport, AuditStatus, ContestantAudit};
use crate::cli::AuditArgs;
use crate::contestant::Contestant;
use crate::runner::audit::{count_dependencies, Running};
use crate::runner::prepare::{bring_up, BringUpOptions};
use crate::store::ContestantStatus;

/// Runs `faceoff audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let contestants = super::select::choose(
        &args.contestants,
        &args.only,
        &args.skip,
        super::select::WithOwn::OwnOnly,
    )?;
    if let Some(dir) = &args.advisories {
        if !dir.is_dir() {
            anyhow::bail!(
                "the advisories folder '{}' does not exist; give a folder of <contestant>.json \
                 reports",
                dir.display()
            );
        }
    }
    // Fail before any slow work if the Markdown file cannot be written.
    if let Some(path) = &args.markdown {
        std::fs::write(path, "")
            .with_context(|| format!("could not write the Markdown file '{}'", path.display()))?;
    }
    let places = super::OneAtATime::new("audit", args.server_cpus.as_ref())?;
    let cancel = super::cancel_on_interrupt()?;
    let opts = places.options(Vec::new(), cancel.clone(), None);
    let mut audits = Vec::new();
    for c in &contestants {
        match audit_one(c, &opts, args.advisories.as_deref()) {
            Some(a) => audits.push(a),
            None => break,
        }
    }
    let report = AuditReport {
        schema_version: audit::SCHEMA_VERSION,
        faceoff_version: env!("CARGO_PKG_VERSION"),
        contestants: audits,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", audit::render::term(&report.contestants))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, audit::render::markdown(&report.contestants))
            .with_context(|| format!("could not write the Markdown file '{}'", path.display()))?;
    }
    if cancel.is_cancelled() {
        eprintln!("interrupted: audit stopped; the table shows the contestants it finished");
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    let errors = report
        .contestants
        .iter()
        .any(|a| a.status == AuditStatus::Error);
    Ok(if errors {
        ExitCode::from(crate::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// Brings `c` up, audits it and stops it; `None` if interrupted.
fn audit_one(
    c: &Contestant,
    opts: &BringUpOptions<'_>,
    advisories: Option<&Path>,
) -> Option<ContestantAudit> {
    let started = Instant::now();
    let up = bring_up(c, opts);
    let (status, message) = match up.status {
        ContestantStatus::Measured => (AuditStatus::Audited, None),
        ContestantStatus::Interrupted => return None,
        ContestantStatus::Skipped => {
            let message = up.message.clone().unwrap_or_default();
            eprintln!("notice: skipping {}: {message}", c.name());
            (AuditStatus::Skipped, Some(message))
        }
        _ => (AuditStatus::Error, up.message.clone()),
    };
    let probed = match up.guard {
        Some(guard) => {
            let (probed, guard) =
                Running::new(c, guard, opts).probe(&opts.cancel, AuditDepth::Full);
            if let Some(g) = guard {
                g.stop();
            }
            Some(probed?)
        }
        None => None,
    };
    let skipped = status == AuditStatus::Skipped;
    let mut dependencies = count_dependencies(c, opts.cache, &opts.cancel, skipped);
    if let Some(dir) = advisories {
        dependencies.advisories = read_advisories(dir, c.name());
    }
    Some(ContestantAudit::new(
        &c.manifest,
        status,
        message,
        probed,
        dependencies,
        started.elapsed(),
    ))
}

/// The advisories in `<dir>/<name>.json`, or why there are none.
fn read_advisories(dir: &Path, name: &str) -> Advisories {
    let path = dir.join(format!("{name}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            return Advisories::NotChecked {
                reason: format!("no report at '{}' ({e})", path.display()),
            }
        }
    };
    match deps::parse_advisories(&text) {
        Ok(list) => Advisories::Checked {
            source: path.display().to_string(),
            list,
        },
        Err(e) => Advisories::NotChecked {
            reason: format!("'{}': {e}", path.display()),
        },
    }
}
