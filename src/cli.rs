//! Command-line definitions (clap derive). No I/O here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::duration::parse_duration;

/// faceoff settles "which backend stack should we use?" with measurements on this machine.
///
/// It starts equivalent reference backends (Node.js, Python, Rust) as real processes, checks that
/// they implement the same API contract, drives load at them with its own engine, and reports
/// the results side by side.
#[derive(Debug, Parser)]
#[command(
    name = "faceoff",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive HTTP load at one local URL, like wrk or oha, and print what it measured.
    ///
    /// Closed loop by default: every connection sends its next request when the last answer
    /// arrives. With --rate, the load is open loop at a constant total rate and latency is
    /// measured from each request's intended send time, so a stalled server shows up in the
    /// percentiles (no coordinated omission).
    Bench(Box<BenchArgs>),
    /// Measure every contestant on a suite of workloads (the main job).
    ///
    /// Installs each contestant (cached), checks it against the API contract, starts them all
    /// pinned to the server CPUs, then per workload warms each up and runs rounds of one trial
    /// per contestant in turn until every median's 95% confidence interval is narrow enough.
    /// Every trial is saved to SQLite when it ends; Ctrl-C keeps what finished (continue with
    /// --resume).
    Run(Box<RunArgs>),
    /// List the stored runs.
    History(HistoryArgs),
    /// Print a stored run's ranked tables again.
    Show(ShowArgs),
    /// Show the throughput changes between two runs that are outside the noise.
    Diff(DiffArgs),
    /// Check that contestants implement the API contract (docs/contestants.md).
    ///
    /// Installs each contestant (cached), creates a fresh dataset, starts it pinned to the
    /// server CPUs, runs every check, stops it, and prints a table of contestant x check.
    /// Exit status 1 if any check fails, 4 if nothing was verified (every contestant skipped,
    /// e.g. for a missing runtime); docs/exit-codes.md.
    Verify(VerifyArgs),
    /// Render a stored run as report.html, summary.md and results.json, and print a summary.
    Report(ReportArgs),
    /// Probe each contestant's security posture on loopback (docs/audit.md).
    ///
    /// Brings each contestant up as verify does, scores its response headers with Mozilla HTTP
    /// Observatory's rubric, notes headers that disclose versions, sends hostile input (each
    /// probe bounded in bytes and time, health checked after each), counts its dependencies
    /// from its lockfile, stops it, and prints a table per contestant.
    Audit(AuditArgs),
    /// Judge the article's claims (or your own claims file) on a stored run.
    ///
    /// Each claim is supported, refuted or inconclusive, with the figures, their intervals and
    /// the rows they came from; inconclusive says when the intervals overlap the claim's margin
    /// and exactly which data is missing (claims/nodejs-vs-python-2025.toml shows the format).
    Claims(ClaimsArgs),
    /// Rank the contestants of a stored run for a project profile, with cost at your load.
    ///
    /// A profile (profiles/*.toml: realtime-chat, rest-crud, data-api, mixed, or your own file)
    /// weighs workloads and sets an SLO, a target load and how much security counts. Cost comes
    /// from capacity under the SLO only; without it, "not measured".
    Verdict(VerdictArgs),
    /// Write a stored trial's latency histogram: an HdrHistogram interval log, a percentile
    /// spectrum, or the spectrum as CSV (docs/bench-output.md).
    ///
    /// With --trial N, the trial of round N; without it, every counted trial of the workload
    /// and contestant (one interval each in `hdr`, merged for `spectrum` and `csv`).
    Export(ExportArgs),
    /// Write a contestant folder for your own app: a manifest, a minimal server for /healthz and
    /// a few contract endpoints, and a suite file for them.
    ///
    /// It passes `faceoff verify --contestant DIR` as written; then put your app behind the same
    /// paths and measure it with `faceoff run --contestant DIR --suite DIR/suite.toml`.
    NewContestant(NewContestantArgs),
}

