//! The records the store keeps and hands out: runs, their typed settings and environment,
//! contestants, trials with their quality, and events. Plain data with serde; the SQL lives in
//! the parent module.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ContestantAudit, Deployment, Error};

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going, or the process died without saying.
    Running,
    /// Every planned trial ran.
    Complete,
    /// Stopped by the user; finished trials are kept.
    Interrupted,
    /// Stopped by an error.
    Failed,
}

impl RunStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "complete" => RunStatus::Complete,
            "interrupted" => RunStatus::Interrupted,
            "failed" => RunStatus::Failed,
            _ => RunStatus::Running,
        }
    }
}

/// What became of a contestant in a run; stored and shown as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContestantStatus {
    /// Up, verified and measured.
    Measured,
    /// Up, but failed the contract check: reported, not measured.
    FailedVerify,
    /// A runtime it needs is not on PATH.
    Skipped,
    /// Its install command failed.
    InstallFailed,
    /// Its dataset could not be made, or it did not start or become healthy.
    FailedStart,
    /// It exited during the run.
    Crashed,
    /// The run was interrupted before it was brought up.
    Interrupted,
}

impl ContestantStatus {
    /// Every status, for parsing.
    pub const ALL: [ContestantStatus; 7] = [
        ContestantStatus::Measured,
        ContestantStatus::FailedVerify,
        ContestantStatus::Skipped,
        ContestantStatus::InstallFailed,
        ContestantStatus::FailedStart,
        ContestantStatus::Crashed,
        ContestantStatus::Interrupted,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContestantStatus::Measured => "measured",
            ContestantStatus::FailedVerify => "failed_verify",
            ContestantStatus::Skipped => "skipped",
            ContestantStatus::InstallFailed => "install_failed",
            ContestantStatus::FailedStart => "failed_start",
            ContestantStatus::Crashed => "crashed",
            ContestantStatus::Interrupted => "interrupted",
        }
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Result<ContestantStatus, Error> {
        ContestantStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::UnknownStatus(text.to_string()))
    }
}

impl std::fmt::Display for ContestantStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run as it starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRun {
    /// Suite name.
    pub suite_name: String,
    /// Where the suite came from (a path, or `builtin:NAME`).
    pub suite_path: String,
    /// SHA-256 of the suite file, hex.
    pub suite_sha256: String,
    /// The suite file itself, so the run can be reproduced.
    pub suite_toml: String,
    /// Machine and software environment.
    pub environment: Environment,
    /// How the run was set up.
    pub settings: RunSettings,
}

/// How a run was set up: written by `faceoff run` when the run starts, read back by
/// `run --resume` and by the reports (issue 8: one typed record, no guessed keys).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunSettings {
    /// The contestant folders, in the run's order.
    pub contestant_dirs: Vec<PathBuf>,
    /// CPUs the contestants were pinned to.
    pub server_cpus: Vec<usize>,
    /// CPUs the load engine was pinned to.
    pub load_cpus: Vec<usize>,
    /// `WORKERS` given to each contestant.
    pub workers: u32,
    /// Whether contestants had to pass the whole API contract (reference suites).
    pub full_contract: bool,
    /// Every workload of the run with the settings it ran with (suite file plus overrides).
    pub workloads: Vec<WorkloadSettings>,
    /// Seed of the shuffled order of contestants within each round; `None` when the order was
    /// not shuffled (runs stored before it was).
    #[serde(default)]
    pub order_seed: Option<u64>,
    /// This machine's own trial-to-trial noise, measured at the start of the run; `None` when
    /// it was not measured.
    #[serde(default)]
    pub noise: Option<NoiseCalibration>,
    /// How deep `run` audited each contestant once measured; `None` for runs stored before run
    /// audits (issue 11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditDepth>,
    /// Where the contestants served the dataset from; `None` in runs stored before PostgreSQL
    /// existed, which all used SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseSettings>,
    /// The `--threshold` expressions the run was started (or resumed) with, as given; the
    /// suite's own `[[threshold]]` tables are in its stored text (issue 13).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
}

/// The database of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatabaseSettings {
    /// SQLite or PostgreSQL.
    pub kind: crate::database::DatabaseKind,
    /// The server's version (PostgreSQL), e.g. `PostgreSQL 15.18`.
    #[serde(default)]
    pub version: Option<String>,
    /// Whether faceoff started the server (a throwaway one on the server CPUs) or the user
    /// gave its URL (`--database-url`; the URL itself is not stored: it may hold a password).
    #[serde(default)]
    pub throwaway: bool,
}

