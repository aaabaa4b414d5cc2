//! Pure maths on measurements: medians, confidence intervals, the adaptive trial rule, outlier
//! warnings, significance against a noise threshold, and the capacity search.
//!
//! Nothing here does I/O or knows about contestants: every function takes plain numbers, so the
//! runner, the store and the reports can share one definition of "sound". The only dependency
//! beyond `std` is `serde::Serialize` on the result types, so reports can carry them as they are.
//!
//! Samples are `f64` values of one measure (for example the throughput of each trial in requests
//! per second). A `NaN` sample makes every function answer `None`, since no honest statistic
//! can be formed from it.

use serde::Serialize;

/// The confidence of every interval that decides when to stop trials (95%).
pub const STOP_CONFIDENCE: f64 = 0.95;

/// Modified z-score above which a sample is reported as an outlier (Iglewicz & Hoaglin, 1993).
pub const OUTLIER_MODIFIED_Z: f64 = 3.5;

/// Relative change that [`compare`] treats as noise unless its interval clears it (3%).
///
/// Criterion uses 1% for micro-benchmarks; whole-server trials on a shared machine are noisier,
/// and 3% matches the default target half-width of the trial interval.
pub const DEFAULT_NOISE_THRESHOLD: f64 = 0.03;

/// Resamples drawn by the bootstrap in [`compare`].
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;

/// Error rate a rate must stay below to count as within capacity (0.1%).
pub const CAPACITY_MAX_ERROR_RATE: f64 = 0.001;

/// Seed of the bootstrap generator: fixed, so the same samples always give the same verdict.
const BOOTSTRAP_SEED: u64 = 0x6661_6365_6f66_6621; // "faceoff!"

/// A point estimate with a confidence interval around it, in the unit of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The point estimate (a median, or a ratio of medians for [`compare`]).
    pub point: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Probability that an interval formed this way covers the true value. Exact for
    /// [`median_ci`] (it is at least the requested confidence unless `short_of_confidence`);
    /// nominal for the bootstrap in [`compare`].
    pub coverage: f64,
    /// True when there were too few samples to reach the requested confidence: the interval is
    /// then the whole sample range and `coverage` says what it does reach.
    pub short_of_confidence: bool,
}

impl Interval {
    /// The larger distance from the point estimate to either bound, relative to the estimate:
    /// `0.03` means the interval lies within +/-3% of the point. Order-statistic intervals are
    /// not symmetric, so taking the larger side keeps "within +/-3%" literally true.
    ///
    /// Zero when the interval is a single point; infinite when the point is zero but the bounds
    /// are not.
    pub fn rel_half_width(&self) -> f64 {
        let half = (self.point - self.lo).max(self.hi - self.point);
        if half == 0.0 {
            0.0
        } else {
            half / self.point.abs()
        }
    }

    /// Whether `value` lies within the interval (bounds included).
    pub fn contains(&self, value: f64) -> bool {
        self.lo <= value && value <= self.hi
    }
}

/// Whether two intervals share at least one value: two results whose intervals overlap are
/// "within noise" of each other, so neither is declared ahead.
pub fn overlaps(a: &Interval, b: &Interval) -> bool {
    a.lo <= b.hi && b.lo <= a.hi
}

/// The samples sorted ascending, or `None` if there are none or one is `NaN`.
fn sorted(samples: &[f64]) -> Option<Vec<f64>> {
    if samples.is_empty() || samples.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    Some(v)
}

/// Quantile `q` of already sorted, non-empty data, by linear interpolation between order
/// statistics (Hyndman & Fan 1996, definition 7; the default of R and NumPy).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let a = sorted[below];
    let frac = h - below as f64;
    if frac == 0.0 || below + 1 >= sorted.len() {
        return a;
    }
    let b = sorted[below + 1];
    if a == b {
        // Also keeps infinite values from turning into NaN (inf - inf).
        return a;
    }
    a + (b - a) * frac
}

/// The median: the middle sample, or the mean of the two middle samples.
///
/// `None` for no samples or a `NaN` sample.
pub fn median(samples: &[f64]) -> Option<f64> {
    sorted(samples).map(|s| quantile_sorted(&s, 0.5))
}

