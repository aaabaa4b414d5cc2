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
    /// On one workload, the throughput intervals of some results stayed wider than the target:
    /// said once per workload, by the report, with what this machine gave and what would
    /// narrow it.
    HighVariance {
        /// Results wider than the target.
        noisy: usize,
        /// Ranked results of the workload.
        results: usize,
        /// The widest interval: larger distance from the median to a bound, relative to it.
        widest_rel: f64,
        /// The target for that distance.
        target_ci_rel: f64,
        /// Trials behind the widest interval.
        trials: usize,
        /// That interval is short of 95% confidence (too few trials).
        short_of_confidence: bool,
        /// Trial length of the workload (seconds), when recorded.
        trial_s: Option<f64>,
    },
    /// The load engine, not the server, limited a result: its figure is a lower bound.
    EngineLimited {
        /// Why, as the runner recorded it.
        reason: String,
        /// Trials it happened in.
        trials: usize,
        /// Trials of the result.
        of: usize,
    },
    /// Requests were left unanswered when trial windows closed, long after a normal answer.
    Unanswered {
        /// Requests unanswered over all trials.
        requests: u64,
        /// The longest any had waited (µs).
        oldest_us: Option<u64>,
        /// Trials without a single response.
        silent_trials: usize,
        /// Trials stored.
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
            Warning::HighVariance {
                noisy,
                results,
                widest_rel,
                target_ci_rel,
                trials,
                short_of_confidence,
                trial_s,
            } => {
                write!(
                    f,
                    "{noisy} of {results} results have a throughput interval wider than the \
                     ±{:.1}% target; the widest, ±{:.1}% over {trials} trials, is what this \
                     machine gave here. ",
                    target_ci_rel * 100.0,
                    widest_rel * 100.0
                )?;
                if *short_of_confidence {
                    write!(
                        f,
                        "{trials} trials cannot reach 95% confidence (that takes 6): allow more \
                         trials (`faceoff run --min-rounds 6 --max-rounds 12`)"
                    )?;
                } else {
                    // The interval of a median narrows about with the square root of the trials.
                    let ratio = (widest_rel / target_ci_rel).powi(2);
                    let rounds = ((*trials as f64 * ratio).ceil() as usize).clamp(trials + 1, 60);
                    write!(f, "To narrow it, allow more trials (`faceoff run --max-rounds {rounds}`)")?;
                }
                match trial_s {
                    Some(t) => write!(f, " or longer ones (`--trial {}s`)", (t * 2.0).max(1.0).round())?,
                    None => write!(f, " or longer ones (`--trial`)")?,
                }
                write!(
                    f,
                    ", quiet the machine, or accept this width with `--target-ci {:.2}`.",
                    (widest_rel * 100.0).ceil() / 100.0
                )
            }
            Warning::EngineLimited { reason, trials, of } => write!(
                f,
                "the load engine, not the server, was the limit in {trials} of {of} trials \
                 ({reason}): the figure is a lower bound of the server's throughput and is not \
                 ranked. Give the load engine more CPUs (`faceoff run --load-cpus`) or use fewer \
                 connections (the suite's `connections`)."
            ),
            Warning::Unanswered { requests, oldest_us, silent_trials, trials } => {
                write!(f, "{requests} requests were still unanswered when the trial windows closed")?;
                if let Some(us) = oldest_us {
                    write!(f, ", the oldest after ≥ {} ms", us / 1000)?;
                }
                if *silent_trials > 0 {
                    write!(f, "; {silent_trials} of {trials} trials got no response at all")?;
                }
                write!(
                    f,
                    ": the server stopped answering. Its log in the run's results folder says why."
                )
            }
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
