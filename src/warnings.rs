//! Measurement-quality warnings: the figures may describe something other than the server.
//! Each one says what to do about it.

use std::fmt;

use crate::load::summary::Summary;
use crate::load::ErrorKind;

/// Share of a load thread's time on a CPU above which the engine counts as saturated.
pub const SATURATED_BUSY: f64 = 0.9;
/// In closed loop, Little's law says the connections waiting on the server on average
/// (throughput x latency) equal the connections open; below this share of them, the rest of the
/// time went to the load engine. With warm connections and unanswered requests counted in
/// [`Summary::busy_connections`], nothing else is left outside that sum (issue 8, Build 5).
const MIN_BUSY_SHARE: f64 = 0.8;
/// Loads shorter than this are not judged by Little's law: the first sends of many
/// connections are spread over the engine's start.
const MIN_JUDGED_S: f64 = 1.0;
/// Above this share of requests failing at the connection level (connect, reset, protocol),
/// idle connections are the server's doing (reconnects and back-off), not the engine's.
const MAX_CONNECTION_FAILURES: f64 = 0.01;

/// Why a load's figures describe the load engine rather than the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EngineLimit {
    /// A load thread was on its CPU nearly all the time.
    Saturated {
        /// The busiest thread's share of time on a CPU.
        busiest: f64,
    },
    /// Closed loop: by Little's law, clearly fewer connections were waiting on the server than
    /// were open; the others waited on faceoff.
    Lagging {
        /// Connections waiting on the server on average.
        busy_connections: f64,
        /// Connections open.
        connections: usize,
    },
}

/// The one rule deciding whether the engine, not the server, limited a load: a saturated
/// load thread, or (closed loop, at least [`MIN_JUDGED_S`], few connection failures) fewer
/// than [`MIN_BUSY_SHARE`] of the connections busy by Little's law. `None`: the server was
/// the limit, as far as faceoff can tell.
pub fn engine_limit(s: &Summary) -> Option<EngineLimit> {
    if s.engine_busiest_thread >= SATURATED_BUSY {
        return Some(EngineLimit::Saturated {
            busiest: s.engine_busiest_thread,
        });
    }
    let busy_connections = s.busy_connections?;
    let connection_failures: u64 = [ErrorKind::Connect, ErrorKind::Reset, ErrorKind::Protocol]
        .iter()
        .map(|k| s.errors.get(k.name()).copied().unwrap_or(0))
        .sum();
    let finished = s.requests + s.error_total() - s.errors.get("status").copied().unwrap_or(0);
    let lagging = s.target_rate_per_s.is_none()
        && s.duration_s >= MIN_JUDGED_S
        && connection_failures as f64 <= MAX_CONNECTION_FAILURES * finished as f64
        && busy_connections < MIN_BUSY_SHARE * s.connections as f64;
    lagging.then_some(EngineLimit::Lagging {
        busy_connections,
        connections: s.connections,
    })
}

/// A doubt about a measurement.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// A load thread was on a CPU nearly all the time.
    EngineSaturated {
        /// The busiest thread's share of time on a CPU.
        busiest: f64,
    },
    /// Closed loop: fewer connections were busy than were open.
    EngineLagging {
        /// Connections waiting on the server on average, by Little's law.
        busy_connections: f64,
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
        target_rel_half_width: f64,
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
            Warning::EngineLagging { busy_connections, connections } => write!(
                f,
                "only {busy_connections:.1} of {connections} connections were waiting on the server on \
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
            Warning::HighVariance { rel_half_width, target_rel_half_width, trials } => write!(
                f,
                "throughput varied between trials: over {trials} trials the interval of the median \
                 reaches ±{:.1}%, above the ±{:.1}% target. Stop other work on this machine, keep \
                 the server and faceoff on separate CPUs, or allow more trials.",
                rel_half_width * 100.0,
                target_rel_half_width * 100.0
            ),
        }
    }
}

impl From<EngineLimit> for Warning {
    fn from(limit: EngineLimit) -> Self {
        match limit {
            EngineLimit::Saturated { busiest } => Warning::EngineSaturated { busiest },
            EngineLimit::Lagging {
                busy_connections,
                connections,
            } => Warning::EngineLagging {
                busy_connections,
                connections,
            },
        }
    }
}