/// Quantile `q` (0 to 1) by linear interpolation between order statistics (Hyndman & Fan 1996,
/// definition 7, as in R and NumPy): `quantile(s, 0.5)` is the median, `0.99` the p99.
///
/// `None` for no samples, a `NaN` sample, or `q` outside 0..=1.
pub fn quantile(samples: &[f64], q: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    sorted(samples).map(|s| quantile_sorted(&s, q))
}

/// The median absolute deviation from the median, unscaled (multiply by 1.4826 for a
/// consistent estimate of the standard deviation of normal data).
///
/// `None` for no samples or a `NaN` sample.
pub fn mad(samples: &[f64]) -> Option<f64> {
    let m = median(samples)?;
    let deviations: Vec<f64> = samples.iter().map(|x| (x - m).abs()).collect();
    median(&deviations)
}

/// `P(B <= j)` for `B ~ Binomial(n, 1/2)` and every `j` in `0..=limit`, exactly up to
/// rounding. Works in log space so that `2^-n` does not underflow for large `n`.
fn binomial_half_cdf(n: usize, limit: usize) -> Vec<f64> {
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_choose = 0.0_f64; // ln C(n, 0)
    let mut cdf = Vec::with_capacity(limit + 1);
    let mut total = 0.0;
    for j in 0..=limit.min(n) {
        if j > 0 {
            ln_choose += ((n - j + 1) as f64 / j as f64).ln();
        }
        total += (ln_choose + ln_half_n).exp();
        cdf.push(total.min(1.0));
    }
    cdf
}

/// The distribution-free confidence interval of the median from order statistics.
///
/// Method: for sorted samples `x(1) <= ... <= x(n)`, the interval `[x(k), x(n+1-k)]` covers the
/// population median with probability `1 - 2 P(B <= k-1)`, `B ~ Binomial(n, 1/2)`, whatever the
/// distribution (W. J. Conover, *Practical Nonparametric Statistics*, 3rd ed., 1999, section
/// 3.2; Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed., 2014,
/// section 3.6). We take the largest `k` whose coverage is still at least `confidence`, so the
/// interval is the narrowest of this form that keeps its promise; `coverage` is its exact
/// coverage, which is at least `confidence`.
///
/// With few samples even `[x(1), x(n)]` covers the median only with probability `1 - 2^(1-n)`
/// (at 95% this needs `n >= 6`: 5 samples reach 93.75%). The interval is then the full sample
/// range with `short_of_confidence` set and that lower `coverage`.
///
/// `None` for no samples, a `NaN` sample, or `confidence` outside the open range 0..1.
pub fn median_ci(samples: &[f64], confidence: f64) -> Option<Interval> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let s = sorted(samples)?;
    let n = s.len();
    let point = quantile_sorted(&s, 0.5);
    let alpha = 1.0 - confidence;
    // k can be at most ceil(n/2): beyond it the bounds would cross.
    let k_max = n.div_ceil(2);
    let cdf = binomial_half_cdf(n, k_max);
    // The largest k (1-based) with 2 P(B <= k-1) <= alpha.
    let mut k = 0;
    while k < k_max && 2.0 * cdf[k] <= alpha {
        k += 1;
    }
    let (k, short) = if k == 0 { (1, true) } else { (k, false) };
    let coverage = 1.0 - 2.0 * cdf[k - 1];
    Some(Interval {
        point,
        lo: s[k - 1],
        hi: s[n - k],
        coverage: coverage.max(0.0),
        short_of_confidence: short,
    })
}

/// The fewest samples with which [`median_ci`] can reach `confidence` (6 at 95%, 8 at 99%):
/// below it, the trial rule cannot stop early, whatever the spread.
pub fn min_samples_for_confidence(confidence: f64) -> Option<usize> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    // The full range covers with probability 1 - 2^(1-n).
    (1..=64).find(|&n| 1.0 - 0.5_f64.powi(n as i32 - 1) >= confidence)
}

