//! `faceoff export [RUN]`: a stored trial's latency histogram, written for other tools (an
//! HdrHistogram interval log, the percentile spectrum, or the spectrum as CSV). The store
//! keeps each trial's corrected and uncorrected histograms, V2 serialized, beside its figures.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

use crate::cli::{ExportArgs, ExportFormat};
use crate::report::histogram::{self, Interval};
use crate::store::TrialRecord;

/// Runs `faceoff export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = super::show::open_existing(args.db.as_ref())?;
    let run_id = match args.run {
        Some(id) => id,
        None => store
            .latest_run()?
            .context("the results database has no runs yet; start one with `faceoff run`")?,
    };
    let detail = store.run(run_id)?;
    let workload = pick(
        run_id,
        "workload",
        args.workload.as_deref(),
        detail.trials.iter().map(|t| t.workload.as_str()),
    )?;
    let contestant = pick(
        run_id,
        "contestant",
        args.contestant.as_deref(),
        detail
            .trials
            .iter()
            .filter(|t| t.workload == workload)
            .map(|t| t.contestant.as_str()),
    )?;
    let of_pair: Vec<&TrialRecord> = detail
        .trials
        .iter()
        .filter(|t| t.workload == workload && t.contestant == contestant)
        .collect();
    let chosen = select(&of_pair, args.trial).with_context(|| {
        format!("run {run_id}: no trial of {contestant} on {workload} to export")
    })?;

    let series = if args.uncorrected {
        "uncorrected latency (from the actual send times)"
    } else {
        "latency (from the intended send times)"
    };
    let mut histograms = Vec::with_capacity(chosen.len());
    for t in &chosen {
        let blob = if args.uncorrected {
            &t.histogram_uncorrected
        } else {
            &t.histogram
        };
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut blob.as_slice())
            .map_err(|e| {
                anyhow::anyhow!(
                    "run {run_id}: the stored histogram of {contestant} on {workload}, round {}, \
                     could not be read ({e:?})",
                    t.round
                )
            })?;
        histograms.push(h);
    }

    let bytes = match args.format {
        ExportFormat::Hdr => {
            let starts: Vec<Option<SystemTime>> = chosen
                .iter()
                .map(|t| humantime::parse_rfc3339(&t.started_at).ok())
                .collect();
            let base = starts
                .iter()
                .flatten()
                .min()
                .copied()
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mut comments = vec![format!(
                "faceoff run {run_id}, {contestant} on {workload}: {series} in µs, one interval \
                 per trial"
            )];
            let mut intervals = Vec::with_capacity(chosen.len());
            for ((t, h), start) in chosen.iter().zip(&histograms).zip(&starts) {
                comments.push(format!("round {}: started {}", t.round, t.started_at));
                intervals.push(Interval {
                    histogram: h,
                    start: start
                        .and_then(|s| s.duration_since(base).ok())
                        .unwrap_or(Duration::ZERO),
                    length: Duration::from_secs_f64(t.metrics.duration_s.max(0.0)),
                    tag: None,
                });
            }
            histogram::interval_log(&comments, base, &intervals)?
        }
        ExportFormat::Spectrum | ExportFormat::Csv => {
            let mut merged = Histogram::<u64>::new(3).expect("3 significant digits is valid");
            for h in &histograms {
                merged
                    .add(h)
                    .context("the stored histograms could not be merged")?;
            }
            if args.format == ExportFormat::Spectrum {
                histogram::spectrum(&merged).into_bytes()
            } else {
                histogram::spectrum_csv(&merged).into_bytes()
            }
        }
    };

    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("could not write -o '{}'", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `what` (workload or contestant) asked for, checked against the run's; or the run's
/// only one when none is asked for.
fn pick<'a>(
    run_id: i64,
    what: &str,
    asked: Option<&str>,
    names: impl Iterator<Item = &'a str>,
) -> anyhow::Result<String> {
    let mut known: Vec<&str> = names.collect();
    known.sort_unstable();
    known.dedup();
    match asked {
        Some(name) if known.contains(&name) => Ok(name.to_string()),
        Some(name) => bail!(
            "run {run_id} has no trial with {what} '{name}'; it has: {}",
            list(&known)
        ),
        None => match known.as_slice() {
            [only] => Ok(only.to_string()),
            [] => bail!("run {run_id} has no trials to export"),
            many => bail!(
                "run {run_id} has {} {what}s ({}); pick one with --{what}",
                many.len(),
                list(many)
            ),
        },
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The trials to export: round `trial` (the try that counts when a round was retried), or
/// every trial that counts.
fn select<'a>(
    trials: &[&'a TrialRecord],
    trial: Option<u32>,
) -> anyhow::Result<Vec<&'a TrialRecord>> {
    match trial {
        Some(round) => {
            let of_round: Vec<&TrialRecord> = trials
                .iter()
                .copied()
                .filter(|t| t.round == round)
                .collect();
            let best = of_round
                .iter()
                .rev()
                .find(|t| t.metrics.counts())
                .or(of_round.last())
                .copied();
            match best {
                Some(t) => Ok(vec![t]),
                None => {
                    let mut rounds: Vec<u32> = trials.iter().map(|t| t.round).collect();
                    rounds.sort_unstable();
                    rounds.dedup();
                    let rounds: Vec<String> = rounds.iter().map(u32::to_string).collect();
                    bail!(
                        "there is no trial of round {round}; rounds stored: {}",
                        if rounds.is_empty() {
                            "none".to_string()
                        } else {
                            rounds.join(", ")
                        }
                    )
                }
            }
        }
        None => {
            let counted: Vec<&TrialRecord> = trials
                .iter()
                .copied()
                .filter(|t| t.metrics.counts())
                .collect();
            if counted.is_empty() {
                bail!(
                    "none of its {} stored trials counts (contaminated, crashed or unanswered); \
                     pick one with --trial N",
                    trials.len()
                );
            }
            Ok(counted)
        }
    }
}
