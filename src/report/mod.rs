//! Reports of a stored run: one owned [`ReportData`] computed from the store's read model
//! ([`crate::store::RunDetail`]), and one [`Exporter`] per output format (terminal, Markdown,
//! JSON, self-contained HTML with inline SVG charts).
//!
//! Renderers are pure functions of `ReportData`, so any past run can be rendered again and every
//! format shows the same figures. The JSON output *is* `ReportData` serialized; its schema is
//! `docs/results-schema.json` and [`SCHEMA_VERSION`] changes with any incompatible change.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::RunStatus;
pub use crate::store::{Environment, NoiseCalibration, WorkloadSettings};

pub mod answer;
pub mod audit;
mod build;
pub mod compare;
pub mod cores;
pub(crate) mod format;
mod gates;
pub mod histogram;
pub mod html;
pub mod json;
pub mod md;
pub mod scale;
mod scale_view;
pub mod speed;
mod stacks;
pub mod svg;
pub mod term;
pub mod ws;

pub use html::Html;
pub use json::Json;
pub use md::Markdown;
pub use term::Term;

/// Version of the results JSON schema (`docs/results-schema.json`).
pub const SCHEMA_VERSION: u32 = 2;

/// Confidence of every interval in a report.
pub const CONFIDENCE: f64 = 0.95;

/// Relative half-width of the throughput interval above which a result is flagged as noisy,
/// when the run recorded no target of its own.
pub const DEFAULT_TARGET_CI_REL: f64 = 0.03;

/// Latency percentiles drawn on the percentile curves (HDR style: dense toward the tail).
pub const CURVE_PERCENTILES: [f64; 14] = [
    0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.75, 99.9, 99.95, 99.975, 99.99,
];

/// Turns report data into the bytes of one output format.
pub trait Exporter {
    /// Renders `data`. Pure: the same data always gives the same bytes.
    fn render(&self, data: &ReportData) -> anyhow::Result<Vec<u8>>;
}

/// Everything a report shows about one run, computed once from the store.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    /// Schema version of this structure as JSON ([`SCHEMA_VERSION`]).
    pub schema: u32,
    /// The faceoff version that rendered the report.
    pub faceoff_version: String,
    /// The run itself.
    pub run: RunInfo,
    /// The article's claims judged on this run (issue 12); leads every report.
    pub claims: crate::verdict::ClaimsReport,
    /// The verdict of every built-in project profile on this run (issue 12).
    pub verdicts: Vec<crate::verdict::ProfileVerdict>,
    /// Per workload: who leads, by how much, and whether that is within noise.
    pub headline: Vec<Headline>,
    /// Per workload: every measured contestant, ranked by median throughput.
    pub workloads: Vec<WorkloadReport>,
    /// The best contestant of each stack, per workload.
    pub stacks: StackView,
    /// Every contestant of the run, measured or not, with its verify results.
    pub contestants: Vec<ContestantInfo>,
    /// Doubts about the measurements and things that happened during the run.
    pub warnings: Vec<ReportWarning>,
    /// How the run was made: enough to reproduce it.
    pub method: Method,
    /// The security audit of each contestant, or why it has none (issue 11).
    pub audit: audit::AuditSection,
    /// Sweeps, idle connections and capacities (issue 10); absent when the run has none.
    #[serde(skip_serializing_if = "scale::ScaleReport::is_empty")]
    pub scale: scale::ScaleReport,
    /// Worker sweeps: throughput, cores used and scaling per worker count (absent without one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cores: Vec<cores::WorkerSweep>,
    /// This run beside a baseline run (`faceoff report --compare`; absent otherwise): the
    /// database effect when the two used different databases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<compare::RunComparison>,
    /// The run's thresholds judged on its figures (issue 13); absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gates: Option<crate::gate::GateReport>,
}

impl ReportData {
    /// Whether a threshold failed (or was inconclusive, or had no data): the commands then
    /// exit with [`crate::gate::EXIT_GATE_FAILED`].
    pub fn gate_failed(&self) -> bool {
        self.gates.as_ref().is_some_and(|g| !g.passed)
    }
}

/// The run's identity and outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Run id in the results database.
    pub id: i64,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end, if it ended.
    pub finished_at: Option<String>,
    /// How it ended.
    pub status: RunStatus,
    /// Suite name.
    pub suite_name: String,
    /// Where the suite came from (a path, or `builtin:NAME`).
    pub suite_path: String,
    /// SHA-256 of the suite file, hex.
    pub suite_sha256: String,
}