/// What the adaptive trial rule says after a round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Run another round: fewer than `min_rounds` so far.
    BelowMinRounds,
    /// Run another round: too few samples for any interval to reach 95% confidence (see
    /// [`min_samples_for_confidence`]). `rel_half_width` is that of the whole sample range.
    TooFewForConfidence {
        /// Relative half-width of the range of the samples so far.
        rel_half_width: f64,
    },
    /// Run another round: the 95% interval is wider than the target.
    TooWide {
        /// Relative half-width of the 95% interval of the median.
        rel_half_width: f64,
    },
    /// Stop: the 95% interval of the median is within the target.
    Converged {
        /// Relative half-width of the 95% interval of the median.
        rel_half_width: f64,
    },
    /// Stop: `max_rounds` reached before the interval was narrow enough. Worth a warning.
    MaxRounds {
        /// Relative half-width of the widest interval formed (the range if short of 95%).
        rel_half_width: f64,
    },
}

impl Decision {
    /// Whether the runner should stop running rounds.
    pub fn is_stop(&self) -> bool {
        matches!(
            self,
            Decision::Converged { .. } | Decision::MaxRounds { .. }
        )
    }
}

/// The adaptive trial rule: stop once the 95% confidence interval of the median of `samples`
/// (one per round, e.g. throughput in requests per second) lies within +/-`target_rel_half_width`
/// of the median (see [`Interval::rel_half_width`]), after at least `min_rounds` and at most
/// `max_rounds` rounds.
///
/// An interval short of 95% confidence never counts as converged, so with the default
/// `min_rounds = 3` the earliest stop is after 6 rounds. `max_rounds` wins over `min_rounds`.
/// A `NaN` sample is treated as not converged until `max_rounds`.
pub fn should_stop(
    samples: &[f64],
    target_rel_half_width: f64,
    min_rounds: usize,
    max_rounds: usize,
) -> Decision {
    let n = samples.len();
    let at_max = n >= max_rounds;
    if n < min_rounds && !at_max {
        return Decision::BelowMinRounds;
    }
    let ci = median_ci(samples, STOP_CONFIDENCE);
    let rel = ci.map_or(f64::NAN, |ci| ci.rel_half_width());
    let short = ci.is_none_or(|ci| ci.short_of_confidence);
    if !short && rel <= target_rel_half_width {
        Decision::Converged {
            rel_half_width: rel,
        }
    } else if at_max {
        Decision::MaxRounds {
            rel_half_width: rel,
        }
    } else if short {
        Decision::TooFewForConfidence {
            rel_half_width: rel,
        }
    } else {
        Decision::TooWide {
            rel_half_width: rel,
        }
    }
}

/// Modified z-scores `0.6745 (x - median) / MAD` (Iglewicz & Hoaglin, *How to Detect and Handle
/// Outliers*, ASQC, 1993), one per sample, in the input order.
///
/// When more than half the samples are equal the MAD is zero; the scores then use the mean
/// absolute deviation instead, `(x - median) / (1.253314 * MeanAD)` (the usual fallback, e.g.
/// IBM SPSS), so a lone far value is still caught. All scores are zero when every sample is
/// equal. `None` for no samples or a `NaN` sample.
pub fn modified_z_scores(samples: &[f64]) -> Option<Vec<f64>> {
    let m = median(samples)?;
    let mad = mad(samples)?;
    let scale = if mad > 0.0 {
        mad / 0.6745
    } else {
        let mean_ad = samples.iter().map(|x| (x - m).abs()).sum::<f64>() / samples.len() as f64;
        1.253314 * mean_ad
    };
    Some(
        samples
            .iter()
            .map(|x| if scale > 0.0 { (x - m) / scale } else { 0.0 })
            .collect(),
    )
}

/// Indices of the samples whose modified z-score exceeds [`OUTLIER_MODIFIED_Z`] (3.5) in
/// absolute value (Iglewicz & Hoaglin, 1993; see [`modified_z_scores`]). Empty when there are
/// none or the scores cannot be formed. These feed a warning, never a silent removal.
pub fn mad_outliers(samples: &[f64]) -> Vec<usize> {
    modified_z_scores(samples)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, z)| z.abs() > OUTLIER_MODIFIED_Z)
        .map(|(i, _)| i)
        .collect()
}

