//! Command-line definitions (clap derive). No I/O here.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

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
    Run(RunArgs),
    /// Render a stored run as report.html, summary.md and results.json, and print a summary.
    Report(ReportArgs),
}

/// Arguments of `faceoff bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The URL to load, e.g. http://127.0.0.1:8080/json. Only loopback targets unless
    /// --allow-remote is given.
    pub url: String,

    /// Number of connections kept open (shared out over the threads).
    #[arg(short = 'c', long, default_value_t = 64, value_name = "N")]
    pub connections: usize,

    /// How long to send requests, e.g. 10s, 1m, 500ms.
    #[arg(short = 'd', long, value_parser = parse_duration, value_name = "DURATION",
          conflicts_with = "requests")]
    pub duration: Option<Duration>,

    /// Stop after exactly this many requests instead of after a duration.
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,

    /// Constant total rate in requests per second (open loop). Each connection owns an equal
    /// share of it and a schedule of intended send times.
    #[arg(short = 'r', long, value_name = "PER_S")]
    pub rate: Option<f64>,

    /// Load-engine threads, one per CPU [default: the number of CPUs faceoff may run on,
    /// or of --cpus].
    #[arg(short = 't', long, value_name = "N")]
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

    /// Print one JSON object on stdout instead of the human summary (schema:
    /// docs/bench-output.md).
    #[arg(long)]
    pub json: bool,

    /// Also print the full latency distribution (HDR percentile table).
    #[arg(long)]
    pub percentiles: bool,

    /// Allow targets other than 127.0.0.0/8, ::1 and localhost. Never point load at a machine
    /// you do not own.
    #[arg(long)]
    pub allow_remote: bool,
}

/// Arguments of `faceoff run`.
#[derive(Debug, Args)]
pub struct RunArgs {}

/// Arguments of `faceoff report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run to render, by id [default: the newest run].
    #[arg(value_name = "RUN")]
    pub run: Option<i64>,

    /// The results database [default: faceoff-results/faceoff.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Folder for the report files [default: <folder of the database>/<run id>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// A set of CPU numbers, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuList(pub Vec<usize>);

/// Parses durations such as `10s`, `1m30s`, `250ms`; a bare number means seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("'{text}' is not a duration"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration ({e}); write e.g. 10s, 500ms or 2m"))
}

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
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

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
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
