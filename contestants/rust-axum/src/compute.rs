//! `/compute?n=N`: summary statistics over a deterministic series, computed in plain loops on the
//! worker thread that took the request.

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::Json;
use serde::Serialize;

use crate::params::{clamped_count, CountParam};

/// Largest series a request may ask for.
const MAX_N: u32 = 1_000_000;
/// The series is x_i = ((i * MULTIPLIER) mod MODULUS) / MODULUS.
const MULTIPLIER: u64 = 7919;
const MODULUS: u64 = 10_007;

/// The `/compute` answer; `std` is the population standard deviation.
#[derive(Debug, Serialize)]
pub struct Summary {
    n: u32,
    sum: f64,
    mean: f64,
    std: f64,
    min: f64,
    max: f64,
}

/// `GET /compute?n=N`.
pub async fn compute(params: Result<Query<CountParam>, QueryRejection>) -> Json<Summary> {
    let raw = params.as_ref().ok().and_then(|Query(p)| p.n.as_deref());
    Json(summarize(clamped_count(raw, MAX_N)))
}

fn x(i: u64) -> f64 {
    ((i * MULTIPLIER) % MODULUS) as f64 / MODULUS as f64
}

/// Two passes (mean, then squared deviations) so the variance does not lose digits to
/// cancellation; `n` is at least 1.
fn summarize(n: u32) -> Summary {
    let count = u64::from(n);
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..count {
        let value = x(i);
        sum += value;
        min = min.min(value);
        max = max.max(value);
    }
    let mean = sum / count as f64;
    let mut squares = 0.0;
    for i in 0..count {
        let deviation = x(i) - mean;
        squares += deviation * deviation;
    }
    Summary {
        n,
        sum,
        mean,
        std: (squares / count as f64).sqrt(),
        min,
        max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_has_no_spread() {
        let s = summarize(1);
        assert_eq!(
            (s.n, s.sum, s.mean, s.std, s.min, s.max),
            (1, 0.0, 0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn two_values() {
        let second = 7919.0 / 10_007.0;
        let s = summarize(2);
        assert_eq!(s.sum, second);
        assert_eq!(s.mean, second / 2.0);
        assert!((s.std - second / 2.0).abs() < 1e-15);
        assert_eq!((s.min, s.max), (0.0, second));
    }

    #[test]
    fn full_periods_cover_every_residue() {
        // 10_007 is prime, so one period takes every k / 10_007 for k in 0..10_007 exactly once.
        let s = summarize(10_007);
        let m = 10_007.0_f64;
        assert!((s.mean - (m - 1.0) / (2.0 * m)).abs() < 1e-12);
        let variance = (m * m - 1.0) / (12.0 * m * m);
        assert!((s.std - variance.sqrt()).abs() < 1e-12);
        assert_eq!(s.max, (m - 1.0) / m);
    }
}
