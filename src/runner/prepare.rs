//! Bringing contestants to the start line: runtime check, install (cached), a fresh dataset,
//! start pinned to the server CPUs, and the contract check. Those that pass stay up together.

use std::path::Path;

use crate::contestant::{self, Contestant, Guard, StartOptions};
use crate::contract::{self, dataset, CheckResult};
use crate::store::ContestantRecord;

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

/// How contestants are started.
pub struct PrepareOptions<'a> {
    /// Install cache root.
    pub cache: &'a Path,
    /// Where datasets and logs of this run go.
    pub run_dir: &'a Path,
    /// CPUs for the contestants.
    pub server_cpus: &'a [usize],
    /// `WORKERS` for every contestant.
    pub workers: u32,
    /// Check the full API contract (reference suites); user suites only need `/healthz`.
    pub full_contract: bool,
}

fn base_record(c: &Contestant) -> ContestantRecord {
    let m = &c.manifest;
    ContestantRecord {
        name: m.name.clone(),
        display_name: m.display_name.clone(),
        stack: m.stack.clone(),
        language: m.language.clone(),
        framework: m.framework.clone(),
        versions: serde_json::json!({ m.framework.clone(): m.framework_version.clone() }),
        status: "pending".into(),
        verify: serde_json::json!([]),
        note: String::new(),
        runtime: None,
        deployment: m.deployment.clone(),
    }
}

/// Prepares one contestant; never fails: what went wrong is in the record's status and note.
pub fn prepare(contestant: Contestant, opts: &PrepareOptions<'_>, say: &dyn Fn(&str)) -> Entrant {
    let mut record = base_record(&contestant);
    let name = contestant.name().to_string();
    let mark = |status: &str, note: String, record: &mut ContestantRecord| {
        record.status = status.to_string();
        record.note = note;
    };

    let missing = contestant::runtime::missing_requirements(&contestant);
    if !missing.is_empty() {
        let note = format!("skipped: {} not found on PATH", missing.join(", "));
        say(&format!("{name}: {note}"));
        mark("skipped", note, &mut record);
        return Entrant {
            contestant,
            guard: None,
            record,
        };
    }
    let installed = match contestant::install::install(&contestant, opts.cache) {
        Ok(i) => i,
        Err(e) => {
            let note = format!("install failed: {e}");
            say(&format!("{name}: {note}"));
            mark("install_failed", note, &mut record);
            return Entrant {
                contestant,
                guard: None,
                record,
            };
        }
    };
    if let Ok(pairs) = contestant::runtime::versions(&contestant, &installed) {
        record.runtime = contestant::runtime::runtime_version(&pairs);
        if !pairs.is_empty() {
            record.versions = serde_json::Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect(),
            );
        }
    }
    let db_path = opts.run_dir.join("data").join(format!("{name}.db"));
    if let Some(dir) = db_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let data = match dataset::create(&db_path) {
        Ok(d) => d,
        Err(e) => {
            let note = format!("could not create its dataset: {e}");
            mark("failed_start", note, &mut record);
            return Entrant {
                contestant,
                guard: None,
                record,
            };
        }
    };
    let mut start = StartOptions::new(
        &db_path,
        opts.run_dir.join("logs").join(format!("{name}.log")),
    );
    start.workers = opts.workers;
    start.server_cpus = opts.server_cpus.to_vec();
    let mut guard = match contestant::process::start(&contestant, &installed, &start) {
        Ok(g) => g,
        Err(e) => {
            let note = format!("did not start: {e}");
            say(&format!("{name}: {note}"));
            mark("failed_start", note, &mut record);
            return Entrant {
                contestant,
                guard: None,
                record,
            };
        }
    };
    if !opts.full_contract {
        // A user's suite hits the app's own endpoints: the reference contract does not apply,
        // and `start` has already seen `/healthz` answer 200.
        record.status = "measured".into();
        return Entrant {
            contestant,
            guard: Some(guard),
            record,
        };
    }
    let mut only = contract::check_names();
    // Multi-worker servers have no shared room without a backplane; the room check is left
    // out rather than failed (DESIGN.md, /ws/room).
    if opts.workers > 1 {
        only.retain(|n| *n != "ws-room");
    }
    let results: Vec<CheckResult> =
        contract::verify_only(guard.addr(), &data, &only, &mut || guard.exited());
    record.verify = serde_json::to_value(&results).unwrap_or_default();
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{}: {}", r.name, r.reason.as_deref().unwrap_or("failed")))
        .collect();
    if !failed.is_empty() {
        let note = format!("failed verify, not measured: {}", failed.join("; "));
        say(&format!("{name}: {note}"));
        mark("failed_verify", note, &mut record);
        guard.stop();
        return Entrant {
            contestant,
            guard: None,
            record,
        };
    }
    record.status = "measured".into();
    Entrant {
        contestant,
        guard: Some(guard),
        record,
    }
}
