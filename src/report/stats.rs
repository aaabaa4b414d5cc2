//! Interim stand-in for the subset of `crate::stats` that reports use (median, the
//! order-statistic interval of the median, overlap), with the same names and meaning. It goes
//! away when `src/stats.rs` lands; nothing outside `report::build` uses it.

/// A point estimate with its confidence interval (as `crate::stats::Interval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub point: f64,
    pub lo: f64,
    pub hi: f64,
    pub coverage: f64,
    pub short_of_confidence: bool,
}

impl Interval {
    /// Larger distance from the point to a bound, relative to the point.
    pub fn rel_half_width(&self) -> f64 {
        let half = (self.point - self.lo).max(self.hi - self.point);
        if half == 0.0 {
            0.0
        } else {
            half / self.point.abs()
        }
    }
}

/// Whether two intervals share a value.
pub fn overlaps(a: &Interval, b: &Interval) -> bool {
    a.lo <= b.hi && b.lo <= a.hi
}

fn sorted(samples: &[f64]) -> Option<Vec<f64>> {
    if samples.is_empty() || samples.iter().any(|x| x.is_nan()) {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    Some(v)
}

fn middle(s: &[f64]) -> f64 {
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// The median; `None` for no samples or a NaN.
pub fn median(samples: &[f64]) -> Option<f64> {
    sorted(samples).map(|s| middle(&s))
}

/// Distribution-free interval of the median `[x(k), x(n+1-k)]`, with the largest `k` whose
/// coverage `1 - 2 P(B <= k-1)`, `B ~ Binomial(n, 1/2)`, reaches `confidence` (Conover 1999,
/// 3.2); the whole range, flagged short, when even that falls below it.
pub fn median_ci(samples: &[f64], confidence: f64) -> Option<Interval> {
    let s = sorted(samples)?;
    let n = s.len();
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let (mut cdf, mut ln_choose, mut total) = (Vec::new(), 0.0_f64, 0.0);
    for j in 0..=n.div_ceil(2) {
        if j > 0 {
            ln_choose += ((n - j + 1) as f64 / j as f64).ln();
        }
        total += (ln_choose + ln_half_n).exp();
        cdf.push(f64::min(total, 1.0));
    }
    let mut k = 0;
    while k < n.div_ceil(2) && 2.0 * cdf[k] <= 1.0 - confidence {
        k += 1;
    }
    let (k, short) = if k == 0 { (1, true) } else { (k, false) };
    Some(Interval {
        point: middle(&s),
        lo: s[k - 1],
        hi: s[n - k],
        coverage: (1.0 - 2.0 * cdf[k - 1]).max(0.0),
        short_of_confidence: short,
    })
}
