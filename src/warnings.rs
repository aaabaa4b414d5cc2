//! Measurement-quality warnings: the figures may describe something other than the server.
//! Each one says what to do about it.

use std::fmt;

use crate::load::summary::Summary;

/// Share of a load thread's time on a CPU above which the engine counts as saturated.
pub const SATURATED_BUSY: f64 = 0.9;
/// In closed loop, Little's law says in-flight = throughput x latency should be close to the
/// number of connections; below this share the connections were idle on faceoff's side.
const MIN_IN_FLIGHT_SHARE: f64 = 0.8;

/// A doubt about a measurement.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// A load thread was on a CPU nearly all the time.
    EngineSaturated {
        /// The busiest thread's share of time on a CPU.
        busiest: f64,
    },
    /// Closed loop: fewer requests were in flight than there were connections.
    EngineLagging {
        /// Mean requests in flight by Little's law.
        in_flight: f64,
        /// Connections open.
        connections: usize,
    },
    /// Constant rate: the rate asked for was not delivered.
    RateNotReached {
        /// Requests per second asked for.
        target_per_s: f64,
        /// Responses per second delivered.
        achieved_per_s: f64,
        /// Connections needed to carry the target at the observed latency.
        connections_needed: usize,
        /// Connections open.
        connections: usize,
    },
    /// Throughput varied so much between trials that its interval is wider than the target.
    HighVariance {
        /// Larger distance from the median to a bound of its interval, relative to the median.
        rel_half_width: f64,
        /// The target for that distance.
        target_ci_rel: f64,
        /// Trials measured.
        trials: usize,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::EngineSaturated { busiest } => write!(
                f,
                "the load engine was saturated (a load thread was on its CPU {:.0}% of the time): \
                 these figures describe faceoff, not the server. Give it more CPUs (--cpus, -t) or \
                 fewer connections.",
                busiest * 100.0
            ),
            Warning::EngineLagging { in_flight, connections } => write!(
                f,
                "only {in_flight:.1} of {connections} connections were waiting on the server on \
                 average (throughput x latency, Little's law): the rest of the time went to the load \
                 engine or to reconnecting. Give faceoff more CPUs or use fewer connections."
            ),
            Warning::RateNotReached { target_per_s, achieved_per_s, connections_needed, connections } => {
                write!(f, "asked for {target_per_s:.0} req/s but got {achieved_per_s:.0} req/s: ")?;
                if connections_needed > connections {
                    write!(
                        f,
                        "at this latency the rate needs about {connections_needed} connections; \
                         raise -c from {connections}."
                    )
                } else {
                    write!(f, "the server (or the engine) could not keep up; the corrected latency shows the cost.")
                }
            }
            Warning::HighVariance { rel_half_width, target_ci_rel, trials } => write!(
                f,
                "throughput varied between trials: over {trials} trials the interval of the median \
                 reaches ±{:.1}%, above the ±{:.1}% target. Stop other work on this machine, keep \
                 the server and faceoff on separate CPUs, or allow more trials.",
                rel_half_width * 100.0,
                target_ci_rel * 100.0
            ),
        }
    }
}

/// Checks a load's summary for signs that the engine, not the server, set the figures.
pub fn engine_warnings(s: &Summary) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let busiest = s.engine_thread_busy.iter().copied().fold(0.0, f64::max);
    if busiest >= SATURATED_BUSY {
        warnings.push(Warning::EngineSaturated { busiest });
    }
    let mean_latency_s = s.latency_uncorrected_us.mean / 1e6;
    match s.target_rate_per_s {
        None => {
            let in_flight = s.rps * mean_latency_s;
            // Requests still in flight when a trial ends, and the connects at its start, are
            // outside the latency figures; only judge trials much longer than one request.
            if s.requests > 0
                && s.duration_s >= 1.0
                && s.duration_s >= 20.0 * mean_latency_s
                && in_flight < MIN_IN_FLIGHT_SHARE * s.connections as f64
                && !warnings
                    .iter()
                    .any(|w| matches!(w, Warning::EngineSaturated { .. }))
            {
                warnings.push(Warning::EngineLagging {
                    in_flight,
                    connections: s.connections,
                });
            }
        }
        Some(target) => {
            if s.duration_s >= 1.0 && s.rps < 0.95 * target {
                let needed = (target * mean_latency_s * 1.25).ceil() as usize;
                warnings.push(Warning::RateNotReached {
                    target_per_s: target,
                    achieved_per_s: s.rps,
                    connections_needed: needed,
                    connections: s.connections,
                });
            }
        }
    }
    warnings
}