impl RunSettings {
    /// The database the run used (SQLite for runs stored before the setting existed).
    pub fn database_kind(&self) -> crate::database::DatabaseKind {
        self.database
            .as_ref()
            .map_or(crate::database::DatabaseKind::Sqlite, |d| d.kind)
    }
}

impl RunSettings {
    /// The settings of a run of `plan` (after command-line overrides) on these CPUs; the
    /// shuffle seed and the noise calibration are filled in by the runner.
    pub fn new(
        plan: &crate::suite::Plan,
        contestant_dirs: Vec<PathBuf>,
        server_cpus: Vec<usize>,
        load_cpus: Vec<usize>,
        workers: u32,
        full_contract: bool,
    ) -> Self {
        Self {
            contestant_dirs,
            server_cpus,
            load_cpus,
            workers,
            full_contract,
            workloads: plan.workloads.iter().map(WorkloadSettings::of).collect(),
            order_seed: None,
            noise: None,
            database: None,
            audit: None,
            thresholds: Vec::new(),
        }
    }
}

/// One workload's settings as it ran.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WorkloadSettings {
    /// Workload name.
    pub name: String,
    /// Warm-up per contestant before its trials count (seconds).
    pub warmup_s: f64,
    /// Length of one trial (seconds).
    pub trial_s: f64,
    /// Fewest rounds.
    pub min_rounds: u32,
    /// Most rounds.
    pub max_rounds: u32,
    /// Target relative half-width of the 95% interval of each median throughput.
    pub target_ci_rel: f64,
    /// A request unanswered after this long is a timeout error (seconds).
    pub timeout_s: f64,
    /// Connections kept open.
    pub connections: u32,
    /// Constant rate over all connections (requests per second); `None` for a closed loop.
    pub rate_per_s: Option<f64>,
    /// The worker-sweep point this workload is; `None` for a workload run with the run's
    /// `WORKERS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<crate::suite::WorkerPoint>,
}

impl WorkloadSettings {
    /// The settings a workload of a validated plan runs with.
    pub fn of(w: &crate::suite::Workload) -> Self {
        let (connections, rate_per_s) = match w.shape {
            crate::suite::LoadShape::Closed { connections } => (connections, None),
            crate::suite::LoadShape::Rate { per_s, connections } => (connections, Some(per_s)),
        };
        Self {
            name: w.name.clone(),
            warmup_s: w.warmup.as_secs_f64(),
            trial_s: w.trial.as_secs_f64(),
            min_rounds: w.min_rounds as u32,
            max_rounds: w.max_rounds as u32,
            target_ci_rel: w.target_ci_rel,
            timeout_s: w.timeout.as_secs_f64(),
            connections,
            rate_per_s,
            workers: w.workers.clone(),
        }
    }
}

/// This machine's trial-to-trial noise: one contestant measured alone several times in a row at
/// the start of a run, so a reader knows what "within noise" means here.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NoiseCalibration {
    /// The contestant measured.
    pub contestant: String,
    /// The workload it was measured on.
    pub workload: String,
    /// Trials run.
    pub trials: u32,
    /// Length of each (seconds).
    pub trial_s: f64,
    /// Median requests per second over those trials.
    pub median_rps: f64,
    /// Largest distance from the median to a trial, relative to the median (0.11 = ±11%).
    pub rel_spread: f64,
}

/// Where and with what a run was measured; produced by `runner::environment`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Environment {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cpus_online: usize,
    /// CPUs faceoff may use (its affinity set).
    pub cpus_allowed: Vec<usize>,
    /// CPUs the contestants were pinned to.
    pub server_cpus: Vec<usize>,
    /// CPUs the load engine was pinned to.
    pub load_cpus: Vec<usize>,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// Kernel release (uname -r).
    pub kernel: String,
    /// `node --version`, `python3 --version`, `rustc --version` (absent when missing).
    pub runtimes: std::collections::BTreeMap<String, String>,
    /// faceoff's own version.
    pub faceoff_version: String,
}

/// A contestant's place in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContestantRecord {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label (Node.js, Python, Rust, ...).
    pub stack: String,
    /// Language.
    pub language: String,
    /// Framework.
    pub framework: String,
    /// `name=version` pairs actually installed (JSON object).
    pub versions: serde_json::Value,
    /// What became of it.
    pub status: ContestantStatus,
    /// Verify results (JSON array of {check, passed, detail}).
    pub verify: serde_json::Value,
    /// Free text: why skipped, crash log tail, ...
    pub note: String,
    /// The runtime it ran on, exactly (`node v24.11.1`), when its versions command said.
    pub runtime: Option<String>,
    /// Its manifest's deployment note.
    pub deployment: Option<Deployment>,
}

