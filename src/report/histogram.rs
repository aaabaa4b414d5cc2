//! A latency histogram written for other tools: an HdrHistogram interval log (the V2
//! compressed encoding in base64, as Java's `HistogramLogWriter` writes it, read by
//! `HistogramLogProcessor` and the hdrhistogram crate's `IntervalLogIterator`), and the
//! percentile spectrum that wrk2 and HdrHistogram's `outputPercentileDistribution` print
//! (also as CSV). Pure functions: `bench` gives a fresh recording, `export` a stored trial.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

/// Percentile steps per halving of the distance to 100%, as wrk2 prints them.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// One interval of an interval log.
pub struct Interval<'a> {
    /// Latency in µs over the interval.
    pub histogram: &'a Histogram<u64>,
    /// When the interval started, from the log's base time.
    pub start: Duration,
    /// How long it lasted.
    pub length: Duration,
    /// `None` for the main series; e.g. `uncorrected` for the figures from the actual send
    /// times (tools read the untagged series unless asked for a tag).
    pub tag: Option<&'a str>,
}

/// Writes an HdrHistogram interval log (format 1.3) of `intervals`, values in µs, with
/// `comments` at the top and `base` as its StartTime and BaseTime.
pub fn interval_log(
    comments: &[String],
    base: SystemTime,
    intervals: &[Interval<'_>],
) -> anyhow::Result<Vec<u8>> {
    // The header as Java's HistogramLogWriter writes it; the crate's writer then adds only
    // its divisor note (Interval_Max shown in ms, the values being µs).
    let mut out = Vec::new();
    for c in comments {
        for line in c.lines() {
            writeln!(out, "#{line}")?;
        }
    }
    let secs = base
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    writeln!(out, "#[Histogram log format version 1.3]")?;
    writeln!(out, "#[StartTime: {secs:.3} (seconds since epoch)]")?;
    writeln!(out, "#[BaseTime: {secs:.3} (seconds since epoch)]")?;
    writeln!(
        out,
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
    )?;
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)?;
    for i in intervals {
        let tag = match i.tag {
            Some(t) => Some(
                Tag::new(t).ok_or_else(|| anyhow::anyhow!("'{t}' is not a valid interval tag"))?,
            ),
            None => None,
        };
        writer
            .write_histogram(i.histogram, i.start, i.length, tag)
            .map_err(|e| anyhow::anyhow!("could not write the histogram log: {e}"))?;
    }
    Ok(out)
}

/// One row of a percentile spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectrumRow {
    /// Latency in µs (the highest value equivalent to the bucket reached).
    pub value_us: u64,
    /// Quantile reached, 0 to 1.
    pub percentile: f64,
    /// Values at or below this one.
    pub total_count: u64,
}

impl SpectrumRow {
    /// `1/(1-Percentile)`; `None` at 100%.
    pub fn inverse(&self) -> Option<f64> {
        (self.percentile < 1.0).then(|| 1.0 / (1.0 - self.percentile))
    }
}

/// The spectrum's rows, from 0% to 100%; empty for an empty histogram.
pub fn spectrum_rows(h: &Histogram<u64>) -> Vec<SpectrumRow> {
    let mut total = 0;
    h.iter_quantiles(TICKS_PER_HALF_DISTANCE)
        .map(|v| {
            total += v.count_since_last_iteration();
            SpectrumRow {
                value_us: h.highest_equivalent(v.value_iterated_to()),
                percentile: v.quantile_iterated_to(),
                total_count: total,
            }
        })
        .collect()
}

/// The percentile spectrum as wrk2 prints it (values in ms), with the mean, standard
/// deviation, maximum and count below; a comment line alone for an empty histogram.
pub fn spectrum(h: &Histogram<u64>) -> String {
    let mut out = String::new();
    if h.is_empty() {
        out.push_str("#[no latency distribution: no request was answered]\n");
        return out;
    }
    let ms = |us: f64| us / 1000.0;
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    for row in spectrum_rows(h) {
        let _ = write!(
            out,
            "{:>12.3} {:>14.12} {:>10}",
            ms(row.value_us as f64),
            row.percentile,
            row.total_count
        );
        match row.inverse() {
            Some(inv) => {
                let _ = writeln!(out, " {inv:>14.2}");
            }
            None => out.push('\n'),
        }
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        ms(h.mean()),
        ms(h.stdev())
    );
    let _ = writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        ms(h.max() as f64),
        h.len()
    );
    let sub_buckets = (2.0 * 10f64.powi(i32::from(h.sigfig())))
        .log2()
        .ceil()
        .exp2() as u64;
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_buckets
    );
    out
}

/// The spectrum as CSV: `value_us,percentile,total_count,inverse` (empty at 100%).
pub fn spectrum_csv(h: &Histogram<u64>) -> String {
    let mut out = String::from("value_us,percentile,total_count,inverse\n");
    for row in spectrum_rows(h) {
        let _ = writeln!(
            out,
            "{},{:.12},{},{}",
            row.value_us,
            row.percentile,
            row.total_count,
            row.inverse().map_or(String::new(), |v| format!("{v:.2}"))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;

    fn sample() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        h
    }

    #[test]
    fn spectrum_climbs_to_every_value() {
        let h = sample();
        let rows = spectrum_rows(&h);
        assert!(rows.windows(2).all(|w| w[0].value_us <= w[1].value_us
            && w[0].percentile <= w[1].percentile
            && w[0].total_count <= w[1].total_count));
        let last = rows.last().unwrap();
        assert_eq!(last.percentile, 1.0);
        assert_eq!(last.total_count, h.len());
        assert_eq!(last.value_us, h.highest_equivalent(h.max()));
        assert!(last.inverse().is_none());
        let text = spectrum(&h);
        assert!(
            text.contains("#[Max     =      100.031, Total count    =        10000]"),
            "{text}"
        );
        let csv = spectrum_csv(&h);
        assert!(
            csv.lines()
                .last()
                .unwrap()
                .ends_with(",1.000000000000,10000,"),
            "{csv}"
        );
        assert_eq!(spectrum(&Histogram::new(3).unwrap()).lines().count(), 1);
    }

    #[test]
    fn interval_log_reads_back() {
        let h = sample();
        let log = interval_log(
            &["faceoff test".into()],
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            &[
                Interval {
                    histogram: &h,
                    start: Duration::ZERO,
                    length: Duration::from_secs(2),
                    tag: None,
                },
                Interval {
                    histogram: &h,
                    start: Duration::ZERO,
                    length: Duration::from_secs(2),
                    tag: Some("uncorrected"),
                },
            ],
        )
        .unwrap();
        let mut found = Vec::new();
        for entry in IntervalLogIterator::new(&log) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                let bytes = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    i.encoded_histogram(),
                )
                .unwrap();
                let back: Histogram<u64> = Deserializer::new()
                    .deserialize(&mut bytes.as_slice())
                    .unwrap();
                assert_eq!(back, h);
                found.push(i.tag().map(|t| t.as_str().to_string()));
            }
        }
        assert_eq!(found, vec![None, Some("uncorrected".to_string())]);
    }
}