/// A median with its confidence interval, in the unit of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Median of the samples.
    pub median: f64,
    /// Lower bound of the interval.
    pub lo: f64,
    /// Upper bound of the interval.
    pub hi: f64,
    /// Probability that an interval formed this way covers the true median.
    pub coverage: f64,
    /// Too few samples to reach [`CONFIDENCE`]: the interval is the whole sample range.
    pub short_of_confidence: bool,
    /// Larger distance from the median to a bound, relative to the median (0.03 = ±3%).
    pub rel_half_width: f64,
}

/// A contestant named in a headline or a stack cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Who {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
}

/// What a headline may say about the leader and the next one (issue 8: "ahead" only at 95%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Both intervals reach 95% confidence and do not overlap.
    Ahead,
    /// The intervals overlap: the order may not hold on another run.
    WithinNoise,
    /// The intervals do not overlap, but at least one is short of 95% confidence (too few
    /// trials, as in the quick suite): a first impression, not a ranking.
    Indicative,
    /// Only one result could be ranked.
    OnlyOne,
    /// No result could be ranked (no figures, or only lower bounds).
    NothingRanked,
}

/// One workload's outcome in one line.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// Workload name.
    pub workload: String,
    /// The ranked contestant with the highest median throughput, if any.
    pub winner: Option<Who>,
    /// Its median requests per second.
    pub winner_rps: Option<f64>,
    /// The next ranked one, if there is one.
    pub runner_up: Option<Who>,
    /// Its median requests per second.
    pub runner_up_rps: Option<f64>,
    /// `winner_rps / runner_up_rps - 1` (0.25 = 25% more requests per second).
    pub margin_rel: Option<f64>,
    /// What may be said about the two.
    pub verdict: Verdict,
    /// Results left out of the ranking: lower bounds (the load engine was the limit) and
    /// contestants without figures.
    pub not_ranked: u32,
}

/// One workload's results.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    /// Workload name.
    pub name: String,
    /// Ranked results best median throughput first, then lower bounds, then results without
    /// figures.
    pub results: Vec<ContestantResult>,
}

/// Where a result stands against the workload's leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The ranked result with the highest median.
    Leader,
    /// Behind the leader, both intervals at 95% confidence and apart.
    Behind,
    /// Its interval overlaps the leader's.
    WithinNoise,
    /// Apart from the leader's interval, but one of the two is short of 95% confidence.
    Indicative,
    /// The load engine, not the server, was the limit: the figure is a lower bound, not ranked.
    LowerBound,
    /// No trial gave a figure (see `no_data`).
    NoData,
}