/// The figures of one trial (stored as JSON; read back the same way).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrialMetrics {
    /// Trial wall time in seconds.
    pub duration_s: f64,
    /// Responses received.
    pub requests: u64,
    /// Responses per second.
    pub rps: f64,
    /// Failed requests (all kinds, 5xx included).
    pub errors: u64,
    /// Errors by kind.
    pub errors_by_kind: std::collections::BTreeMap<String, u64>,
    /// Responses by status code.
    pub status: std::collections::BTreeMap<String, u64>,
    /// Corrected latency percentiles (µs): p50, p90, p99, p999, max.
    pub latency_us: [u64; 5],
    /// Uncorrected latency percentiles (µs), same order.
    pub latency_uncorrected_us: [u64; 5],
    /// Mean corrected latency (µs).
    pub latency_mean_us: f64,
    /// Late sends (constant rate).
    pub late_sends: u64,
    /// Server CPU seconds (all processes of the contestant's group).
    pub server_cpu_s: f64,
    /// Server CPU milliseconds per 1,000 responses.
    pub cpu_ms_per_1k: f64,
    /// Mean PSS of the contestant's group (bytes).
    pub pss_mean_bytes: u64,
    /// Peak PSS (bytes).
    pub pss_peak_bytes: u64,
    /// Peak RSS summed over the group (bytes).
    pub rss_peak_bytes: u64,
    /// Load-engine CPU seconds.
    pub engine_cpu_s: f64,
    /// Busiest load thread's share of time on a CPU.
    pub engine_busiest: f64,
    /// Per-second responses.
    pub timeline_rps: Vec<u64>,
    /// The database server's own share (PostgreSQL, sampled as its own process group during the
    /// trial); `None` on SQLite, where the queries run inside the contestant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseUsage>,
    /// The contestant died during the trial.
    pub crashed: bool,
    /// Whether this trial measured the server alone, and what limited it (issue 8). Absent in
    /// runs stored before it existed, which read back as [`TrialQuality::default`].
    #[serde(default)]
    pub quality: TrialQuality,
    /// WebSocket trials only (issue 10): messages sent and a room's fan-out counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws: Option<super::WsTrial>,
    /// How the contestant was deployed and how many cores it used, for a trial of a worker
    /// sweep (issue 10, part 5); `None` for other trials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<TrialCores>,
    /// Where on a scale workload's axis this trial was measured (issue 10); `None` for a
    /// plain trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<super::TrialPoint>,
}

/// What the database server used during one trial.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct DatabaseUsage {
    /// CPU seconds of the whole server (every backend).
    pub cpu_s: f64,
    /// CPU milliseconds per 1,000 responses of the contestant.
    pub cpu_ms_per_1k: f64,
    /// Mean PSS of the server's processes (bytes).
    pub pss_mean_bytes: u64,
}

/// The deployment of a worker-sweep trial and the cores it used.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrialCores {
    /// `WORKERS` the contestant ran with.
    pub workers: u32,
    /// CPUs its process group was pinned to.
    pub server_cpus: Vec<usize>,
    /// The load engine ran on some of those CPUs too.
    pub shares_engine_cpus: bool,
    /// Cores the contestant used: its group's CPU-seconds over the sampled wall seconds;
    /// `None` when no time was sampled.
    pub cores_used: Option<f64>,
    /// The load engine's CPU-seconds over the wall seconds times the shared CPUs: the share of
    /// the server's CPUs the engine took; `None` when the engine ran on CPUs of its own.
    pub engine_cpu_share: Option<f64>,
}

impl TrialMetrics {
    /// Whether this trial's figures count toward medians and rankings: not a contaminated try
    /// that a later try of its round replaced ([`TrialQuality::superseded`]; the last try
    /// allowed counts, marked), not cut short by a crash, and answered at least once (a trial
    /// without a response has no throughput or latency, not zero ones). The one rule for the
    /// runner, the reports and `diff`.
    pub fn counts(&self) -> bool {
        !self.quality.superseded
            && !self.crashed
            && self.requests > 0
            && self.rps.is_finite()
            && self.rps > 0.0
    }
}