/// Arguments of `faceoff new-contestant`.
#[derive(Debug, Args)]
pub struct NewContestantArgs {
    /// The folder to create (it must not exist, or be empty).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The template's stack: node (node:http, no dependencies), python (the standard library,
    /// no dependencies) or rust (axum and tokio, as the rust-axum reference contestant).
    #[arg(long, value_enum)]
    pub stack: TemplateStack,

    /// The contestant's name [default: the folder's name, lowercased].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// The stacks `faceoff new-contestant` has a template for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateStack {
    /// Node.js, `node:http`.
    Node,
    /// Python, `http.server`.
    Python,
    /// Rust, axum.
    Rust,
}

impl TemplateStack {
    /// The stack's name in messages.
    pub fn label(self) -> &'static str {
        match self {
            TemplateStack::Node => "Node.js",
            TemplateStack::Python => "Python",
            TemplateStack::Rust => "Rust",
        }
    }
}

/// Arguments of `faceoff bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The URL to load, e.g. http://127.0.0.1:8080/json. Only loopback targets unless
    /// --allow-remote is given.
    pub url: String,

    /// Number of connections kept open (shared out over the threads).
    #[arg(short = 'c', long, default_value_t = 64, value_name = "N",
          value_parser = parse_connections, allow_negative_numbers = true)]
    pub connections: usize,

    /// How long to send requests, e.g. 10s, 1m, 500ms.
    #[arg(short = 'd', long, value_parser = parse_duration, value_name = "DURATION",
          conflicts_with = "requests")]
    pub duration: Option<Duration>,

    /// Stop after exactly this many requests instead of after a duration.
    #[arg(short = 'n', long, value_name = "N", value_parser = parse_requests,
          allow_negative_numbers = true)]
    pub requests: Option<u64>,

    /// Constant total rate in requests per second (open loop). Each connection owns an equal
    /// share of it and a schedule of intended send times.
    #[arg(short = 'r', long, value_name = "PER_S")]
    pub rate: Option<f64>,

    /// Load-engine threads, one per CPU [default: the number of CPUs faceoff may run on,
    /// or of --cpus].
    #[arg(short = 't', long, value_name = "N", value_parser = parse_threads,
          allow_negative_numbers = true)]
    pub threads: Option<usize>,

    /// Pin the load engine to these CPUs, e.g. 0 or 0,2-3.
    #[arg(long, value_name = "LIST", value_parser = parse_cpu_list)]
    pub cpus: Option<CpuList>,

    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,

    /// Extra request header "Name: value" (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,

    /// Request body.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Read the request body from this file.
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,

    /// Give up on a request after this long; it counts as a timeout error and enters the
    /// latency histogram at this value (a lower bound).
    #[arg(long, value_parser = parse_duration, default_value = "10s", value_name = "DURATION")]
    pub timeout: Duration,

    /// Open every connection and complete one request on each before the measured window
    /// opens, as `faceoff run` does; the set-up is reported apart. Without it, connects fall
    /// inside the window, and with -n the server sees exactly N requests.
    #[arg(long)]
    pub warm: bool,

    /// Print one JSON object on stdout instead of the human summary (schema:
    /// docs/bench-output.md); the same as --format json.
    #[arg(long)]
    pub json: bool,

    /// What to write: human (the summary), json (docs/bench-output.md), csv (a header and
    /// one row), md (a Markdown table), hdr (an HdrHistogram interval log), spectrum (a
    /// percentile spectrum, as wrk2 prints it). On stdout, or into each -o file [default:
    /// human on stdout; with -o, from each file's extension: .json .csv .md .hlog].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<BenchFormat>,

    /// Write the output into this file (repeatable), created before the load starts; the
    /// terminal still shows the human summary.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Vec<PathBuf>,

    /// Also print the full latency distribution (the percentile spectrum). --latency is the
    /// same, as in wrk.
    #[arg(long, visible_alias = "latency")]
    pub percentiles: bool,

    /// Allow targets other than 127.0.0.0/8, ::1 and localhost. Never point load at a machine
    /// you do not own.
    #[arg(long)]
    pub allow_remote: bool,

    /// WebSocket (ws:// URLs) options: room fan-out or idle hold instead of echo.
    #[command(flatten)]
    pub ws: WsBenchArgs,
}