/// Checks a load's summary for signs that the engine, not the server, set the figures
/// ([`engine_limit`]), and for a constant rate that was not delivered.
pub fn engine_warnings(s: &Summary) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = engine_limit(s).into_iter().map(Warning::from).collect();
    if let Some(target) = s.target_rate_per_s {
        if s.duration_s >= MIN_JUDGED_S && s.rps < 0.95 * target {
            let mean_latency_s = s.latency_uncorrected_us.map_or(0.0, |p| p.mean) / 1e6;
            warnings.push(Warning::RateNotReached {
                target_per_s: target,
                achieved_per_s: s.rps,
                connections_needed: (target * mean_latency_s * 1.25).ceil() as usize,
                connections: s.connections,
            });
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::load::{Pacing, Recorder, Recording};

    /// What a closed-loop load of `connections` over 2 s recorded: `answered` responses of
    /// `latency_us` each, and the busiest thread on its CPU `busy` of the time. Built through
    /// [`Summary::of`], as the product builds it.
    fn load(connections: usize, answered: u64, latency_us: u64, busy: f64) -> Recording {
        let mut recorder = Recorder::new();
        for i in 0..answered {
            recorder.record_response((i % 2) as usize, 200, latency_us, latency_us);
        }
        Recording {
            recorder,
            duration: Duration::from_secs(2),
            engine_cpu: Duration::from_millis(500),
            worker_busy: vec![busy / 2.0, busy],
            connections,
            threads: 2,
            pacing: Pacing::ClosedLoop,
            interrupted: false,
            setup: None,
        }
    }

    fn limit(rec: &Recording) -> Option<EngineLimit> {
        engine_limit(&Summary::of(rec))
    }

    #[test]
    fn server_bound_closed_loop_is_not_engine_limited() {
        // 8 connections, 20 ms each, 2 s: 800 answers keep all 8 busy.
        let rec = load(8, 800, 20_000, 0.3);
        let s = Summary::of(&rec);
        let busy = s.busy_connections.unwrap();
        assert!((busy - 8.0).abs() < 0.1, "{busy}");
        assert_eq!(engine_limit(&s), None);
        assert!(engine_warnings(&s).is_empty());
    }

    #[test]
    fn a_saturated_thread_is_engine_limited() {
        let rec = load(8, 800, 20_000, 0.95);
        assert_eq!(limit(&rec), Some(EngineLimit::Saturated { busiest: 0.95 }));
        let warnings = engine_warnings(&Summary::of(&rec));
        assert_eq!(warnings, vec![Warning::EngineSaturated { busiest: 0.95 }]);
    }

    #[test]
    fn idle_connections_in_closed_loop_are_engine_limited() {
        // 64 connections but only 800 x 20 ms of waiting in 2 s: 8 busy.
        let rec = load(64, 800, 20_000, 0.5);
        let Some(EngineLimit::Lagging {
            busy_connections,
            connections,
        }) = limit(&rec)
        else {
            panic!("expected lagging: {:?}", limit(&rec));
        };
        assert!((busy_connections - 8.0).abs() < 0.1);
        assert_eq!(connections, 64);
        let warnings = engine_warnings(&Summary::of(&rec));
        assert!(matches!(warnings[..], [Warning::EngineLagging { .. }]));
    }

    #[test]
    fn unanswered_requests_count_as_busy() {
        // 4 answers only, then all 8 connections waited 1.9 s for answers that never came:
        // the server, not the engine, held them.
        let mut rec = load(8, 4, 20_000, 0.1);
        for _ in 0..8 {
            rec.recorder.record_unanswered(1_900_000);
        }
        let s = Summary::of(&rec);
        assert!(
            s.busy_connections.unwrap() > 7.5,
            "{:?}",
            s.busy_connections
        );
        assert_eq!(engine_limit(&s), None);
    }

    #[test]
    fn short_loads_are_not_judged() {
        let mut rec = load(64, 400, 20_000, 0.5);
        rec.duration = Duration::from_millis(900);
        assert_eq!(limit(&rec), None);
    }

    #[test]
    fn connection_failures_are_the_server_s_doing() {
        let mut rec = load(64, 800, 20_000, 0.5);
        for _ in 0..100 {
            rec.recorder.record_error(0, ErrorKind::Reset);
        }
        assert_eq!(limit(&rec), None);
        // 5xx answers are answers, not connection failures.
        let mut rec = load(64, 800, 20_000, 0.5);
        rec.recorder.record_response(0, 503, 20_000, 20_000);
        assert!(matches!(limit(&rec), Some(EngineLimit::Lagging { .. })));
    }

    #[test]
    fn constant_rate_is_judged_by_saturation_only() {
        let mut rec = load(64, 800, 20_000, 0.5);
        rec.pacing = Pacing::ConstantRate { rate_per_s: 400.0 };
        assert_eq!(limit(&rec), None);
        rec.worker_busy = vec![0.92];
        assert_eq!(limit(&rec), Some(EngineLimit::Saturated { busiest: 0.92 }));
    }

    #[test]
    fn a_rate_not_delivered_is_warned() {
        let mut rec = load(4, 800, 20_000, 0.2);
        rec.pacing = Pacing::ConstantRate { rate_per_s: 1000.0 };
        let warnings = engine_warnings(&Summary::of(&rec));
        assert!(
            matches!(
                warnings[..],
                [Warning::RateNotReached {
                    connections_needed: 25..=26,
                    ..
                }]
            ),
            "{warnings:?}"
        );
    }
}