/// A summary of one series of samples, as reports show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// The median and its confidence interval ([`median_ci`]).
    pub median: Interval,
    /// Median absolute deviation ([`mad`]), unscaled.
    pub mad: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Indices of the samples flagged by [`mad_outliers`].
    pub outliers: Vec<usize>,
}

/// Summarises `samples` with a `confidence` interval of the median.
///
/// `None` for no samples, a `NaN` sample, or `confidence` outside the open range 0..1.
pub fn summarize(samples: &[f64], confidence: f64) -> Option<Summary> {
    let median = median_ci(samples, confidence)?;
    let s = sorted(samples)?;
    Some(Summary {
        n: s.len(),
        median,
        mad: mad(samples)?,
        min: s[0],
        max: s[s.len() - 1],
        outliers: mad_outliers(samples),
    })
}

/// Which way is better for the measure being compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Larger is better (throughput).
    Higher,
    /// Smaller is better (latency, CPU time, memory).
    Lower,
}

/// The verdict on a change between two results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The whole interval of the change lies beyond the noise threshold, in the better direction.
    Improved,
    /// The whole interval of the change lies beyond the noise threshold, in the worse direction.
    Regressed,
    /// The interval reaches into the noise band: no change can be claimed.
    NonSignificant,
}

/// The outcome of [`compare`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// `median(candidate) / median(baseline)` with its 95% bootstrap interval: 1.10 means the
    /// candidate's median is 10% larger.
    pub ratio: Interval,
    /// The verdict.
    pub change: Change,
}

/// Compares a `candidate` against a `baseline` for a measure where higher is better
/// (throughput). Same as [`compare_with`] with [`Better::Higher`].
pub fn compare(baseline: &[f64], candidate: &[f64], noise_threshold: f64) -> Option<Comparison> {
    compare_with(baseline, candidate, noise_threshold, Better::Higher)
}

/// Compares a `candidate` against a `baseline`: a change is claimed only when the 95%
/// confidence interval of the ratio of medians clears the noise band `1 +/- noise_threshold`
/// entirely (the rule of criterion.rs, `compare_to_threshold`: "Change within noise
/// threshold" otherwise).
///
/// The interval is a percentile bootstrap (Efron & Tibshirani, *An Introduction to the
/// Bootstrap*, 1993, ch. 13): both series are resampled with replacement
/// [`BOOTSTRAP_RESAMPLES`] times and the 2.5% and 97.5% quantiles of the ratios of the
/// resampled medians are taken. The generator has a fixed seed, so the same samples always
/// give the same answer. Samples are expected to be non-negative (rates, times, bytes); a
/// resample with a zero baseline median gives an infinite ratio.
///
/// `None` for an empty series or a `NaN` sample.
pub fn compare_with(
    baseline: &[f64],
    candidate: &[f64],
    noise_threshold: f64,
    better: Better,
) -> Option<Comparison> {
    let base_median = median(baseline)?;
    let cand_median = median(candidate)?;
    let mut rng = SplitMix64(BOOTSTRAP_SEED);
    let mut base_buf = vec![0.0; baseline.len()];
    let mut cand_buf = vec![0.0; candidate.len()];
    let mut ratios = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        let b = resampled_median(baseline, &mut base_buf, &mut rng);
        let c = resampled_median(candidate, &mut cand_buf, &mut rng);
        ratios.push(ratio(c, b));
    }
    ratios.sort_unstable_by(f64::total_cmp);
    let alpha = 1.0 - STOP_CONFIDENCE;
    let ratio = Interval {
        point: ratio(cand_median, base_median),
        lo: quantile_sorted(&ratios, alpha / 2.0),
        hi: quantile_sorted(&ratios, 1.0 - alpha / 2.0),
        coverage: STOP_CONFIDENCE,
        short_of_confidence: false,
    };
    let above = ratio.lo > 1.0 + noise_threshold;
    let below = ratio.hi < 1.0 - noise_threshold;
    let change = match (better, above, below) {
        (Better::Higher, true, _) | (Better::Lower, _, true) => Change::Improved,
        (Better::Higher, _, true) | (Better::Lower, true, _) => Change::Regressed,
        _ => Change::NonSignificant,
    };
    Some(Comparison { ratio, change })
}