/// How far one trial can be trusted: what else ran on the server CPUs, what the window left
/// unanswered, and whether the load engine rather than the server set the figure.
///
/// `None` means "not measured" (older runs, or a platform without `/proc`), never zero.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrialQuality {
    /// Seconds spent waiting, before the window opened, for every contestant and the server
    /// CPUs to be idle.
    pub quiet_wait_s: Option<f64>,
    /// The server CPUs were idle when the window opened (false: the wait gave up at its bound).
    pub quiet_at_start: Option<bool>,
    /// CPU seconds used on the server CPUs during the window by anything but the contestant
    /// under test (other contestants, other processes of the machine).
    pub foreign_cpu_s: Option<f64>,
    /// `foreign_cpu_s` was above the run's threshold: the trial is not counted and was repeated.
    pub contaminated: bool,
    /// Earlier tries of this round for this contestant that were contaminated (0 for most).
    pub retry: u32,
    /// A later try of the same round replaced this (contaminated) one: it is kept to be shown,
    /// and left out of every figure. A contaminated trial that is not superseded was the last
    /// try allowed, and is counted (marked).
    #[serde(default)]
    pub superseded: bool,
    /// Connections the window was meant to keep busy.
    pub connections: Option<u32>,
    /// Connections opened (each with one completed request) before the window opened.
    pub warm_connections: Option<u32>,
    /// Connections that could not be opened before the window.
    pub setup_failures: Option<u32>,
    /// Seconds spent opening and warming the connections, outside the window.
    pub setup_s: Option<f64>,
    /// Requests still unanswered when the window closed (counted nowhere else).
    pub unanswered: u64,
    /// Longest time one of those had waited when the window closed (µs): a lower bound of
    /// its latency.
    pub unanswered_max_age_us: Option<u64>,
    /// Mean requests in flight by Little's law (throughput x mean latency).
    pub busy_connections: Option<f64>,
    /// Why the load engine, not the server, limited this trial; `None` when it did not.
    /// Such a figure is a lower bound of the server's capacity and is not ranked.
    pub engine_limited: Option<String>,
    /// How fast the first server CPU ran a fixed piece of work just before the window, in
    /// nanoseconds per step (lower is faster; see `runner::isolation::speed_probe`): the
    /// machine's own speed at the time, which a shared virtual machine does not keep.
    #[serde(default)]
    pub speed_ns_per_step: Option<f64>,
}

/// One trial as stored.
#[derive(Debug, Clone, Serialize)]
pub struct TrialRecord {
    /// Workload name.
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// Round number from 1.
    pub round: u32,
    /// RFC 3339 start time.
    pub started_at: String,
    /// The figures.
    pub metrics: TrialMetrics,
    /// Corrected latency histogram, HDR V2 serialized.
    #[serde(skip)]
    pub histogram: Vec<u8>,
    /// Uncorrected latency histogram, HDR V2 serialized.
    #[serde(skip)]
    pub histogram_uncorrected: Vec<u8>,
}

/// A run's row as listed by `faceoff history`.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    /// Run id.
    pub id: i64,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end, if it ended.
    pub finished_at: Option<String>,
    /// How it ended.
    pub status: RunStatus,
    /// Suite name.
    pub suite_name: String,
    /// Where the suite came from.
    pub suite_path: String,
    /// Suite hash.
    pub suite_sha256: String,
    /// Trials stored.
    pub trials: u64,
}

/// Everything stored about one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunDetail {
    /// The run's row.
    pub run: RunRow,
    /// The suite file.
    pub suite_toml: String,
    /// Environment; `None` when the run stored none this faceoff can read.
    pub environment: Option<Environment>,
    /// Settings; `None` when the run stored none this faceoff can read.
    pub settings: Option<RunSettings>,
    /// Contestants.
    pub contestants: Vec<ContestantRecord>,
    /// Trials in the order they ran.
    pub trials: Vec<TrialRecord>,
    /// Events (kind, contestant, workload, message).
    pub events: Vec<Event>,
    /// The security audit of each contestant `run` audited ([`super::Store::audits`]).
    pub audits: Vec<ContestantAudit>,
    /// Capacities under an SLO found in the run (issue 10).
    pub capacities: Vec<super::CapacityRecord>,
}

/// The kind of the event stored each time an idle step starts its contestant afresh (a record
/// of method, which reports do not show as a warning).
pub const RESTART_EVENT: &str = "restart";

/// Something that happened during a run: a crash, a skip, a warning.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339 time.
    pub at: String,
    /// Contestant concerned, if any.
    pub contestant: Option<String>,
    /// Workload concerned, if any.
    pub workload: Option<String>,
    /// Short kind: `crash`, `skip`, `warning`, `group`, ...
    pub kind: String,
    /// What happened and what to do.
    pub message: String,
}
