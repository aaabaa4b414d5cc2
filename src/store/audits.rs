//! The security audit of each contestant of a run (issue 11), one JSON row per run and
//! contestant, written by `faceoff run` the moment a contestant's audit ends.

use rusqlite::params;

use super::{ContestantAudit, Error, Store};

impl Store {
    /// Stores (or replaces) the audit of one contestant of a run, in its own transaction.
    pub fn put_audit(&self, run_id: i64, audit: &ContestantAudit) -> Result<(), Error> {
        self.conn.execute(
            "INSERT OR REPLACE INTO run_audits (run_id, contestant, audit) VALUES (?1, ?2, ?3)",
            params![run_id, audit.name, serde_json::to_string(audit)?],
        )?;
        Ok(())
    }

    /// The audits of a run's contestants, in the order they were audited: grade, score,
    /// findings with their evidence, hostile-input tallies and dependency counts. A contestant
    /// without one was not audited (see `RunSettings::audit` and its status for why).
    pub fn audits(&self, run_id: i64) -> Result<Vec<ContestantAudit>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT audit FROM run_audits WHERE run_id = ?1 ORDER BY rowid")?;
        let rows = stmt
            .query_map(params![run_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|json| Ok(serde_json::from_str(json)?))
            .collect()
    }
}