/// What `faceoff bench` writes, on stdout or into an -o file (docs/bench-output.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    /// The summary for people.
    Human,
    /// One JSON object (docs/bench-output.md).
    Json,
    /// A header row and one row for the load.
    Csv,
    /// A Markdown table, like hyperfine's --export-markdown.
    Md,
    /// An HdrHistogram interval log (V2 compressed, base64): corrected latency in µs, and the
    /// uncorrected one tagged `uncorrected`.
    Hdr,
    /// The corrected latency's percentile spectrum (Value in ms, Percentile, TotalCount,
    /// 1/(1-Percentile)), as wrk2 and HdrHistogram print it.
    Spectrum,
}

/// What `faceoff export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// An HdrHistogram interval log (V2 compressed, base64), one interval per trial.
    Hdr,
    /// The percentile spectrum, as wrk2 and HdrHistogram print it.
    Spectrum,
    /// The percentile spectrum as CSV: value_us, percentile, total_count, inverse.
    Csv,
}

/// Arguments of `faceoff export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run, by id [default: the newest run].
    #[arg(value_name = "RUN")]
    pub run: Option<i64>,

    /// The workload [default: the run's only one].
    #[arg(long, value_name = "NAME")]
    pub workload: Option<String>,

    /// The contestant [default: the run's only one].
    #[arg(long, value_name = "NAME")]
    pub contestant: Option<String>,

    /// The trial of this round (from 1) [default: every counted trial].
    #[arg(long, value_name = "N")]
    pub trial: Option<u32>,

    /// What to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// Export the latency from the actual send times instead of the intended ones.
    #[arg(long)]
    pub uncorrected: bool,

    /// Write into this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// The WebSocket options of `faceoff bench ws://...` (docs/bench-output.md). Without --room or
/// --hold a ws:// URL is an echo load: each connection sends a text message and waits for it
/// to come back (closed loop, or --rate messages per second in total).
#[derive(Debug, Args)]
pub struct WsBenchArgs {
    /// Room fan-out (e.g. ws://127.0.0.1:PORT/ws/room): --publishers send --rate messages per
    /// second in total, every subscriber records the delivery latency of every broadcast.
    #[arg(long, conflicts_with = "hold")]
    pub room: bool,

    /// Room: publishing connections.
    #[arg(long, default_value_t = 1, value_name = "N", requires = "room")]
    pub publishers: usize,

    /// Room: subscribing connections.
    #[arg(long, default_value_t = 64, value_name = "N", requires = "room")]
    pub subscribers: usize,

    /// Open --connections WebSocket connections, upgrade them and hold them idle for the
    /// duration (what faceoff's own memory per connection is).
    #[arg(long)]
    pub hold: bool,

    /// Bytes of each text message sent.
    #[arg(long, default_value_t = 32, value_name = "BYTES")]
    pub message_bytes: usize,
}

