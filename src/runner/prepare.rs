//! Bringing a contestant to the start line, the one path shared by `faceoff run` and
//! `faceoff verify`: runtime check, install (cached), a fresh dataset, start pinned to the
//! server CPUs, and the contract check. What became of it is a [`ContestantStatus`]; a
//! contestant that passes is left running for the caller.

use std::path::{Path, PathBuf};

use crate::cancel::Cancel;
use crate::contestant::{self, Contestant, Guard, StartOptions};
use crate::contract::{self, dataset, CheckResult};
use crate::database::{DatabaseKind, Postgres};
use crate::store::{ContestantRecord, ContestantStatus};

/// How contestants are brought up.
#[derive(Debug, Clone)]
pub struct BringUpOptions<'a> {
    /// Install cache root.
    pub cache: &'a Path,
    /// Folder of the datasets (`<name>.db`).
    pub data_dir: PathBuf,
    /// Folder of the server logs (`<name>.log`).
    pub log_dir: PathBuf,
    /// CPUs for the contestants.
    pub server_cpus: &'a [usize],
    /// `WORKERS` for every contestant.
    pub workers: u32,
    /// Contract checks to run once it is healthy; empty: `/healthz` (seen by the start) only.
    pub checks: Vec<&'static str>,
    /// The command's token: set, every step stops and the status is `Interrupted`.
    pub cancel: Cancel,
    /// The PostgreSQL server contestants serve from (`--database postgres`); `None`: SQLite.
    pub postgres: Option<&'a Postgres>,
}

/// What became of one contestant.
#[derive(Debug)]
pub struct BroughtUp {
    /// `Measured` when it is up and passed its checks; then `guard` holds it.
    pub status: ContestantStatus,
    /// Its running process group, when it passed.
    pub guard: Option<Guard>,
    /// Why it is not up (or what went wrong besides failed checks), one paragraph.
    pub message: Option<String>,
    /// The contract checks it ran, in order.
    pub checks: Vec<CheckResult>,
    /// Checks left out because its manifest does not declare their endpoints.
    pub undeclared: Vec<&'static str>,
    /// `name=version` pairs from its versions command.
    pub versions: Vec<(String, String)>,
    /// Its server log, once it was started.
    pub log: Option<PathBuf>,
}

impl BroughtUp {
    fn new() -> BroughtUp {
        BroughtUp {
            status: ContestantStatus::Interrupted,
            guard: None,
            message: None,
            checks: Vec::new(),
            undeclared: Vec::new(),
            versions: Vec::new(),
            log: None,
        }
    }

    fn end(mut self, status: ContestantStatus, message: impl Into<Option<String>>) -> BroughtUp {
        self.status = status;
        self.message = message.into();
        self
    }
}

/// The checks a run makes: the whole contract for reference suites (without `ws-room` when
/// servers run several workers: a room needs a backplane, DESIGN.md), none for a user's suite,
/// which hits the app's own endpoints.
pub fn run_checks(full_contract: bool, workers: u32, database: DatabaseKind) -> Vec<&'static str> {
    if !full_contract {
        return Vec::new();
    }
    let mut only = contract::check_names_for(database);
    if workers > 1 {
        only.retain(|n| *n != "ws-room");
    }
    only
}

