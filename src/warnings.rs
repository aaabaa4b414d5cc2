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
    /// A load thread always had work (on its CPU or waiting for it), but other work on the
    /// load CPUs kept it off them: the engine, held back, set the pace.
    Starved {
        /// The thread's share of time on its CPU or waiting for it.
        runnable: f64,
        /// Its share of time on its CPU.
        on_cpu: f64,
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
/// load thread, one that was runnable (on its CPU, or waiting for it behind other work) as
/// much of the time, or (closed loop, at least `MIN_JUDGED_S` (1 s), few connection failures) fewer
/// than `MIN_BUSY_SHARE` (80%) of the connections busy by Little's law. `None`: the server was
/// the limit, as far as faceoff can tell.
pub fn engine_limit(s: &Summary) -> Option<EngineLimit> {
    if s.engine_busiest_thread >= SATURATED_BUSY {
        return Some(EngineLimit::Saturated {
            busiest: s.engine_busiest_thread,
        });
    }
    // Time waiting for the CPU is time the engine had work to do: on a shared machine the
    // engine can be the limit while on its CPU only a fraction of the time, and Little's law
    // does not see it (the responses waiting for it count as latency).
    if let Some((on_cpu, waiting)) = s
        .engine_thread_busy
        .iter()
        .zip(&s.engine_thread_waiting)
        .max_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)))
        .filter(|(on_cpu, waiting)| *on_cpu + *waiting >= SATURATED_BUSY)
    {
        // The two are read at slightly different moments: the sum may pass 1.
        return Some(EngineLimit::Starved {
            runnable: (on_cpu + waiting).min(1.0),
            on_cpu: *on_cpu,
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
    /// A load thread had work all along but other work on the load CPUs kept it off them.
    EngineStarved {
        /// The thread's share of time on its CPU or waiting for it.
        runnable: f64,
        /// Its share of time on its CPU.
        on_cpu: f64,
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
        /// Of those, the trials whose server spent at least half a CPU on the window: it was
        /// working, every request taking longer than the window.
        busy_silent: usize,
        /// Trials stored.
        trials: usize,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::EngineSaturated { busiest } => write!(
                f,
                "{}: these figures describe faceoff, not the server. Give it more CPUs \
                 (`--cpus`, `-t`) or use fewer connections (`-c`).",
                EngineLimit::Saturated { busiest: *busiest }
            ),
            Warning::EngineStarved { runnable, on_cpu } => write!(
                f,
                "{}: these figures describe faceoff, not the server. Stop other work on the \
                 load CPUs or give faceoff more of them (`--cpus`, `-t`).",
                EngineLimit::Starved {
                    runnable: *runnable,
                    on_cpu: *on_cpu
                }
            ),
            Warning::EngineLagging {
                busy_connections,
                connections,
            } => write!(
                f,
                "{}: the rest of the time went to the load engine or to reconnecting. Give \
                 faceoff more CPUs (`--cpus`, `-t`) or use fewer connections (`-c`).",
                EngineLimit::Lagging {
                    busy_connections: *busy_connections,
                    connections: *connections
                }
            ),
            Warning::RateNotReached {
                target_per_s,
                achieved_per_s,
                connections_needed,
                connections,
            } => {
                write!(
                    f,
                    "asked for {target_per_s:.0} req/s but got {achieved_per_s:.0} req/s: "
                )?;
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
                    write!(
                        f,
                        "To narrow it, allow more trials (`faceoff run --max-rounds {rounds}`)"
                    )?;
                }
                match trial_s {
                    Some(t) => write!(
                        f,
                        " or longer ones (`--trial {}s`)",
                        (t * 2.0).max(1.0).round()
                    )?,
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
                 ranked. Give the load engine more CPUs (`faceoff run --load-cpus`, with \
                 `--server-cpus` for the rest), stop other work on them, or use fewer \
                 connections (the workload's `connections` in the suite file)."
            ),
            Warning::Unanswered {
                requests,
                oldest_us,
                silent_trials,
                busy_silent,
                trials,
            } => {
                write!(
                    f,
                    "{requests} requests were still unanswered when the trial windows closed"
                )?;
                if let Some(us) = oldest_us {
                    write!(f, ", the oldest after ≥ {} ms", us / 1000)?;
                }
                if *silent_trials > 0 {
                    write!(
                        f,
                        "; {silent_trials} of {trials} trials got no response at all"
                    )?;
                }
                if *silent_trials > 0 && busy_silent == silent_trials {
                    write!(
                        f,
                        ": the server was busy in those windows (at least half a CPU) but \
                         finished no request, so at this many connections each took longer \
                         than a trial. Longer trials (`--trial`) or fewer connections measure \
                         it; its log in the run's folder shows any failure."
                    )
                } else {
                    write!(
                        f,
                        ": the server stopped answering. Its log in the run's folder says why."
                    )
                }
            }
        }
    }
}

/// The finding alone, without advice: `run` stores it with each trial and its report adds
/// `run`'s own flags ([`Warning::EngineLimited`]); `bench` adds its flags
/// ([`Warning::EngineSaturated`] and the others).
impl fmt::Display for EngineLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineLimit::Saturated { busiest } => write!(
                f,
                "the load engine was saturated (a load thread was on its CPU {:.0}% of the time)",
                busiest * 100.0
            ),
            EngineLimit::Starved { runnable, on_cpu } => write!(
                f,
                "the load engine was held back (a load thread had work {:.0}% of the time but \
                 was on its CPU only {:.0}%: other work on the load CPUs)",
                runnable * 100.0,
                on_cpu * 100.0
            ),
            EngineLimit::Lagging {
                busy_connections,
                connections,
            } => write!(
                f,
                "only {busy_connections:.1} of {connections} connections were waiting on the \
                 server on average (throughput x latency, Little's law)"
            ),
        }
    }
}