/// Arguments of `faceoff run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite to run: `standard`, `quick`, `scale`, or the path of a suite file (TOML).
    #[arg(long, default_value = "standard", value_name = "NAME|PATH")]
    pub suite: String,

    /// Measure your own app too: a folder with a contestant.toml (repeatable; `faceoff
    /// new-contestant` writes one). It runs beside the reference contestants unless --only or
    /// --skip say otherwise.
    #[arg(long = "contestant", value_name = "DIR")]
    pub contestants: Vec<PathBuf>,

    /// Run only these contestants, yours or reference ones, by name (repeatable), e.g.
    /// --only node-http.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Leave out these contestants, by name (repeatable).
    #[arg(long, value_name = "NAME")]
    pub skip: Vec<String>,

    /// Run only these workloads of the suite (repeatable).
    #[arg(long, value_name = "NAME")]
    pub workload: Vec<String>,

    /// CPUs for the contestants [default: the upper half of the allowed CPUs; CPU 1 of 2].
    #[arg(long, value_name = "LIST", value_parser = parse_cpu_list)]
    pub server_cpus: Option<CpuList>,

    /// CPUs for the load engine [default: the lower half; CPU 0 of 2].
    #[arg(long, value_name = "LIST", value_parser = parse_cpu_list)]
    pub load_cpus: Option<CpuList>,

    /// Processes (WORKERS) each contestant runs [default: one per server CPU].
    #[arg(long, value_name = "N")]
    pub workers: Option<u32>,

    /// Warm-up per contestant and workload (overrides the suite).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub warmup: Option<Duration>,

    /// Length of one trial (overrides the suite).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub trial: Option<Duration>,

    /// Fewest rounds of trials (overrides the suite).
    #[arg(long, value_name = "N")]
    pub min_rounds: Option<u32>,

    /// Most rounds of trials (overrides the suite).
    #[arg(long, value_name = "N")]
    pub max_rounds: Option<u32>,

    /// Stop when the 95% CI of every median throughput is within this fraction, e.g. 0.03.
    #[arg(long, value_name = "FRACTION")]
    pub target_ci: Option<f64>,

    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB]. Each run's
    /// reports and logs go beside it: `<folder>/<run id>` for faceoff.db, `<folder>/<name>-<run
    /// id>` for any other name.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Continue an interrupted run (the newest one, or RUN) instead of starting a new one.
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "latest")]
    pub resume: Option<String>,

    /// Seed of the shuffled order of contestants within each round [default: a new one, stored
    /// with the run]; give a run's seed to repeat its order.
    #[arg(long, value_name = "N", conflicts_with = "resume")]
    pub seed: Option<u64>,

    /// Skip the measurement of this machine's noise at the start of the run (about 7 s).
    #[arg(long)]
    pub no_calibration: bool,

    /// Gate the run on a threshold (repeatable): METRIC OP LIMIT, judged on each result's
    /// median and its 95% interval, e.g. 'p99 < 50ms', 'errors < 0.1%', 'rps > 1000'.
    /// Metrics: rps, p50, p90, p99, p999, max (corrected latency), errors (failed requests
    /// over attempts), cpu_per_1k (server CPU per 1,000 responses), pss. Scope it with
    /// 'WORKLOAD:' (json:rps>1000), 'WORKLOAD/CONTESTANT:' (json/node-http:p99<20ms) or
    /// '*/CONTESTANT:'; unscoped, it applies to every plain workload and contestant. Pass
    /// needs the whole interval on the right side; an interval that straddles the limit is
    /// inconclusive and, like a result without data, fails the gate: exit status 3, after
    /// every result and report is written (docs/exit-codes.md).
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold)]
    pub thresholds: Vec<crate::gate::Threshold>,

    #[command(flatten)]
    pub database: crate::database::DatabaseArgs,
    /// Security audit of each contestant once every workload is measured [default: quick,
    /// every probe but the 8 s slow client, at most 20 s per contestant; full: as `faceoff
    /// audit`]. See docs/audit.md.
    #[arg(long, value_enum, value_name = "DEPTH")]
    pub audit: Option<crate::audit::AuditDepth>,
}