/// One contestant's figures on one workload, over the trials that count
/// ([`crate::store::TrialMetrics::counts`]): not a contaminated try replaced by a retry, not cut
/// short by a crash, with at least one response. A figure is `None` when no trial
/// counts; it is never shown as zero.
#[derive(Debug, Clone, Serialize)]
pub struct ContestantResult {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
    /// Place by median throughput, from 1; `None` when not ranked (lower bound, no figures).
    pub rank: Option<u32>,
    /// Where it stands against the leader.
    pub standing: Standing,
    /// Trials whose figures count.
    pub trials: u32,
    /// Trials stored, counted or not.
    pub trials_stored: u32,
    /// Tries during which other work ran on the server CPUs: each was retried, and a last try
    /// still contaminated counts (marked).
    pub contaminated: u32,
    /// Trials in which the contestant crashed.
    pub crashed_trials: u32,
    /// Trials without a single response.
    pub silent_trials: u32,
    /// Why there is no figure at all; `None` when there is one.
    pub no_data: Option<String>,
    /// Why the figure is a lower bound (the load engine was the limit); `None` when it is not.
    pub engine_limited: Option<String>,
    /// Requests per second: median over counted trials with its interval.
    pub rps: Option<Estimate>,
    /// Requests per second of each counted trial, in the order they ran.
    pub rps_samples: Vec<f64>,
    /// This median over the leader's median (1.0 for the leader); `None` without a figure or
    /// a leader.
    pub ratio_to_first: Option<f64>,
    /// Corrected latency: median over trials of each trial's p50 (µs).
    pub p50_us: Option<f64>,
    /// Corrected latency: median over trials of each trial's p95 (µs), read from the stored
    /// histograms; `None` when none can be read.
    pub p95_us: Option<f64>,
    /// Corrected latency: median over trials of each trial's p99 (µs).
    pub p99_us: Option<f64>,
    /// Uncorrected latency: median over trials of each trial's p50 (µs).
    pub p50_uncorrected_us: Option<f64>,
    /// Uncorrected latency: median over trials of each trial's p99 (µs).
    pub p99_uncorrected_us: Option<f64>,
    /// Smallest corrected latency of any counted trial (µs), read from the stored
    /// histograms; `None` when none can be read.
    pub min_us: Option<u64>,
    /// Largest corrected latency of any counted trial (µs).
    pub max_us: Option<u64>,
    /// Latency percentile curve of the counted trials' histograms merged; empty when there is
    /// none.
    pub latency_curve: Vec<CurvePoint>,
    /// Server CPU milliseconds per 1,000 responses, median over trials.
    pub cpu_ms_per_1k: Option<f64>,
    /// The database server's CPU milliseconds per 1,000 responses (PostgreSQL, sampled apart),
    /// median over the trials that have it; `None` on SQLite.
    pub database_cpu_ms_per_1k: Option<f64>,
    /// Mean PSS of the contestant's process group, averaged over trials (bytes).
    pub pss_mean_bytes: Option<u64>,
    /// Highest PSS seen in any counted trial (bytes).
    pub pss_peak_bytes: Option<u64>,
    /// Responses received over the counted trials.
    pub requests: u64,
    /// Failed requests over the counted trials.
    pub errors: u64,
    /// Failed requests by kind over the counted trials.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests still unanswered when a window closed, over every stored trial.
    pub unanswered: u64,
    /// The longest any of those had waited (µs): a lower bound of its latency.
    pub unanswered_max_age_us: Option<u64>,
    /// The unanswered requests point to a fault: a trial got no response at all, or one waited
    /// far longer than any answer took. Otherwise they are the requests a closed loop always
    /// has under way when its window closes (one per busy connection).
    pub unanswered_fault: bool,
    /// Busiest load thread's share of time on a CPU, highest over trials.
    pub engine_busiest: f64,
    /// The contestant died during at least one trial.
    pub crashed: bool,
    /// WebSocket workloads only: messages sent and a room's fan-out (`null` for HTTP).
    pub ws: Option<ws::WsResult>,
}

/// One point of a latency percentile curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Percentile, 0 to 100 (one of [`CURVE_PERCENTILES`]).
    pub percentile: f64,
    /// Corrected latency (from the intended send time) at this percentile (µs).
    pub corrected_us: u64,
    /// Uncorrected latency (from the actual send time) at this percentile (µs).
    pub uncorrected_us: u64,
}

/// Node.js vs Python vs Rust: the best contestant of each stack, per workload.
#[derive(Debug, Clone, Serialize)]
pub struct StackView {
    /// Stack labels, the reference stacks first, then others alphabetically.
    pub stacks: Vec<String>,
    /// One row per workload.
    pub rows: Vec<StackRow>,
}

/// One workload of the stack view.
#[derive(Debug, Clone, Serialize)]
pub struct StackRow {
    /// Workload name.
    pub workload: String,
    /// One cell per entry of [`StackView::stacks`]; `null` where that stack was not measured.
    pub cells: Vec<Option<StackCell>>,
}

/// The best contestant of one stack on one workload.
#[derive(Debug, Clone, Serialize)]
pub struct StackCell {
    /// The contestant.
    pub contestant: Who,
    /// Its requests per second.
    pub rps: Estimate,
    /// Its median p99 (µs).
    pub p99_us: Option<f64>,
    /// Its CPU milliseconds per 1,000 responses.
    pub cpu_ms_per_1k: Option<f64>,
    /// Its mean PSS (bytes).
    pub pss_mean_bytes: Option<u64>,
    /// The best of the stacks on this workload.
    pub leader: bool,
    /// Not the leader, but its interval overlaps the leader's.
    pub within_noise_of_leader: bool,
}

