//! The results store: one SQLite file (rusqlite, bundled SQLite) holding every run, the
//! contestants in it and every trial, with a versioned schema. Each trial is committed the
//! moment it ends, so an interrupted run loses nothing that finished.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

pub use crate::audit::ContestantAudit;
pub use crate::contestant::manifest::Deployment;

mod audits;
mod records;
mod scale;

pub use records::*;
pub use scale::{CapacityPhase, CapacityRecord, IdleFigures, TrialPoint};
mod ws;

pub use ws::{RoomCounts, WsTrial};

/// Migrations in order; `PRAGMA user_version` records how many were applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    status          TEXT NOT NULL,
    suite_name      TEXT NOT NULL,
    suite_path      TEXT NOT NULL,
    suite_sha256    TEXT NOT NULL,
    suite_toml      TEXT NOT NULL,
    environment     TEXT NOT NULL,
    settings        TEXT NOT NULL
);
CREATE TABLE run_contestants (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    name            TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    stack           TEXT NOT NULL,
    language        TEXT NOT NULL,
    framework       TEXT NOT NULL,
    versions        TEXT NOT NULL,
    status          TEXT NOT NULL,
    verify          TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, name)
);
CREATE TABLE trials (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    workload        TEXT NOT NULL,
    contestant      TEXT NOT NULL,
    round           INTEGER NOT NULL,
    started_at      TEXT NOT NULL,
    metrics         TEXT NOT NULL,
    histogram       BLOB NOT NULL,
    histogram_uncorrected BLOB NOT NULL,
    UNIQUE (run_id, workload, contestant, round)
);
CREATE TABLE run_events (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    at              TEXT NOT NULL,
    contestant      TEXT,
    workload        TEXT,
    kind            TEXT NOT NULL,
    message         TEXT NOT NULL
);
"#,
    // 2 (issue 8): a contaminated trial is stored and its round tried again, so one round of
    // one contestant may hold several tries. SQLite cannot drop a UNIQUE constraint: rebuild.
    r#"
CREATE TABLE trials_v2 (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    workload        TEXT NOT NULL,
    contestant      TEXT NOT NULL,
    round           INTEGER NOT NULL,
    retry           INTEGER NOT NULL DEFAULT 0,
    started_at      TEXT NOT NULL,
    metrics         TEXT NOT NULL,
    histogram       BLOB NOT NULL,
    histogram_uncorrected BLOB NOT NULL,
    UNIQUE (run_id, workload, contestant, round, retry)
);
INSERT INTO trials_v2 (id, run_id, workload, contestant, round, retry, started_at, metrics, histogram, histogram_uncorrected)
    SELECT id, run_id, workload, contestant, round, 0, started_at, metrics, histogram, histogram_uncorrected FROM trials;
DROP TABLE trials;
ALTER TABLE trials_v2 RENAME TO trials;
"#,
    // 3 (issue 9): each contestant's runtime version and deployment note.
    r#"
ALTER TABLE run_contestants ADD COLUMN runtime TEXT;
ALTER TABLE run_contestants ADD COLUMN deployment TEXT;
"#,
    // 4 (branch auditrun, issue 11): the security audit `run` makes of each contestant.
    r#"
CREATE TABLE run_audits (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    contestant      TEXT NOT NULL,
    audit           TEXT NOT NULL,
    PRIMARY KEY (run_id, contestant)
);
"#,
    // 5 (issue 10, branch scale): the capacity under an SLO per contestant and workload.
    r#"
CREATE TABLE capacities (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    workload        TEXT NOT NULL,
    contestant      TEXT NOT NULL,
    record          TEXT NOT NULL,
    PRIMARY KEY (run_id, workload, contestant)
);
"#,
];

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened or migrated.
    #[error(
        "could not open the results database '{path}': {}",
        crate::hint::causes(cause)
    )]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: rusqlite::Error,
    },
    /// The database was written by a newer faceoff.
    #[error("the results database '{path}' has schema version {found}, newer than this faceoff knows ({known}); use a newer faceoff or another --db")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: usize,
        /// Ours.
        known: usize,
    },
    /// A query failed.
    #[error("results database: {}", crate::hint::causes(.0))]
    Sql(rusqlite::Error),
    /// A stored JSON column could not be read.
    #[error("results database holds malformed JSON: {0}")]
    Json(serde_json::Error),
    /// A contestant status this faceoff does not know.
    #[error("results database holds an unknown contestant status '{0}'; use a newer faceoff")]
    UnknownStatus(String),
    /// A run id that is not in the store.
    #[error("no run {0} in the results database; `faceoff history` lists the runs")]
    NoSuchRun(i64),
}

