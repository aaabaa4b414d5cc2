//! Where and in which format `faceoff bench` writes its results (docs/bench-output.md): the
//! human summary, JSON, a CSV row, a Markdown table, the HDR histogram as an interval log, or
//! the percentile spectrum; on stdout, or into `-o` files created before the load starts so a
//! bad path fails before any request is sent (as hyperfine creates its export files first).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};

use crate::cli::{BenchArgs, BenchFormat};
use crate::load::summary::{Percentiles, Summary};
use crate::load::{self, ErrorKind};
use crate::report::format::MISSING;
use crate::report::histogram::{self, Interval};
use crate::units::{group, rps, us_int};
use crate::warnings::engine_warnings;

/// The human summary of one load, written by `bench` (HTTP) or `bench_ws` (WebSocket).
pub(super) type Human<'a> = dyn Fn(&mut dyn Write, &Summary) -> std::io::Result<()> + 'a;

/// The outputs of one `bench`: a format on stdout and the `-o` files, already created.
pub(super) struct Outputs {
    stdout: BenchFormat,
    files: Vec<(PathBuf, BenchFormat, File)>,
}

impl Outputs {
    /// Resolves the format of stdout and of each `-o` file (`--format`, else the file's
    /// extension) and creates the files, before any load is sent.
    pub(super) fn open(args: &BenchArgs) -> anyhow::Result<Self> {
        let asked = match (args.json, args.format) {
            (true, Some(f)) if f != BenchFormat::Json => {
                bail!("--json is the same as --format json; give one of them")
            }
            (true, _) => Some(BenchFormat::Json),
            (false, f) => f,
        };
        if args.output.is_empty() {
            return Ok(Self {
                stdout: asked.unwrap_or(BenchFormat::Human),
                files: Vec::new(),
            });
        }
        let mut files = Vec::with_capacity(args.output.len());
        for path in &args.output {
            let format = match (asked, format_of_extension(path)) {
                (Some(f), Some(e)) if f != e => bail!(
                    "-o '{}' has the extension of {} but --format {} was given; drop --format to \
                     pick each file's format from its extension, or rename the file",
                    path.display(),
                    name(e),
                    name(f)
                ),
                (Some(f), _) | (None, Some(f)) => f,
                (None, None) => bail!(
                    "cannot tell the format of -o '{}' from its extension; name it .json, .csv, \
                     .md or .hlog, or give --format json|csv|md|hdr|spectrum|human",
                    path.display()
                ),
            };
            let file = File::create(path)
                .with_context(|| format!("could not create -o '{}'", path.display()))?;
            files.push((path.clone(), format, file));
        }
        Ok(Self {
            stdout: BenchFormat::Human,
            files,
        })
    }

    /// Whether stdout gets the human summary (and so may show a progress line).
    pub(super) fn human_on_stdout(&self) -> bool {
        self.stdout == BenchFormat::Human
    }

    /// Writes a load's results to stdout and every file, prints its warnings, and gives the
    /// exit code: interrupted loads still write what they recorded.
    pub(super) fn finish(
        self,
        args: &BenchArgs,
        recording: &load::Recording,
        cancel: &crate::cancel::Cancel,
        human: &Human<'_>,
    ) -> anyhow::Result<ExitCode> {
        let summary = Summary::of(recording);
        let warnings = engine_warnings(&summary);
        let mut out = std::io::stdout().lock();
        out.write_all(&render(self.stdout, args, recording, &summary, human)?)?;
        out.flush()?;
        for (path, format, mut file) in self.files {
            file.write_all(&render(format, args, recording, &summary, human)?)
                .and_then(|()| file.flush())
                .with_context(|| format!("could not write -o '{}'", path.display()))?;
        }
        for warning in &warnings {
            eprintln!("warning: {warning}");
        }
        // Interrupted: the results so far are written above.
        if recording.interrupted || cancel.is_cancelled() {
            return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The format a file's extension names, if any.
fn format_of_extension(path: &Path) -> Option<BenchFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" => Some(BenchFormat::Json),
        "csv" => Some(BenchFormat::Csv),
        "md" | "markdown" => Some(BenchFormat::Md),
        "hlog" | "hdr" => Some(BenchFormat::Hdr),
        _ => None,
    }
}

/// The name `--format` takes.
fn name(f: BenchFormat) -> &'static str {
    match f {
        BenchFormat::Human => "human",
        BenchFormat::Json => "json",
        BenchFormat::Csv => "csv",
        BenchFormat::Md => "md",
        BenchFormat::Hdr => "hdr",
        BenchFormat::Spectrum => "spectrum",
    }
}