/// Arguments of `faceoff verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A contestant folder (repeatable) [default: every reference contestant, sorted; those
    /// of the repository's contestants/ when run in it].
    #[arg(long = "contestant", value_name = "DIR")]
    pub contestants: Vec<PathBuf>,

    /// Only these contestants, yours or reference ones, by name (repeatable), e.g.
    /// --only node-http.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Leave out these contestants, by name (repeatable).
    #[arg(long, value_name = "NAME")]
    pub skip: Vec<String>,

    /// Pin contestants to these CPUs, e.g. 1 or 2-3 [default: the upper half of the CPUs
    /// faceoff may use, i.e. the last one of two].
    #[arg(long, value_name = "LIST", value_parser = parse_cpu_list)]
    pub server_cpus: Option<CpuList>,

    /// Run only these checks (comma-separated or repeated) [default: all].
    #[arg(long = "check", value_name = "NAME", value_delimiter = ',')]
    pub checks: Option<Vec<String>>,

    #[command(flatten)]
    pub database: crate::database::DatabaseArgs,

    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `faceoff audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A contestant folder (repeatable) [default: every reference contestant, sorted; those
    /// of the repository's contestants/ when run in it].
    #[arg(long = "contestant", value_name = "DIR")]
    pub contestants: Vec<PathBuf>,

    /// Only these contestants, yours or reference ones, by name (repeatable), e.g.
    /// --only node-http.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Leave out these contestants, by name (repeatable).
    #[arg(long, value_name = "NAME")]
    pub skip: Vec<String>,

    /// Pin contestants to these CPUs, e.g. 1 or 2-3 [default: the upper half of the CPUs
    /// faceoff may use].
    #[arg(long, value_name = "LIST", value_parser = parse_cpu_list)]
    pub server_cpus: Option<CpuList>,

    /// Print one JSON object on stdout instead of the table (schema: docs/audit.md).
    #[arg(long)]
    pub json: bool,

    /// Also write the audit as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Folder of recorded advisory reports, `<contestant>.json`, each the output of
    /// `npm audit --json`, `pip-audit --format json` or `cargo audit --json`. Without it,
    /// advisories are "not checked": faceoff sends no traffic beyond loopback.
    #[arg(long, value_name = "DIR")]
    pub advisories: Option<PathBuf>,
}

/// Arguments of `faceoff history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Arguments of `faceoff show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Run id [default: the newest run].
    pub run: Option<i64>,
    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Judge the run again on this threshold (repeatable; the form of `faceoff run
    /// --threshold`, e.g. 'p99 < 50ms' or 'json:rps > 1000'), beside the thresholds it ran
    /// with; exit status 3 if any fails, is inconclusive or has no data.
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold)]
    pub thresholds: Vec<crate::gate::Threshold>,
}

/// Arguments of `faceoff diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run.
    pub run_a: i64,
    /// The later run.
    pub run_b: i64,
    /// Relative change treated as noise unless its confidence interval clears it: a fraction
    /// above 0 and below 1 (0.03 is 3%), or a percentage such as 3%.
    #[arg(long, default_value = "0.03", value_name = "FRACTION", value_parser = parse_noise)]
    pub noise: f64,
    /// Exit with status 3 when any pair regressed outside the noise (for CI).
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Arguments of `faceoff report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run to render, by id [default: the newest run].
    #[arg(value_name = "RUN")]
    pub run: Option<i64>,

    /// The results database [default: faceoff-results/faceoff.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Folder for the report files [default: the run's folder beside the database, as `run` writes].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Judge the run again on this threshold (repeatable; the form of `faceoff run
    /// --threshold`, e.g. 'p99 < 50ms' or 'json:rps > 1000'), beside the thresholds it ran
    /// with; exit status 3 if any fails, is inconclusive or has no data.
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold)]
    pub thresholds: Vec<crate::gate::Threshold>,
    /// Add a section comparing the run with this earlier one, per workload and contestant;
    /// when the two used different databases (--database), the change is the database effect.
    #[arg(long, value_name = "BASELINE")]
    pub compare: Option<i64>,

    /// With --compare: relative change treated as noise unless its interval clears it.
    #[arg(long, default_value_t = crate::report::compare::DEFAULT_NOISE, value_name = "FRACTION", value_parser = parse_noise)]
    pub noise: f64,
}

/// Arguments of `faceoff claims`.
#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// The stored runs to judge, by id (repeatable or comma-separated, e.g. --run 12,13): their
    /// figures are judged together, each test in one run [default: the latest run of each
    /// suite that stored a trial, e.g. standard + scale + cores + compute].
    #[arg(long = "run", value_name = "ID", value_delimiter = ',')]
    pub runs: Vec<i64>,

    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// A claims file (TOML) [default: the built-in nodejs-vs-python-2025].
    #[arg(long, value_name = "FILE")]
    pub claims: Option<String>,

    /// Pricing for cost claims: a built-in name or a file [default: aws-fargate-x86-us-east-1].
    #[arg(long, value_name = "NAME|FILE")]
    pub pricing: Option<String>,

    /// Print one JSON object on stdout instead of text (the `claims` object of
    /// docs/results-schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `faceoff verdict`.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The project profile: realtime-chat, rest-crud, data-api, mixed, or a file.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: String,

    /// The load to price, in requests per second (overrides the profile).
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub target_rps: Option<f64>,

    /// The p99 latency objective, e.g. 50ms (overrides the profile).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub slo_p99: Option<Duration>,

    /// Which stored run.
    #[command(flatten)]
    pub stored: StoredRun,

    /// Pricing: a built-in name or a file [default: the profile's].
    #[arg(long, value_name = "NAME|FILE")]
    pub pricing: Option<String>,

    /// Print one JSON object on stdout instead of text (one element of `verdicts` in
    /// docs/results-schema.json).
    #[arg(long)]
    pub json: bool,
}