/// A contestant of the run and how it fared before load.
#[derive(Debug, Clone, Serialize)]
pub struct ContestantInfo {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
    /// Language.
    pub language: String,
    /// Framework.
    pub framework: String,
    /// What became of it.
    pub status: crate::store::ContestantStatus,
    /// Installed versions (runtime, framework, ...).
    pub versions: BTreeMap<String, String>,
    /// Verify checks in the order they ran.
    pub verify: Vec<VerifyCheck>,
    /// Checks passed.
    pub verify_passed: u32,
    /// Checks failed.
    pub verify_failed: u32,
    /// Why skipped, a crash log tail, ...
    pub note: String,
    /// The runtime it ran on, exactly (`node v24.11.1`).
    pub runtime: Option<String>,
    /// How it was deployed and why (from its manifest).
    pub deployment: Option<crate::store::Deployment>,
}

/// One verify check of one contestant.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyCheck {
    /// What was checked.
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was wrong, or extra detail.
    pub detail: String,
}

/// A doubt about a measurement, or something that happened during the run.
#[derive(Debug, Clone, Serialize)]
pub struct ReportWarning {
    /// `engine_saturated`, `high_variance`, `unreadable_histogram`, or an event kind of the run
    /// (`crash`, `skip`, `warning`, ...).
    pub kind: String,
    /// Contestant concerned, if any.
    pub contestant: Option<String>,
    /// Workload concerned, if any.
    pub workload: Option<String>,
    /// What happened and what to do.
    pub message: String,
}

/// How the run was made. Every setting is `None` ("not recorded") when the run stored none
/// this faceoff can read.
#[derive(Debug, Clone, Serialize)]
pub struct Method {
    /// CPUs the contestants ran on.
    pub server_cpus: Option<Vec<usize>>,
    /// CPUs the load engine ran on.
    pub load_cpus: Option<Vec<usize>>,
    /// `WORKERS` given to each contestant.
    pub workers: Option<u32>,
    /// Seed of the shuffled order of contestants within each round.
    pub order_seed: Option<u64>,
    /// This machine's own trial-to-trial noise, measured at the start of the run.
    pub noise: Option<NoiseCalibration>,
    /// Where the contestants served the dataset from, in words.
    pub database: Option<String>,
    /// Confidence of the intervals.
    pub confidence: f64,
    /// Per workload of the run: its settings and the interval widths this machine gave.
    pub workloads: Vec<WorkloadMethod>,
    /// Trials stored for the run.
    pub trials_total: u64,
    /// Fewest trials of any contestant on any workload.
    pub trials_min: u32,
    /// Most trials of any contestant on any workload.
    pub trials_max: u32,
    /// Machine and software environment.
    pub environment: Option<Environment>,
    /// Tries during which other work ran on the server CPUs, per workload and contestant
    /// (only those with any).
    pub contaminated: Vec<CellCount>,
    /// How long trials waited for the server CPUs to be quiet; `None` when not recorded.
    pub quiet_wait: Option<QuietWait>,
    /// The machine's own speed over the run (a probe before each trial); `None` when not
    /// recorded (runs stored before the probe).
    pub machine_speed: Option<speed::MachineSpeed>,
    /// Ranked results with a throughput interval within ±10% of the median.
    pub rows_within_10pct: u32,
    /// Ranked results with a throughput interval.
    pub rows_with_interval: u32,
    /// The suite file as it was run.
    pub suite_toml: String,
    /// A command line that runs the same suite again.
    pub reproduce: String,
}

/// One workload in the method section.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadMethod {
    /// Workload name.
    pub name: String,
    /// Its settings; `None` when not recorded.
    pub settings: Option<WorkloadSettings>,
    /// The widest throughput interval of its ranked results, relative to the median.
    pub widest_rel_half_width: Option<f64>,
    /// Whether every ranked result reached the target width; `None` without a target or a
    /// ranked result.
    pub target_reached: Option<bool>,
}

/// A count for one contestant on one workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellCount {
    /// Workload name.
    pub workload: String,
    /// Contestant name.
    pub contestant: String,
    /// How many.
    pub count: u32,
}

/// The wait for quiet server CPUs before each trial, over the trials that recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuietWait {
    /// Trials that recorded a wait.
    pub trials: u32,
    /// Median wait (seconds).
    pub median_s: f64,
    /// Longest wait (seconds).
    pub max_s: f64,
    /// Trials whose wait gave up at its bound with the CPUs still busy.
    pub not_quiet: u32,
}
