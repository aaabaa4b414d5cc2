//! Suite files (TOML) turned into a validated [`Plan`]: which workloads to measure, the request
//! mix and load shape of each, and how long and how often to run trials.
//!
//! A suite file is read in two steps: `raw.rs` mirrors the TOML with serde (unknown fields are
//! errors, so a typo never silently falls back to a default), then `validate.rs` checks every
//! value and builds the [`Plan`]. Every error names the file, line and column, and all problems
//! of a file are reported at once. The suites in `suites/` are built into the binary
//! ([`crate::bundled`]), so `faceoff run` works from any directory.

pub mod cores;
mod raw;
pub mod scale;
mod thresholds;
mod validate;
mod ws;

/// Also used by the other TOML files faceoff reads (claims, profiles, pricing: issue 12).
pub(crate) use validate::problem_at;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

pub use cores::WorkerPoint;
pub use scale::{CapacityTarget, IdleProtocol, IdleSpec};
pub use ws::WorkloadKind;

/// The built-in suites, in the order they are listed; their files come from
/// [`crate::bundled`] (the repository's `suites/` when run there, else the binary's copy).
const BUILTIN: &[&str] = &[
    "standard", "quick", "scale",
    // The NumPy claim's /compute sizes (issue 12); why it is not in `standard`: see the file.
    "compute", "cores",
];

/// The name of the suite `faceoff run` uses when none is given.
pub const DEFAULT_SUITE: &str = "standard";

/// Names of the built-in suites.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().copied()
}

/// A validated suite: everything the runner needs to know about what to measure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The suite's name (`name` in the file, else the file name without `.toml`).
    pub name: String,
    /// What the suite is for, as written in the file.
    pub description: Option<String>,
    /// The file the plan came from; for a built-in suite, its path in the faceoff repository.
    pub source_path: PathBuf,
    /// Whether the suite is one of those built into the binary.
    pub builtin: bool,
    /// SHA-256 of the file's bytes, lowercase hex: which exact suite a result was measured with.
    pub source_sha256: String,
    /// The file's text, stored with every run so it can be reproduced or resumed.
    #[serde(skip)]
    pub source_text: String,
    /// The workloads, in file order.
    pub workloads: Vec<Workload>,
    /// The gates of the suite's `[[threshold]]` tables, in file order (issue 13).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<crate::gate::Threshold>,
}

/// One workload: a request mix driven with one load shape, measured in interleaved trials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Unique within the suite; used by `--only`/`--skip` and in results.
    pub name: String,
    /// The request mix; each connection picks its next request by weight.
    pub requests: Vec<RequestSpec>,
    /// Closed loop or constant rate.
    pub shape: LoadShape,
    /// Load run against each contestant before its trials count.
    #[serde(rename = "warmup_s", serialize_with = "as_secs_f64")]
    pub warmup: Duration,
    /// Length of one trial.
    #[serde(rename = "trial_s", serialize_with = "as_secs_f64")]
    pub trial: Duration,
    /// Fewest rounds (one trial of every contestant each).
    pub min_rounds: usize,
    /// Most rounds; reaching it without converging is worth a warning.
    pub max_rounds: usize,
    /// Stop once the 95% confidence interval of every contestant's median throughput lies
    /// within +/- this fraction of the median (0.03 is +/-3%).
    pub target_ci_rel: f64,
    /// A request without an answer after this long counts as a timeout error.
    #[serde(rename = "timeout_s", serialize_with = "as_secs_f64")]
    pub timeout: Duration,
    /// Features a contestant must declare to run this workload (e.g. `ws`); empty for the
    /// plain HTTP endpoints every contestant serves. Contestants without them are left out of
    /// this workload, and the report says so.
    pub requires: Vec<String>,
    /// Plain HTTP (the request mix), or a WebSocket echo or room (then `requests` is empty).
    #[serde(flatten)]
    pub kind: WorkloadKind,
    /// Connection counts of a concurrency sweep (`connections = [1, 16, 64]`), ascending; each
    /// point is measured in its own trials. Empty: the workload runs at its shape's one count.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<u32>,
    /// Capacity under an SLO: search the highest constant rate that meets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityTarget>,
    /// The point of a worker sweep this workload is (`workers = [...]` in the suite); `None`
    /// for a workload run with the run's `WORKERS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkerPoint>,
}

impl Workload {
    /// The sum of the request weights.
    pub fn total_weight(&self) -> u64 {
        self.requests.iter().map(|r| u64::from(r.weight)).sum()
    }
}

/// One kind of request in a workload's mix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestSpec {
    /// HTTP method, exactly as sent (`GET`, `POST`, ...).
    pub method: String,
    /// Request target in origin form: starts with `/`, may carry a query (`/queries?n=20`).
    pub path: String,
    /// Extra headers, sorted by name (TOML tables have no order). faceoff adds `Host` and
    /// `Content-Length` itself.
    pub headers: Vec<(String, String)>,
    /// Request body, if any.
    pub body: Option<String>,
    /// Relative frequency in the mix (at least 1).
    pub weight: u32,
}

/// How load is applied during a trial.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoadShape {
    /// Closed loop: every connection sends its next request when the last answer arrives.
    Closed {
        /// Connections kept open.
        connections: u32,
    },
    /// Constant rate (open loop): latency is measured from each request's intended send time.
    Rate {
        /// Total requests per second over all connections.
        per_s: f64,
        /// Connections sharing the rate.
        connections: u32,
    },
}

impl LoadShape {
    /// Connections the shape opens.
    pub fn connections(&self) -> u32 {
        match *self {
            LoadShape::Closed { connections } | LoadShape::Rate { connections, .. } => connections,
        }
    }
}