/// The stored run `claims` and `verdict` read.
#[derive(Debug, Args)]
pub struct StoredRun {
    /// The run, by id [default: the newest run].
    #[arg(long, value_name = "ID")]
    pub run: Option<i64>,

    /// Results database [default: faceoff-results/faceoff.db; env FACEOFF_DB].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// A positive, finite number of requests per second.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "'{text}' is not a rate; write a number of requests per second above 0, e.g. 2000"
        )),
    }
}

/// A whole number of at least 1, or a message naming `what` and an example flag. Negative
/// values reach it (`allow_negative_numbers`): otherwise clap reads `-c -5` as a flag `-5` and
/// suggests `-- -5`, which would make it a second URL.
fn positive(text: &str, what: &str, example: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{what} must be a positive integer, not '{text}'; e.g. {example}"
        )),
    }
}

/// A threshold of `--threshold` (`crate::gate::expr`).
fn parse_threshold(text: &str) -> Result<crate::gate::Threshold, String> {
    crate::gate::parse_cli(text).map_err(|e| e.to_string())
}

/// A noise threshold: a fraction in the open range 0..1, or a percentage (`3%`).
pub fn parse_noise(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match value {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1.0 => Ok(v),
        Ok(_) => Err(format!(
            "'{text}' is outside the noise range; write a fraction above 0 and below 1 \
             (0.03 is 3%) or a percentage, e.g. 3%"
        )),
        Err(_) => Err(format!(
            "'{text}' is not a number; write a fraction such as 0.03 or a percentage such as 3%"
        )),
    }
}

/// `bench -c`: connections, at least 1.
fn parse_connections(text: &str) -> Result<usize, String> {
    positive(text, "connections", "-c 64").map(|n| n as usize)
}

/// `bench -t`: load threads, at least 1.
fn parse_threads(text: &str) -> Result<usize, String> {
    positive(text, "threads", "-t 2").map(|n| n as usize)
}

/// `bench -n`: requests, at least 1.
fn parse_requests(text: &str) -> Result<u64, String> {
    positive(text, "the number of requests", "-n 10000")
}

/// A set of CPU numbers, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuList(pub Vec<usize>);

/// Parses CPU lists such as `0`, `1,3` or `0-3,6`.
pub fn parse_cpu_list(text: &str) -> Result<CpuList, String> {
    let bad = || format!("'{text}' is not a CPU list; write e.g. 0 or 0,2-3");
    let mut cpus = Vec::new();
    for part in text.split(',').map(str::trim) {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let lo: usize = lo.trim().parse().map_err(|_| bad())?;
                let hi: usize = hi.trim().parse().map_err(|_| bad())?;
                if lo > hi {
                    return Err(bad());
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    let mut seen = std::collections::HashSet::new();
    cpus.retain(|c| seen.insert(*c));
    if cpus.is_empty() {
        return Err(bad());
    }
    Ok(CpuList(cpus))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0").unwrap().0, vec![0]);
        assert_eq!(parse_cpu_list("0,2-3").unwrap().0, vec![0, 2, 3]);
        assert_eq!(parse_cpu_list("1,1").unwrap().0, vec![1]);
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("a").is_err());
        assert!(parse_cpu_list("").is_err());
    }

    #[test]
    fn noise_is_a_fraction_between_0_and_1() {
        assert_eq!(parse_noise("0.03"), Ok(0.03));
        assert_eq!(parse_noise("5%"), Ok(0.05));
        for bad in ["-1", "0", "1", "100%", "nan", "inf", "x", ""] {
            assert!(parse_noise(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