/// `num / den`, with `0 / 0` read as "no change" rather than `NaN`.
fn ratio(num: f64, den: f64) -> f64 {
    if num == den {
        1.0
    } else {
        num / den
    }
}

/// The median of one resample (with replacement) of `samples`, using `buf` as scratch space.
fn resampled_median(samples: &[f64], buf: &mut [f64], rng: &mut SplitMix64) -> f64 {
    for slot in buf.iter_mut() {
        *slot = samples[rng.below(samples.len())];
    }
    let odd = buf.len() % 2 == 1;
    let mid = buf.len() / 2;
    let (lower, upper, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if odd {
        upper
    } else {
        // The other middle value is the largest of the lower half.
        let lower_max = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lower_max == upper {
            upper
        } else {
            (lower_max + upper) / 2.0
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA
/// 2014; constants from Vigna's reference code): tiny, fast, and good enough for resampling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (Lemire's multiply-shift; its bias is below 2^-40 for our `n`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The service-level objective a rate must meet to count as within capacity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slo {
    /// The 99th-percentile latency must stay below this, in microseconds.
    pub p99_us: f64,
    /// The fraction of failed requests must stay below this (0.001 is 0.1%).
    pub max_error_rate: f64,
}

impl Slo {
    /// An SLO on p99 latency with the standard error budget of 0.1%.
    pub fn p99_under_us(p99_us: f64) -> Slo {
        Slo {
            p99_us,
            max_error_rate: CAPACITY_MAX_ERROR_RATE,
        }
    }

    /// Whether one measured rate meets the objective (both limits are strict).
    pub fn is_met(&self, outcome: &ProbeOutcome) -> bool {
        outcome.p99_us < self.p99_us && outcome.error_rate < self.max_error_rate
    }
}

/// What a probe at one constant rate measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbeOutcome {
    /// 99th-percentile latency, in microseconds, measured from intended send times.
    pub p99_us: f64,
    /// Failed requests over all requests (0.001 is 0.1%).
    pub error_rate: f64,
}

/// Where and how long [`capacity_search`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacitySearch {
    /// The first rate probed, in requests per second (clamped into the range below).
    pub start_per_s: f64,
    /// The lowest rate worth probing, in requests per second (must be above zero).
    pub min_per_s: f64,
    /// The highest rate worth probing, in requests per second.
    pub max_per_s: f64,
    /// The most probes the search may run, bracketing included.
    pub max_probes: usize,
    /// Stop bisecting once the highest passing and lowest failing rates are within this
    /// relative distance (0.05 is 5%).
    pub resolution_rel: f64,
}

/// One probe of the search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Probe {
    /// The constant rate probed, in requests per second.
    pub rate_per_s: f64,
    /// What it measured.
    pub outcome: ProbeOutcome,
    /// Whether it met the SLO.
    pub met_slo: bool,
}

/// Why the capacity search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchEnd {
    /// The highest passing and lowest failing rates are within the resolution.
    Resolved,
    /// The probe budget ran out first: the capacity lies between `rate_per_s` and `above_per_s`.
    ProbeBudget,
    /// Even the maximum rate met the SLO: the capacity is at least `rate_per_s`.
    AboveMax,
    /// Even the minimum rate missed the SLO: no capacity within the range.
    BelowMin,
    /// The search range was unusable (not finite, minimum not above zero, or above the
    /// maximum), or the budget was zero: nothing was probed.
    InvalidSearch,
}

/// The result of [`capacity_search`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// The highest probed rate that met the SLO, in requests per second; `None` if none did.
    pub rate_per_s: Option<f64>,
    /// The lowest probed rate that missed the SLO, in requests per second; `None` if none did.
    pub above_per_s: Option<f64>,
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
    /// Why the search ended.
    pub end: SearchEnd,
}