/// One load's results in `format`.
fn render(
    format: BenchFormat,
    args: &BenchArgs,
    recording: &load::Recording,
    summary: &Summary,
    human: &Human<'_>,
) -> anyhow::Result<Vec<u8>> {
    let latency = &recording.recorder.latency_us;
    Ok(match format {
        BenchFormat::Human => {
            let mut out = Vec::new();
            human(&mut out, summary)?;
            if args.percentiles {
                writeln!(out)?;
                writeln!(
                    out,
                    "  percentile spectrum (values in ms{}):",
                    if summary.target_rate_per_s.is_some() {
                        ", from intended send times"
                    } else {
                        ""
                    }
                )?;
                for line in histogram::spectrum(latency).lines() {
                    if line.is_empty() {
                        writeln!(out)?;
                    } else {
                        writeln!(out, "  {line}")?;
                    }
                }
            }
            out
        }
        BenchFormat::Json => {
            let mut out = serde_json::to_vec(summary)?;
            out.push(b'\n');
            out
        }
        BenchFormat::Csv => csv(&args.url, summary).into_bytes(),
        BenchFormat::Md => markdown(&args.url, summary).into_bytes(),
        BenchFormat::Spectrum => histogram::spectrum(latency).into_bytes(),
        BenchFormat::Hdr => {
            let length = recording.duration;
            let base = SystemTime::now()
                .checked_sub(length)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            histogram::interval_log(
                &[format!(
                    "faceoff bench {}: latency in µs, untagged from the intended send times, \
                     tagged uncorrected from the actual send times",
                    args.url.replace('\n', " ")
                )],
                base,
                &[
                    Interval {
                        histogram: latency,
                        start: Duration::ZERO,
                        length,
                        tag: None,
                    },
                    Interval {
                        histogram: &recording.recorder.latency_uncorrected_us,
                        start: Duration::ZERO,
                        length,
                        tag: Some("uncorrected"),
                    },
                ],
            )?
        }
    })
}

/// The percentile columns, in order: (CSV column part, Markdown header).
const PERCENTILE_COLUMNS: [(&str, &str); 7] = [
    ("min", "min"),
    ("p50", "p50"),
    ("p90", "p90"),
    ("p95", "p95"),
    ("p99", "p99"),
    ("p999", "p99.9"),
    ("max", "max"),
];

/// The values of [`PERCENTILE_COLUMNS`], in µs.
fn percentile_values(p: &Percentiles) -> [u64; 7] {
    [p.min, p.p50, p.p90, p.p95, p.p99, p.p999, p.max]
}

/// The CSV columns of one load (docs/bench-output.md), with its values; a missing figure is
/// an empty cell, never 0.
pub fn csv_fields(url: &str, s: &Summary) -> Vec<(String, String)> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut fields: Vec<(String, String)> = vec![
        ("url".into(), url.to_string()),
        ("mode".into(), s.mode.to_string()),
        ("connections".into(), s.connections.to_string()),
        ("threads".into(), s.threads.to_string()),
        (
            "target_rate_per_s".into(),
            opt(s.target_rate_per_s.map(|r| r.to_string())),
        ),
        ("duration_s".into(), format!("{:.3}", s.duration_s)),
        ("requests".into(), s.requests.to_string()),
        ("sent".into(), s.sent.to_string()),
        ("rps".into(), format!("{:.1}", s.rps)),
        ("errors".into(), s.error_total().to_string()),
    ];
    for kind in ErrorKind::ALL {
        fields.push((
            format!("errors_{}", kind.name()),
            s.errors.get(kind.name()).copied().unwrap_or(0).to_string(),
        ));
    }
    for (prefix, p) in [
        ("latency", &s.latency_us),
        ("latency_uncorrected", &s.latency_uncorrected_us),
    ] {
        for (i, (column, _)) in PERCENTILE_COLUMNS.iter().enumerate() {
            fields.push((
                format!("{prefix}_{column}_us"),
                opt(p.map(|p| percentile_values(&p)[i].to_string())),
            ));
        }
        fields.push((
            format!("{prefix}_mean_us"),
            opt(p.map(|p| format!("{:.1}", p.mean))),
        ));
    }
    fields.extend([
        ("unanswered".into(), s.unanswered.to_string()),
        ("late_sends".into(), s.late_sends.to_string()),
        ("bytes_read".into(), s.bytes_read.to_string()),
        ("bytes_written".into(), s.bytes_written.to_string()),
        ("connects".into(), s.connects.to_string()),
        ("engine_cpu_s".into(), format!("{:.3}", s.engine_cpu_s)),
        (
            "engine_busiest_thread".into(),
            format!("{:.3}", s.engine_busiest_thread),
        ),
        ("interrupted".into(), s.interrupted.to_string()),
    ]);
    fields
}

/// A header row and one row (RFC 4180 quoting).
fn csv(url: &str, s: &Summary) -> String {
    let quote = |v: &str| {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_string()
        }
    };
    let fields = csv_fields(url, s);
    let header: Vec<String> = fields.iter().map(|(k, _)| quote(k)).collect();
    let row: Vec<String> = fields.iter().map(|(_, v)| quote(v)).collect();
    format!("{}\n{}\n", header.join(","), row.join(","))
}

/// A Markdown table of one load, like hyperfine's `--export-markdown`: the URL, throughput,
/// counts and the corrected latency percentiles (`—` when missing).
fn markdown(url: &str, s: &Summary) -> String {
    let names: Vec<&str> = PERCENTILE_COLUMNS.iter().map(|(_, h)| *h).collect();
    let mut out = format!(
        "| URL | req/s | requests | errors | unanswered | {} |\n|:---|---:|---:|---:|---:|{}\n",
        names.join(" | "),
        "---:|".repeat(names.len())
    );
    let latency: Vec<String> = match &s.latency_us {
        Some(p) => percentile_values(p).into_iter().map(us_int).collect(),
        None => vec![MISSING.to_string(); names.len()],
    };
    out.push_str(&format!(
        "| `{}` | {} | {} | {} | {} | {} |\n",
        url.replace('|', "\\|").replace('`', "'"),
        rps(s.rps),
        group(s.requests),
        group(s.error_total()),
        group(s.unanswered),
        latency.join(" | ")
    ));
    out
}
