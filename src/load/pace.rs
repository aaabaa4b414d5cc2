//! Pacing: closed loop, or a constant-rate schedule of intended send times per connection.

use std::time::{Duration, Instant};

use serde::Serialize;

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Pacing {
    /// Each connection sends its next request when the last answer arrives.
    ClosedLoop,
    /// Open loop: requests are due at a constant total rate, spread evenly over connections.
    ConstantRate {
        /// Total requests per second over all connections.
        rate_per_s: f64,
    },
}

/// The intended send times of one connection under a constant total rate.
///
/// Connection `i` of `n` sends at `start + (i + k·n) / rate` for k = 0, 1, 2, ...: each
/// connection owns 1/n of the rate, and the connections are phase-shifted so the sends of all of
/// them together are evenly spaced. Times are computed from `k`, not accumulated, so they do not
/// drift.
#[derive(Debug, Clone)]
pub struct Schedule {
    start: Instant,
    first_ns: f64,
    interval_ns: f64,
    next_k: u64,
}

impl Schedule {
    /// The schedule of connection `index` out of `connections` sharing `rate_per_s`.
    pub fn new(start: Instant, rate_per_s: f64, connections: usize, index: usize) -> Self {
        let gap_ns = 1e9 / rate_per_s;
        Self {
            start,
            first_ns: gap_ns * index as f64,
            interval_ns: gap_ns * connections as f64,
            next_k: 0,
        }
    }

    /// The next intended send time.
    #[inline]
    pub fn next_send(&mut self) -> Instant {
        let offset_ns = self.first_ns + self.interval_ns * self.next_k as f64;
        self.next_k += 1;
        self.start + Duration::from_nanos(offset_ns as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_interleave_evenly() {
        let start = Instant::now();
        let mut times: Vec<Duration> = (0..4)
            .flat_map(|i| {
                let mut s = Schedule::new(start, 1000.0, 4, i);
                (0..250)
                    .map(move |_| s.next_send() - start)
                    .collect::<Vec<_>>()
            })
            .collect();
        times.sort();
        assert_eq!(times.len(), 1000);
        for (k, t) in times.iter().enumerate() {
            assert!(
                t.as_nanos().abs_diff(k as u128 * 1_000_000) <= 1,
                "send {k} at {t:?}"
            );
        }
    }

    #[test]
    fn no_drift_over_long_runs() {
        let start = Instant::now();
        let mut s = Schedule::new(start, 3.0, 1, 0);
        let mut last = start;
        for _ in 0..3_000_001 {
            last = s.next_send();
        }
        let expected = Duration::from_secs(1_000_000);
        assert!((last - start).abs_diff(expected) < Duration::from_micros(1));
    }
}