/// The results store.
pub struct Store {
    conn: Connection,
}

/// Now as RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Open {
                path: path.to_path_buf(),
                cause: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        }
        let open_err = |cause| Error::Open {
            path: path.to_path_buf(),
            cause,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        // The version is read and the migrations run under one write lock, so two processes
        // opening a new database at once do not both migrate it (the second waits, then finds
        // it current).
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)
                .map_err(open_err)?;
        let version: usize = tx
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .map_err(open_err)? as usize;
        if version > MIGRATIONS.len() {
            return Err(Error::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql).map_err(open_err)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(open_err)?;
        }
        tx.commit().map_err(open_err)?;
        Ok(Self { conn })
    }

    /// Records the start of a run and returns its id.
    pub fn begin_run(&self, run: &NewRun) -> Result<i64, Error> {
        self.conn.execute(
            "INSERT INTO runs (started_at, status, suite_name, suite_path, suite_sha256, suite_toml, environment, settings)
             VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                now_rfc3339(),
                run.suite_name,
                run.suite_path,
                run.suite_sha256,
                run.suite_toml,
                serde_json::to_string(&run.environment)?,
                serde_json::to_string(&run.settings)?,
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Replaces a run's settings (the runner adds the shuffle seed and the noise calibration
    /// once it has them).
    pub fn put_settings(&self, run_id: i64, settings: &RunSettings) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE runs SET settings = ?2 WHERE id = ?1",
            params![run_id, serde_json::to_string(settings)?],
        )?;
        Ok(())
    }

    /// Marks a run ended.
    pub fn finish_run(&self, run_id: i64, status: RunStatus) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1",
            params![run_id, status.as_str(), now_rfc3339()],
        )?;
        Ok(())
    }

    /// Marks a run as running again (for `--resume`).
    pub fn reopen_run(&self, run_id: i64) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?1",
            params![run_id],
        )?;
        Ok(())
    }

    /// Records (or updates) a contestant of a run.
    pub fn put_contestant(&self, run_id: i64, c: &ContestantRecord) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO run_contestants (run_id, name, display_name, stack, language, framework, versions, status, verify, note, runtime, deployment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (run_id, name) DO UPDATE SET display_name = excluded.display_name,
               stack = excluded.stack, language = excluded.language, framework = excluded.framework,
               versions = excluded.versions, status = excluded.status, verify = excluded.verify,
               note = excluded.note, runtime = excluded.runtime, deployment = excluded.deployment",
            params![
                run_id,
                c.name,
                c.display_name,
                c.stack,
                c.language,
                c.framework,
                serde_json::to_string(&c.versions)?,
                c.status.as_str(),
                serde_json::to_string(&c.verify)?,
                c.note,
                c.runtime,
                c.deployment.as_ref().map(serde_json::to_string).transpose()?,
            ],
        )?;
        Ok(())
    }

    /// Replaces a run's environment (the noise calibration is added once the contestants run).
    pub fn set_environment(
        &self,
        run_id: i64,
        environment: &serde_json::Value,
    ) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE runs SET environment = ?2 WHERE id = ?1",
            params![run_id, serde_json::to_string(environment)?],
        )?;
        Ok(())
    }

    /// Stores one trial in its own transaction (committed when this returns). Tries of one
    /// round are told apart by `metrics.quality.retry`.
    pub fn put_trial(&self, run_id: i64, t: &TrialRecord) -> Result<(), Error> {
        self.conn.execute(
            "INSERT OR REPLACE INTO trials (run_id, workload, contestant, round, retry, started_at, metrics, histogram, histogram_uncorrected)
             VALUES (?1, ?2, ?3, ?4, ?9, ?5, ?6, ?7, ?8)",
            params![
                run_id,
                t.workload,
                t.contestant,
                t.round,
                t.started_at,
                serde_json::to_string(&t.metrics)?,
                t.histogram,
                t.histogram_uncorrected,
                t.metrics.quality.retry,
            ],
        )?;
        Ok(())
    }

    /// Records an event.
    pub fn put_event(&self, run_id: i64, e: &Event) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO run_events (run_id, at, contestant, workload, kind, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![run_id, e.at, e.contestant, e.workload, e.kind, e.message],
        )?;
        Ok(())
    }

    /// Runs, newest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.started_at, r.finished_at, r.status, r.suite_name, r.suite_path, r.suite_sha256,
                    (SELECT COUNT(*) FROM trials t WHERE t.run_id = r.id)
             FROM runs r ORDER BY r.id DESC",
        )?;
        let rows = stmt
            .query_map([], run_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The newest run, if any.
    pub fn latest_run(&self) -> Result<Option<i64>, Error> {
        Ok(self
            .conn
            .query_row("SELECT MAX(id) FROM runs", [], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// Everything about one run.
    pub fn run(&self, run_id: i64) -> Result<RunDetail, Error> {
        let head = self
            .conn
            .query_row(
                "SELECT r.id, r.started_at, r.finished_at, r.status, r.suite_name, r.suite_path, r.suite_sha256,
                        (SELECT COUNT(*) FROM trials t WHERE t.run_id = r.id), r.suite_toml, r.environment, r.settings
                 FROM runs r WHERE r.id = ?1",
                params![run_id],
                |r| Ok((run_row(r)?, r.get::<_, String>(8)?, r.get::<_, String>(9)?, r.get::<_, String>(10)?)),
            )
            .optional()?
            .ok_or(Error::NoSuchRun(run_id))?;
        let (run, suite_toml, environment, settings) = head;

        let mut stmt = self.conn.prepare(
            "SELECT name, display_name, stack, language, framework, versions, status, verify, note,
               runtime, deployment
             FROM run_contestants WHERE run_id = ?1 ORDER BY rowid",
        )?;
        let raw = stmt
            .query_map(params![run_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut contestants = Vec::with_capacity(raw.len());
        for (
            name,
            display_name,
            stack,
            language,
            framework,
            versions,
            status,
            verify,
            note,
            runtime,
            deployment,
        ) in raw
        {
            contestants.push(ContestantRecord {
                name,
                display_name,
                stack,
                language,
                framework,
                versions: serde_json::from_str(&versions)?,
                status: ContestantStatus::parse(&status)?,
                verify: serde_json::from_str(&verify)?,
                note,
                runtime,
                deployment: deployment
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?,
            });
        }

        let mut stmt = self.conn.prepare(
            "SELECT workload, contestant, round, started_at, metrics, histogram, histogram_uncorrected
             FROM trials WHERE run_id = ?1 ORDER BY id",
        )?;
        let raw = stmt
            .query_map(params![run_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut trials = Vec::with_capacity(raw.len());
        for (workload, contestant, round, started_at, metrics, histogram, histogram_uncorrected) in
            raw
        {
            trials.push(TrialRecord {
                workload,
                contestant,
                round,
                started_at,
                metrics: serde_json::from_str(&metrics)?,
                histogram,
                histogram_uncorrected,
            });
        }

        let mut stmt = self.conn.prepare(
            "SELECT at, contestant, workload, kind, message FROM run_events WHERE run_id = ?1 ORDER BY id",
        )?;
        let events = stmt
            .query_map(params![run_id], |r| {
                Ok(Event {
                    at: r.get(0)?,
                    contestant: r.get(1)?,
                    workload: r.get(2)?,
                    kind: r.get(3)?,
                    message: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;

        Ok(RunDetail {
            run,
            suite_toml,
            environment: serde_json::from_str(&environment).ok(),
            settings: read_settings(&settings),
            contestants,
            trials,
            events,
            audits: self.audits(run_id)?,
            capacities: self.capacities(run_id)?,
        })
    }
}

/// Reads stored settings. Runs stored before [`RunSettings`] listed workload names in
/// `workloads` and their settings, as the suite serialized them, in `workloads_detail`; those
/// are read into the same record. Anything else unreadable is `None` ("not recorded").
fn read_settings(json: &str) -> Option<RunSettings> {
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    if let Some(detail) = value.get("workloads_detail").and_then(|d| d.as_array()) {
        let workloads: Vec<serde_json::Value> = detail
            .iter()
            .map(|w| {
                let shape = &w["shape"];
                serde_json::json!({
                    "name": w["name"],
                    "warmup_s": w["warmup_s"],
                    "trial_s": w["trial_s"],
                    "min_rounds": w["min_rounds"],
                    "max_rounds": w["max_rounds"],
                    "target_ci_rel": w["target_ci_rel"],
                    "timeout_s": w["timeout_s"],
                    "connections": shape["connections"],
                    "rate_per_s": shape.get("per_s"),
                })
            })
            .collect();
        value["workloads"] = workloads.into();
    }
    serde_json::from_value(value).ok()
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        status: RunStatus::parse(&r.get::<_, String>(3)?),
        suite_name: r.get(4)?,
        suite_path: r.get(5)?,
        suite_sha256: r.get(6)?,
        trials: r.get::<_, i64>(7)? as u64,
    })
}

/// Not `#[from]`: the cause is printed in the message, so it is not also a source (`{:#}`
/// would print it twice).
impl From<rusqlite::Error> for Error {
    fn from(cause: rusqlite::Error) -> Self {
        Error::Sql(cause)
    }
}

/// Not `#[from]`: the cause is printed in the message, so it is not also a source (`{:#}`
/// would print it twice).
impl From<serde_json::Error> for Error {
    fn from(cause: serde_json::Error) -> Self {
        Error::Json(cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_of_older_runs_are_read_into_the_typed_record() {
        let old = r#"{"contestant_dirs":["contestants/a"],"server_cpus":[1],"load_cpus":[0],
            "workers":1,"full_contract":true,"workloads":["json"],
            "workloads_detail":[{"name":"json","requests":[],"shape":{"kind":"closed","connections":64},
            "warmup_s":2.0,"trial_s":1.25,"min_rounds":3,"max_rounds":3,"target_ci_rel":0.05,
            "timeout_s":5.0,"requires":[]}]}"#;
        let s = read_settings(old).unwrap();
        assert_eq!(s.server_cpus, [1]);
        assert_eq!(s.workloads[0].connections, 64);
        assert_eq!(s.workloads[0].trial_s, 1.25);
        assert_eq!(s.workloads[0].rate_per_s, None);
        assert_eq!(s.order_seed, None);
        assert_eq!(read_settings(r#"{"server_cpus":"1"}"#), None);
    }

    fn metrics(rps: f64) -> TrialMetrics {
        TrialMetrics {
            duration_s: 5.0,
            requests: (rps * 5.0) as u64,
            rps,
            errors: 0,
            errors_by_kind: Default::default(),
            status: [("200".to_string(), (rps * 5.0) as u64)].into(),
            latency_us: [100, 200, 300, 400, 500],
            latency_uncorrected_us: [100, 200, 300, 400, 500],
            latency_mean_us: 150.0,
            late_sends: 0,
            server_cpu_s: 4.0,
            cpu_ms_per_1k: 80.0,
            pss_mean_bytes: 50 << 20,
            pss_peak_bytes: 60 << 20,
            rss_peak_bytes: 70 << 20,
            engine_cpu_s: 1.0,
            engine_busiest: 0.3,
            timeline_rps: vec![rps as u64; 5],
            database: None,
            crashed: false,
            ws: None,
            quality: TrialQuality::default(),
            point: None,
            cores: None,
        }
    }

    #[test]
    fn contestant_status_keeps_its_stored_names() {
        for status in ContestantStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(ContestantStatus::parse(status.as_str()).unwrap(), status);
        }
        assert_eq!(ContestantStatus::FailedVerify.as_str(), "failed_verify");
        assert!(ContestantStatus::parse("pending").is_err());
    }

    #[test]
    fn round_trip_and_reopen() {
        let dir = std::env::temp_dir().join(format!("faceoff-store-{}", std::process::id()));
        let path = dir.join("nested/faceoff.db");
        let _ = std::fs::remove_dir_all(&dir);
        let id = {
            let store = Store::open(&path).unwrap();
            let id = store
                .begin_run(&NewRun {
                    suite_name: "quick".into(),
                    suite_path: "builtin:quick".into(),
                    suite_sha256: "ab".into(),
                    suite_toml: "name = 'quick'".into(),
                    environment: Environment::default(),
                    settings: RunSettings::default(),
                })
                .unwrap();
            store
                .put_contestant(
                    id,
                    &ContestantRecord {
                        name: "n".into(),
                        display_name: "<N>".into(),
                        stack: "Node.js".into(),
                        language: "JavaScript".into(),
                        framework: "node:http".into(),
                        versions: serde_json::json!({"node": "v20"}),
                        status: ContestantStatus::Measured,
                        verify: serde_json::json!([]),
                        note: String::new(),
                        runtime: Some("node v24.11.1".into()),
                        deployment: Some(Deployment {
                            server: "node:cluster".into(),
                            why: "<why>".into(),
                            doc: "https://nodejs.org".into(),
                        }),
                    },
                )
                .unwrap();
            for round in 1..=3 {
                store
                    .put_trial(
                        id,
                        &TrialRecord {
                            workload: "json".into(),
                            contestant: "n".into(),
                            round,
                            started_at: now_rfc3339(),
                            metrics: metrics(1000.0 * round as f64),
                            histogram: vec![1, 2, 3],
                            histogram_uncorrected: vec![4],
                        },
                    )
                    .unwrap();
            }
            id
        };
        // A second open sees everything the first committed and migrates nothing.
        let store = Store::open(&path).unwrap();
        let detail = store.run(id).unwrap();
        assert_eq!(detail.run.status, RunStatus::Running);
        assert_eq!(detail.trials.len(), 3);
        assert_eq!(detail.trials[2].metrics, metrics(3000.0));
        assert_eq!(detail.trials[0].histogram, vec![1, 2, 3]);
        assert_eq!(detail.contestants[0].display_name, "<N>");
        assert_eq!(detail.settings, Some(RunSettings::default()));
        assert_eq!(
            detail.contestants[0].runtime.as_deref(),
            Some("node v24.11.1")
        );
        assert_eq!(
            detail.contestants[0]
                .deployment
                .as_ref()
                .map(|d| &d.why[..]),
            Some("<why>")
        );
        store.finish_run(id, RunStatus::Interrupted).unwrap();
        assert_eq!(store.runs().unwrap()[0].status, RunStatus::Interrupted);
        assert_eq!(store.latest_run().unwrap(), Some(id));
        assert!(matches!(store.run(id + 1), Err(Error::NoSuchRun(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn migrates_a_version_1_store_and_keeps_every_try_of_a_round() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO runs (id, started_at, status, suite_name, suite_path, suite_sha256, suite_toml, environment, settings)
                 VALUES (1, 'then', 'interrupted', 'quick', 'builtin:quick', 'ab', '', '{}', '{}')",
                [],
            )
            .unwrap();
            let old = serde_json::to_value(metrics(500.0)).unwrap();
            let mut old = old.as_object().unwrap().clone();
            old.remove("quality");
            conn.execute(
                "INSERT INTO trials (run_id, workload, contestant, round, started_at, metrics, histogram, histogram_uncorrected)
                 VALUES (1, 'json', 'n', 1, 'then', ?1, x'01', x'02')",
                params![serde_json::Value::Object(old).to_string()],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        let trial = |round, retry, rps| {
            let mut m = metrics(rps);
            m.quality.retry = retry;
            m.quality.contaminated = retry == 0;
            m.quality.superseded = retry == 0;
            TrialRecord {
                workload: "json".into(),
                contestant: "n".into(),
                round,
                started_at: now_rfc3339(),
                metrics: m,
                histogram: vec![],
                histogram_uncorrected: vec![],
            }
        };
        store.put_trial(1, &trial(2, 0, 600.0)).unwrap();
        store.put_trial(1, &trial(2, 1, 700.0)).unwrap();
        let trials = store.run(1).unwrap().trials;
        assert_eq!(trials.len(), 3);
        assert_eq!(trials[0].metrics.rps, 500.0);
        assert_eq!(trials[0].metrics.quality, TrialQuality::default());
        assert_eq!(trials[0].histogram, vec![1]);
        assert!(trials[1].metrics.quality.superseded);
        assert_eq!(
            (
                trials[2].round,
                trials[2].metrics.quality.retry,
                trials[2].metrics.rps
            ),
            (2, 1, 700.0)
        );
    }
}