/// Brings `c` up (see the module docs); never fails: what went wrong is in the status and
/// message.
pub fn bring_up(c: &Contestant, opts: &BringUpOptions<'_>) -> BroughtUp {
    let out = BroughtUp::new();
    let name = c.name();
    let cancel = &opts.cancel;
    let interrupted = |out: BroughtUp| out.end(ContestantStatus::Interrupted, None);
    if cancel.is_cancelled() {
        return interrupted(out);
    }
    if opts.postgres.is_some() && !c.manifest.databases.contains(&DatabaseKind::Postgres) {
        let message = "serves SQLite only: its manifest's `databases` does not list postgres";
        return out.end(ContestantStatus::Skipped, message.to_string());
    }
    let missing = contestant::missing_requirements(c);
    if !missing.is_empty() {
        let message = format!("needs {} on PATH", missing.join(", "));
        return out.end(ContestantStatus::Skipped, message);
    }
    let installed = match contestant::install(c, opts.cache, cancel) {
        Ok(installed) => installed,
        Err(contestant::Error::Interrupted { .. }) => return interrupted(out),
        Err(e) => return out.end(ContestantStatus::InstallFailed, e.to_string()),
    };
    let mut out = out;
    out.versions = contestant::versions(c, &installed).unwrap_or_else(|e| {
        eprintln!("warning: {e}");
        Vec::new()
    });
    let db_path = opts.data_dir.join(format!("{name}.db"));
    let log_path = opts.log_dir.join(format!("{name}.log"));
    let mut data = match dataset::create(&db_path) {
        Ok(data) => data,
        Err(e) => {
            let message = format!("could not create its dataset: {e}");
            return out.end(ContestantStatus::FailedStart, message);
        }
    };
    if let Some(pg) = opts.postgres {
        if let Err(e) = pg.load_for(name, &mut data) {
            let message = format!("could not load its dataset into PostgreSQL: {e}");
            return out.end(ContestantStatus::FailedStart, message);
        }
    }
    out.log = Some(log_path.clone());
    let mut start = StartOptions::new(&db_path, &log_path);
    start.workers = opts.workers;
    start.database_url = data.postgres.as_ref().map(|pg| pg.url.clone());
    start.server_cpus = opts.server_cpus.to_vec();
    start.cancel = cancel.clone();
    let mut guard = match contestant::start(c, &installed, &start) {
        Ok(guard) => guard,
        Err(contestant::Error::Interrupted { .. }) => return interrupted(out),
        Err(e) => return out.end(ContestantStatus::FailedStart, e.to_string()),
    };
    // A contestant serving part of the contract is checked on what it declares (issue 9).
    let (checks, undeclared) = contract::declared_checks(&opts.checks, |e| c.manifest.serves(e));
    out.undeclared = undeclared;
    if checks.is_empty() {
        out.guard = Some(guard);
        return out.end(ContestantStatus::Measured, None);
    }
    let spinner = crate::spinner::spinner(format!("verifying {name}"));
    out.checks = contract::verify_only(guard.addr(), &data, &checks, &mut || {
        if cancel.is_cancelled() {
            Some("was stopped: faceoff was interrupted".into())
        } else {
            guard.exited()
        }
    });
    spinner.finish_and_clear();
    // The interrupt sets the token before it stops any group: a death after it is not a crash.
    if cancel.is_cancelled() {
        return interrupted(out);
    }
    let exited = guard.exited().map(|status| {
        format!(
            "the contestant exited ({status}) during verify; its log is {}",
            log_path.display()
        )
    });
    if exited.is_some() || out.checks.iter().any(|r| !r.passed) {
        guard.stop();
        return out.end(ContestantStatus::FailedVerify, exited);
    }
    out.guard = Some(guard);
    out.end(ContestantStatus::Measured, None)
}

/// A contestant taking part in a run.
pub struct Entrant {
    /// The contestant.
    pub contestant: Contestant,
    /// Its running process group, while it is in the race.
    pub guard: Option<Guard>,
    /// What the store knows of it.
    pub record: ContestantRecord,
}

impl Entrant {
    /// Its short name.
    pub fn name(&self) -> &str {
        self.contestant.name()
    }

    /// Whether it is up and measured.
    pub fn in_race(&self) -> bool {
        self.guard.is_some()
    }
}

/// Brings one contestant of a run up and makes its store record; `say` hears why one is not
/// measured.
pub fn prepare(contestant: Contestant, opts: &BringUpOptions<'_>, say: &dyn Fn(&str)) -> Entrant {
    let up = bring_up(&contestant, opts);
    let m = &contestant.manifest;
    let versions = if up.versions.is_empty() {
        serde_json::json!({ m.framework.clone(): m.framework_version.clone() })
    } else {
        serde_json::Value::Object(
            up.versions
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    };
    let note = run_note(&up);
    if !note.is_empty() {
        say(&format!("{}: {note}", contestant.name()));
    }
    let record = ContestantRecord {
        name: m.name.clone(),
        display_name: m.display_name.clone(),
        stack: m.stack.clone(),
        language: m.language.clone(),
        framework: m.framework.clone(),
        versions,
        status: up.status,
        verify: serde_json::to_value(&up.checks).unwrap_or_default(),
        note,
        runtime: contestant::runtime::runtime_version(&up.versions),
        deployment: m.deployment.clone(),
    };
    Entrant {
        contestant,
        guard: up.guard,
        record,
    }
}

/// The note a run stores for a contestant that is not measured (empty when it is).
fn run_note(up: &BroughtUp) -> String {
    let message = up.message.clone().unwrap_or_default();
    match up.status {
        ContestantStatus::Measured | ContestantStatus::Crashed => message,
        ContestantStatus::Interrupted => "interrupted before it was measured".into(),
        ContestantStatus::Skipped => format!("skipped: {message}"),
        ContestantStatus::InstallFailed => format!("install failed: {message}"),
        ContestantStatus::FailedStart => format!("did not start: {message}"),
        ContestantStatus::FailedVerify => {
            let mut failed: Vec<String> = up
                .checks
                .iter()
                .filter(|r| !r.passed)
                .map(|r| format!("{}: {}", r.name, r.reason.as_deref().unwrap_or("failed")))
                .collect();
            if !message.is_empty() {
                failed.push(message);
            }
            format!("failed verify, not measured: {}", failed.join("; "))
        }
    }
}