/// Finds the capacity: the highest constant rate whose p99 stays under the SLO with an error
/// rate under its budget ("Capacity" in DESIGN.md).
///
/// Bracketing, then bisection: from `start_per_s` the rate doubles while it passes (or halves
/// while it fails) until one passing and one failing rate bracket the knee; the bracket is then
/// halved at its geometric midpoint, since rates span orders of magnitude, until it is within
/// `resolution_rel` or `max_probes` probes have run. This assumes that a higher rate never
/// does better than a lower one; a noisy probe can make the answer conservative, never
/// outside the probed range.
///
/// `probe(rate_per_s)` runs one constant-rate trial; its error ends the search and is returned.
pub fn capacity_search<E>(
    search: &CapacitySearch,
    slo: &Slo,
    mut probe: impl FnMut(f64) -> Result<ProbeOutcome, E>,
) -> Result<Capacity, E> {
    let mut result = Capacity {
        rate_per_s: None,
        above_per_s: None,
        probes: Vec::new(),
        end: SearchEnd::InvalidSearch,
    };
    let (min, max) = (search.min_per_s, search.max_per_s);
    let valid = min.is_finite() && max.is_finite() && min > 0.0 && min <= max;
    if !valid || search.max_probes == 0 || search.start_per_s.is_nan() {
        return Ok(result);
    }

    let mut run = |rate: f64, result: &mut Capacity| -> Result<bool, E> {
        let outcome = probe(rate)?;
        let met_slo = slo.is_met(&outcome);
        result.probes.push(Probe {
            rate_per_s: rate,
            outcome,
            met_slo,
        });
        if met_slo {
            result.rate_per_s = Some(result.rate_per_s.map_or(rate, |r| r.max(rate)));
        } else {
            result.above_per_s = Some(result.above_per_s.map_or(rate, |r| r.min(rate)));
        }
        Ok(met_slo)
    };

    // Bracketing.
    let mut rate = search.start_per_s.clamp(min, max);
    loop {
        if result.probes.len() >= search.max_probes {
            result.end = SearchEnd::ProbeBudget;
            return Ok(result);
        }
        let passed = run(rate, &mut result)?;
        if result.rate_per_s.is_some() && result.above_per_s.is_some() {
            break;
        }
        if passed {
            if rate >= max {
                result.end = SearchEnd::AboveMax;
                return Ok(result);
            }
            rate = (rate * 2.0).min(max);
        } else {
            if rate <= min {
                result.end = SearchEnd::BelowMin;
                return Ok(result);
            }
            rate = (rate / 2.0).max(min);
        }
    }

    // Bisection of [highest pass, lowest fail].
    loop {
        let (Some(lo), Some(hi)) = (result.rate_per_s, result.above_per_s) else {
            unreachable!("bracketing ends with both a pass and a fail");
        };
        if hi / lo - 1.0 <= search.resolution_rel {
            result.end = SearchEnd::Resolved;
            return Ok(result);
        }
        if result.probes.len() >= search.max_probes {
            result.end = SearchEnd::ProbeBudget;
            return Ok(result);
        }
        run((lo * hi).sqrt(), &mut result)?;
    }
}

/// Share of a sweep's highest throughput that marks its knee (90%).
pub const KNEE_SHARE: f64 = 0.90;

/// The knee of a concurrency sweep: the index of the first point (in ascending connection
/// order) whose throughput reaches [`KNEE_SHARE`] of the highest throughput of the sweep. Past
/// it, more connections add at most 10% throughput and mostly add latency (Little's law: the
/// extra requests wait in queues). `None` when no point has a finite throughput above zero.
///
/// `rps[i]` is the median throughput at point `i`; a point without one is `None` and never
/// the knee.
pub fn knee(rps: &[Option<f64>]) -> Option<usize> {
    let best = rps
        .iter()
        .flatten()
        .copied()
        .filter(|r| r.is_finite() && *r > 0.0)
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))))?;
    rps.iter()
        .position(|r| r.is_some_and(|r| r.is_finite() && r >= KNEE_SHARE * best))
}

#[cfg(test)]
mod tests;