/// Expected time around each trial on a quiet machine, besides its length: the wait for quiet
/// server CPUs (two 50 ms looks at least, about a second after a server that drains a queue)
/// and the set-up of its window. An estimate for planning suites (see suites/standard.toml):
/// measured 0.15-0.35 s on a quiet 2-CPU machine with 50 ms looks (2026-12-02).
pub const TRIAL_OVERHEAD: Duration = Duration::from_millis(350);
/// Expected share of trials repeated because something disturbed them, on a quiet machine.
pub const RETRY_SHARE: f64 = 0.05;

impl Plan {
    /// The time the measurements are expected to take with `contestants` contestants on a
    /// quiet machine: [`Plan::max_measure_time`] plus [`TRIAL_OVERHEAD`] per trial, with
    /// [`RETRY_SHARE`] of the trials repeated (start-up and checks not included).
    pub fn expected_measure_time(&self, contestants: usize) -> Duration {
        self.workloads
            .iter()
            .map(|w| {
                let (count, extra) = scale::trials_per_contestant(w);
                let trials = (w.trial + TRIAL_OVERHEAD + extra) * count;
                (w.warmup + trials.mul_f64(1.0 + RETRY_SHARE)) * contestants as u32
            })
            .sum()
    }

    /// The time warm-ups and trials alone take with `contestants` contestants: warm-up plus
    /// `max_rounds` trials of every contestant on every workload (per point of a sweep or idle
    /// workload; a capacity search's probes and confirmations), waits, start-up and checks not
    /// included.
    pub fn max_measure_time(&self, contestants: usize) -> Duration {
        self.workloads
            .iter()
            .map(|w| (w.warmup + w.trial * scale::trials_per_contestant(w).0) * contestants as u32)
            .sum()
    }

    /// Keeps the workloads named in `only` (all if empty), then drops those named in `skip`.
    /// A name that is not in the suite is an error, so a typo does not silently measure less.
    pub fn filter(mut self, only: &[String], skip: &[String]) -> Result<Plan, Error> {
        let unknown: Vec<String> = only
            .iter()
            .chain(skip)
            .filter(|name| !self.workloads.iter().any(|w| cores::picks(w, name)))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(Error::UnknownWorkload {
                suite: self.name,
                names: unknown,
                available: self.workloads.into_iter().map(|w| w.name).collect(),
            });
        }
        let named = |names: &[String], w: &Workload| names.iter().any(|n| cores::picks(w, n));
        self.workloads
            .retain(|w| (only.is_empty() || named(only, w)) && !named(skip, w));
        if self.workloads.is_empty() {
            return Err(Error::NothingLeft { suite: self.name });
        }
        Ok(self)
    }
}

fn as_secs_f64<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Where in which file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The suite file, as given.
    pub path: PathBuf,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a suite could not be turned into a plan.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read suite file '{}'", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, does not follow the schema, or breaks a rule; every
    /// problem found is listed, one per line.
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The problems, in file order.
        problems: Vec<Problem>,
    },
    /// No built-in suite has this name.
    #[error("there is no built-in suite named '{name}' (built in: {})",
            builtin_names().collect::<Vec<_>>().join(", "))]
    UnknownBuiltin {
        /// The name asked for.
        name: String,
    },
    /// `--only` or `--skip` named a workload the suite does not have.
    #[error("suite '{suite}' has no workload named {}; its workloads are: {}",
            quoted(names), available.join(", "))]
    UnknownWorkload {
        /// The suite.
        suite: String,
        /// The names not found.
        names: Vec<String>,
        /// The suite's workloads.
        available: Vec<String>,
    },
    /// `--only` and `--skip` together leave nothing to measure.
    #[error("--only and --skip leave no workload of suite '{suite}' to measure")]
    NothingLeft {
        /// The suite.
        suite: String,
    },
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl crate::hint::Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Error::Read { .. } => Some(format!(
                "give a path to a suite file, or the name of a built-in suite ({})",
                builtin_names().collect::<Vec<_>>().join(", ")
            )),
            Error::Invalid { .. } => Some(
                "suites/standard.toml in the faceoff repository shows every field in use".into(),
            ),
            Error::UnknownBuiltin { .. } => {
                Some("to use a suite file, give its path, e.g. ./my-suite.toml".into())
            }
            Error::UnknownWorkload { .. } | Error::NothingLeft { .. } => None,
        }
    }
}

/// Reads and validates the suite file at `path`.
pub fn load_plan(path: &Path) -> Result<Plan, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Invalid {
        problems: vec![validate::problem_at(
            path,
            &String::from_utf8_lossy(e.as_bytes()),
            e.utf8_error().valid_up_to(),
            "the file is not valid UTF-8".into(),
        )],
    })?;
    validate::parse(&text, path, false)
}

/// The built-in suite `name` (one of [`builtin_names`]).
pub fn builtin(name: &str) -> Result<Plan, Error> {
    let (path, text) = BUILTIN
        .contains(&name)
        .then(|| crate::bundled::data_file(crate::bundled::Folder::Suites, name))
        .flatten()
        .ok_or_else(|| Error::UnknownBuiltin { name: name.into() })?;
    validate::parse(&text, &path, true)
}

/// Resolves what the user gave: a bare name such as `quick` is a built-in suite; anything with
/// a `/` or ending in `.toml` is a file path.
pub fn resolve(suite: &str) -> Result<Plan, Error> {
    if suite.contains('/') || suite.ends_with(".toml") {
        load_plan(Path::new(suite))
    } else {
        builtin(suite)
    }
}

/// Validates suite text as if read from `path` (used for built-ins and tests).
pub fn parse_plan(text: &str, path: &Path) -> Result<Plan, Error> {
    validate::parse(text, path, false)
}

#[cfg(test)]
mod tests;
