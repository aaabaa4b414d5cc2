//! What the scale workloads store (issue 10): the point of a trial (a sweep's connection count,
//! a capacity probe's rate, an idle step with its counts) and the capacity found per contestant
//! and workload, read back by `Store::capacities` for the report and the cost model.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Error, Store, TrialMetrics};
use crate::stats::ProbeOutcome;
use crate::suite::IdleProtocol;

impl TrialMetrics {
    /// What this trial says about an SLO: its p99 (corrected, µs) and its error rate, failures
    /// over attempts, where attempts are every response plus the failures that got none
    /// (connect, timeout, reset, protocol; a 5xx answer is a response already). A trial with no
    /// attempt at all has an error rate of 1.
    pub fn probe_outcome(&self) -> ProbeOutcome {
        let status_errors = self.errors_by_kind.get("status").copied().unwrap_or(0);
        let attempts = self.requests + self.errors.saturating_sub(status_errors);
        ProbeOutcome {
            p99_us: if self.requests == 0 {
                f64::INFINITY
            } else {
                self.latency_us[2] as f64
            },
            error_rate: if attempts == 0 {
                1.0
            } else {
                self.errors as f64 / attempts as f64
            },
        }
    }
}

/// Where on a scale workload's axis a trial was measured. Trials with a point are left out of
/// the plain per-workload tables; the scale sections of the report read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrialPoint {
    /// One point of a concurrency sweep (closed loop at this many connections).
    Sweep {
        /// Connections kept busy.
        connections: u32,
    },
    /// One trial of a capacity search at a constant rate.
    Capacity {
        /// The rate asked for, in requests per second.
        rate_per_s: f64,
        /// Searching, or confirming the rate found.
        phase: CapacityPhase,
    },
    /// Idle connections held while a probe measured.
    Idle(IdleFigures),
}

/// The phase of a capacity trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityPhase {
    /// A probe of the search (bracketing or bisection).
    Search,
    /// A repeat at the rate found, to confirm it.
    Confirm,
}

/// What one idle step held. Counts are `None` when the step was not reached (see `not_reached`),
/// never zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleFigures {
    /// What the idle connections spoke (`http` in trials stored before WebSocket idle
    /// connections existed, which name none).
    #[serde(default)]
    pub protocol: IdleProtocol,
    /// Idle connections asked for.
    pub target: u32,
    /// Connections open and idle when the probe's window closed.
    pub held: Option<u64>,
    /// Connections that could not be opened (connect refused or failed, or their one request
    /// not answered in time).
    pub refused: Option<u64>,
    /// Connections the server closed while they were held.
    pub dropped: Option<u64>,
    /// PSS of the contestant's group before the connections opened (bytes).
    pub baseline_pss_bytes: Option<u64>,
    /// PSS the held connections added, per 1,000 held (bytes; may be below zero when the
    /// group's memory moved for other reasons).
    pub pss_per_1k_bytes: Option<f64>,
    /// Why this step could not be measured, with the fix; `None` when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_reached: Option<String>,
}

/// The capacity of one contestant on one workload: the highest constant rate whose p99 stayed
/// under the SLO with an error rate under its budget, and what the server used there. The cost
/// model reads exactly these fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityRecord {
    /// Workload name.
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// The capacity: the highest rate at which every confirmation trial met the SLO, in
    /// requests per second; `None` when no rate in the search range did.
    pub rate_per_s: Option<f64>,
    /// Lower end of the interval: equal to `rate_per_s` (the confirmed rate).
    pub interval_low_per_s: Option<f64>,
    /// Upper end: the lowest rate any trial of the search missed the SLO at; `None` when even
    /// the search's maximum met it (the capacity is then at least `rate_per_s`).
    pub interval_high_per_s: Option<f64>,
    /// The SLO's p99 limit, in microseconds.
    pub slo_p99_us: f64,
    /// The SLO's error budget (0.001 is 0.1%).
    pub max_error_rate: f64,
    /// Confirmation trials run at `rate_per_s`, all of which met the SLO.
    pub confirmations: u32,
    /// Median p99 of the confirmation trials (µs).
    pub p99_us: Option<f64>,
    /// Median server CPU seconds per second of trial at capacity (1.0 = one CPU busy).
    pub server_cpu_share: Option<f64>,
    /// Median server CPU seconds of one confirmation trial.
    pub server_cpu_s: Option<f64>,
    /// Length of a confirmation trial (seconds).
    pub trial_s: f64,
    /// Median of the group's mean PSS over the confirmation trials (bytes).
    pub pss_bytes: Option<u64>,
    /// Probes the search ran (confirmations not included).
    pub probes: u32,
    /// Why the search ended, or why there is no capacity, in words.
    pub note: String,
}

impl Store {
    /// Stores (or replaces) the capacity of one contestant on one workload.
    pub fn put_capacity(&self, run_id: i64, c: &CapacityRecord) -> Result<(), Error> {
        self.conn.execute(
            "INSERT OR REPLACE INTO capacities (run_id, workload, contestant, record) VALUES (?1, ?2, ?3, ?4)",
            params![run_id, c.workload, c.contestant, serde_json::to_string(c)?],
        )?;
        Ok(())
    }

    /// Every capacity found in a run, in the order they were stored.
    pub fn capacities(&self, run_id: i64) -> Result<Vec<CapacityRecord>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT record FROM capacities WHERE run_id = ?1 ORDER BY rowid")?;
        let rows = stmt
            .query_map(params![run_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|r| serde_json::from_str(r).map_err(Error::from))
            .collect()
    }
}
