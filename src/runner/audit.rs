//! The security audit of running contestants ([`crate::audit`]), shared by `faceoff audit` and
//! `faceoff run` (issue 11): a probe target that starts a contestant again when a probe kills
//! it, the dependency count, and the run's audit step.
//!
//! `faceoff run` audits each contestant once every workload is measured, never before or
//! between trials: the probes send 10 MiB bodies, hold 200 half-open connections and may crash
//! the server, and whatever they leave behind (a restarted process with a cold runtime, a
//! bloated heap, sockets in TIME_WAIT) would otherwise land in the next trial's figures. By
//! then every trial is in the store, so an audit that crashes a contestant costs no result.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use crate::audit::deps::{self, Dependencies};
use crate::audit::{self, AuditDepth, AuditStatus, ContestantAudit, Probed, Target};
use crate::cancel::Cancel;
use crate::contestant::{self, Contestant, Guard};
use crate::store::Store;

use super::prepare::{bring_up, BringUpOptions, Entrant};
use super::Ui;

/// A contestant brought up for the audit; started again when a probe kills it.
pub struct Running<'a> {
    contestant: &'a Contestant,
    opts: &'a BringUpOptions<'a>,
    guard: Option<Guard>,
    addr: SocketAddr,
}

impl<'a> Running<'a> {
    /// Wraps a running contestant; `opts` bring it up again when a probe kills it.
    pub fn new(contestant: &'a Contestant, guard: Guard, opts: &'a BringUpOptions<'a>) -> Self {
        Running {
            contestant,
            opts,
            addr: guard.addr(),
            guard: Some(guard),
        }
    }

    /// Probes it (see [`audit::probe_contestant`]) and hands back what runs of it: the guard,
    /// the original or the one started after a probe killed it, or `None` if it could not be
    /// started again. The probes are `None` when interrupted.
    pub fn probe(mut self, cancel: &Cancel, depth: AuditDepth) -> (Option<Probed>, Option<Guard>) {
        let spinner = crate::spinner::spinner(format!("auditing {}", self.contestant.name()));
        let probed = audit::probe_contestant(&mut self, cancel, depth);
        spinner.finish_and_clear();
        (probed, self.guard.take())
    }
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

/// Counts the dependencies of `c` from its lockfile and, unless it was `skipped` (a runtime
/// is missing, so nothing was installed), its install folder. A cache hit costs a copy of the
/// sources.
pub fn count_dependencies(
    c: &Contestant,
    cache: &Path,
    cancel: &Cancel,
    skipped: bool,
) -> Dependencies {
    let installed = (!skipped)
        .then(|| contestant::install(c, cache, cancel).ok())
        .flatten();
    deps::count(&c.dir, installed.as_ref().map(|i| i.dir.as_path()))
}

/// The run's audit step: audits every contestant still in the race that the store holds no
/// audit of (a resumed run skips those done), as deep as `depth`, and stores each audit the
/// moment it ends. Returns early, with what is done stored, when the run is interrupted.
pub fn audit_entrants(
    store: &Store,
    run_id: i64,
    entrants: &mut [Entrant],
    opts: &BringUpOptions<'_>,
    depth: AuditDepth,
    ui: &dyn Ui,
) -> anyhow::Result<()> {
    if depth == AuditDepth::Off {
        return Ok(());
    }
    let done: Vec<String> = store.audits(run_id)?.into_iter().map(|a| a.name).collect();
    // A contestant the probes kill starts again with its own log and dataset, so the log of
    // the measured process (and its crash, if it had one) stays as it was.
    let restart = BringUpOptions {
        data_dir: opts.data_dir.join("audit"),
        log_dir: opts.log_dir.join("audit"),
        checks: Vec::new(),
        ..opts.clone()
    };
    for entrant in entrants.iter_mut() {
        if opts.cancel.is_cancelled() {
            break;
        }
        if done.iter().any(|n| n == entrant.name()) {
            continue;
        }
        let Some(guard) = entrant.guard.take() else {
            continue;
        };
        ui.phase(&format!("auditing {}", entrant.name()));
        let started = Instant::now();
        let (probed, guard) =
            Running::new(&entrant.contestant, guard, &restart).probe(&opts.cancel, depth);
        entrant.guard = guard;
        let Some(probed) = probed else {
            break;
        };
        let c = &entrant.contestant;
        let dependencies = count_dependencies(c, opts.cache, &opts.cancel, false);
        let record = ContestantAudit::new(
            &c.manifest,
            AuditStatus::Audited,
            None,
            Some(probed),
            dependencies,
            started.elapsed(),
        );
        store.put_audit(run_id, &record)?;
    }
    Ok(())
}