impl Warning {
    /// The warning as `faceoff run` says it: the same finding, with `run`'s flags and suite
    /// fields in the advice instead of `bench`'s (`-c`, `-t`, `--cpus`).
    pub fn for_run(&self) -> String {
        match self {
            Warning::RateNotReached {
                target_per_s,
                achieved_per_s,
                connections_needed,
                connections,
            } => {
                let mut text = format!(
                    "asked for {target_per_s:.0} req/s but got {achieved_per_s:.0} req/s: "
                );
                if connections_needed > connections {
                    text.push_str(&format!(
                        "at this latency the rate needs about {connections_needed} connections; \
                         raise the workload's `connections` in the suite file from {connections}."
                    ));
                } else {
                    text.push_str(
                        "the server (or the engine) could not keep up; the corrected latency \
                         shows the cost.",
                    );
                }
                text
            }
            Warning::EngineSaturated { busiest } => {
                run_engine_advice(EngineLimit::Saturated { busiest: *busiest })
            }
            Warning::EngineStarved { runnable, on_cpu } => {
                run_engine_advice(EngineLimit::Starved {
                    runnable: *runnable,
                    on_cpu: *on_cpu,
                })
            }
            Warning::EngineLagging {
                busy_connections,
                connections,
            } => run_engine_advice(EngineLimit::Lagging {
                busy_connections: *busy_connections,
                connections: *connections,
            }),
            _ => self.to_string(),
        }
    }
}

/// An engine limit with `run`'s advice.
fn run_engine_advice(limit: EngineLimit) -> String {
    format!(
        "{limit}: these figures describe faceoff, not the server. Give the load engine more CPUs \
         (`--load-cpus`, with `--server-cpus` for the rest), stop other work on them, or use \
         fewer connections (the workload's `connections` in the suite file)."
    )
}

impl From<EngineLimit> for Warning {
    fn from(limit: EngineLimit) -> Self {
        match limit {
            EngineLimit::Saturated { busiest } => Warning::EngineSaturated { busiest },
            EngineLimit::Starved { runnable, on_cpu } => {
                Warning::EngineStarved { runnable, on_cpu }
            }
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
    warnings.extend(rate_not_reached(s));
    warnings
}

/// Constant rate only: the rate asked for was not delivered (under 95% of it over a window of
/// at least `MIN_JUDGED_S` (1 s)).
pub fn rate_not_reached(s: &Summary) -> Option<Warning> {
    let target = s.target_rate_per_s?;
    if s.duration_s < MIN_JUDGED_S || s.rps >= 0.95 * target {
        return None;
    }
    let mean_latency_s = s.latency_uncorrected_us.map_or(0.0, |p| p.mean) / 1e6;
    Some(Warning::RateNotReached {
        target_per_s: target,
        achieved_per_s: s.rps,
        connections_needed: (target * mean_latency_s * 1.25).ceil() as usize,
        connections: s.connections,
    })
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
            worker_waiting: vec![0.0, 0.0],
            connections,
            threads: 2,
            pacing: Pacing::ClosedLoop,
            interrupted: false,
            setup: None,
            ws: None,
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
    fn a_thread_held_back_by_other_work_is_engine_limited() {
        // On its CPU 30% of the time, waiting for it 65%: it had work 95% of the time.
        let mut rec = load(8, 800, 20_000, 0.3);
        rec.worker_waiting = vec![0.1, 0.65];
        let Some(EngineLimit::Starved { runnable, on_cpu }) = limit(&rec) else {
            panic!("{:?}", limit(&rec));
        };
        assert!(
            (runnable - 0.95).abs() < 1e-9 && on_cpu == 0.3,
            "{runnable} {on_cpu}"
        );
        // Waiting a little is not enough.
        rec.worker_waiting = vec![0.1, 0.2];
        assert_eq!(limit(&rec), None);
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

    /// Issue 13: `run` names its own flags, never `bench`'s `--cpus`, `-t` or `-c`.
    #[test]
    fn issue_13_run_warnings_name_run_flags() {
        let limits = [
            EngineLimit::Saturated { busiest: 0.97 },
            EngineLimit::Starved {
                runnable: 0.95,
                on_cpu: 0.5,
            },
            EngineLimit::Lagging {
                busy_connections: 10.0,
                connections: 64,
            },
        ];
        let bench_only = ["`--cpus`", "`-t`", "`-c`", "bench"];
        for limit in limits {
            let stored = Warning::EngineLimited {
                reason: limit.to_string(),
                trials: 2,
                of: 3,
            }
            .to_string();
            let direct = Warning::from(limit).for_run();
            for text in [&stored, &direct] {
                assert!(text.contains("--load-cpus"), "{text}");
                for flag in bench_only {
                    assert!(!text.contains(flag), "{flag} in: {text}");
                }
            }
            let bench = Warning::from(limit).to_string();
            assert!(
                bench.contains("`--cpus`") && !bench.contains("load-cpus"),
                "{bench}"
            );
        }
        let missed = Warning::RateNotReached {
            target_per_s: 1000.0,
            achieved_per_s: 500.0,
            connections_needed: 100,
            connections: 10,
        };
        assert!(missed.to_string().contains("raise -c from 10"));
        let run = missed.for_run();
        assert!(run.contains("`connections` in the suite file"), "{run}");
        assert!(!run.contains("-c "), "{run}");
    }
}
