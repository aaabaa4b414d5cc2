//! `faceoff audit`: bring every contestant up through the run's own path
//! ([`crate::runner::prepare::bring_up`]), probe its security posture ([`crate::audit`]), stop
//! it, and print a table per contestant (terminal, `--json`, `--markdown FILE`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::audit::deps::{self, Advisories};
use crate::audit::{self, AuditReport, AuditStatus, ContestantAudit, Target};
use crate::cli::AuditArgs;
use crate::contestant::{self, Contestant, Guard};
use crate::runner::prepare::{bring_up, BringUpOptions};
use crate::store::ContestantStatus;

/// A contestant brought up for the audit; started again when a probe kills it.
struct Running<'a> {
    contestant: &'a Contestant,
    opts: &'a BringUpOptions<'a>,
    guard: Option<Guard>,
    addr: SocketAddr,
}

impl Target for Running<'_> {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn exited(&mut self) -> Option<String> {
        match &mut self.guard {
            Some(g) => g.exited(),
            None => Some("was not running".into()),
        }
    }

    fn restart(&mut self) -> Result<(), String> {
        if let Some(g) = self.guard.take() {
            g.stop();
        }
        let up = bring_up(self.contestant, self.opts);
        match up.guard {
            Some(g) => {
                self.addr = g.addr();
                self.guard = Some(g);
                Ok(())
            }
            None => Err(up.message.unwrap_or_else(|| "interrupted".into())),
        }
    }
}

/// Runs `faceoff audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let dirs = super::verify::contestant_dirs(&args.contestants)?;
    let contestants = dirs
        .iter()
        .map(|d| Contestant::load(d))
        .collect::<Result<Vec<_>, _>>()?;
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
            let spinner = crate::spinner::spinner(format!("auditing {}", c.name()));
            let mut running = Running {
                contestant: c,
                opts,
                addr: guard.addr(),
                guard: Some(guard),
            };
            let probed = audit::probe_contestant(&mut running, &opts.cancel);
            spinner.finish_and_clear();
            if let Some(g) = running.guard.take() {
                g.stop();
            }
            Some(probed?)
        }
        None => None,
    };
    // The install folder holds what was installed; a cache hit costs a copy of the sources.
    let installed = (status != AuditStatus::Skipped)
        .then(|| contestant::install(c, opts.cache, &opts.cancel).ok())
        .flatten();
    let mut dependencies = deps::count(&c.dir, installed.as_ref().map(|i| i.dir.as_path()));
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
