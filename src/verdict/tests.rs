//! Judging, crossovers, framework notes and rankings on hand-built [`Facts`], one per outcome.
//! The end-to-end path (a run stored with the real store, the commands, the reports) is in
//! `tests/it/verdict.rs`.

use super::claims::{self, Claim, Expect, Measure, Side, Test};
use super::facts::{AuditFacts, CapacityFacts, ContestantFacts, ResultFacts, WorkloadFacts};
use super::judge::{judge_claim, Outcome};
use super::profile::{self, Caveat, Overrides};
use super::{cost, Facts};
use crate::stats::Interval;

fn interval(point: f64, lo: f64, hi: f64) -> Interval {
    Interval {
        point,
        lo,
        hi,
        coverage: 0.97,
        short_of_confidence: false,
    }
}

/// Contestants (name, stack, framework) and per workload their median req/s at ±2%.
fn facts(contestants: &[(&str, &str)], workloads: &[(&str, &[(&str, f64)])]) -> Facts {
    Facts {
        run_id: 7,
        server_cpus: Some(1),
        workers: Some(1),
        contestants: contestants
            .iter()
            .map(|(name, stack)| ContestantFacts {
                name: name.to_string(),
                display_name: name.to_string(),
                stack: stack.to_string(),
                language: stack.to_string(),
                framework: name.to_string(),
                measured: true,
            })
            .collect(),
        workloads: workloads
            .iter()
            .map(|(w, results)| WorkloadFacts {
                name: w.to_string(),
                results: results
                    .iter()
                    .map(|(c, rps)| ResultFacts {
                        contestant: c.to_string(),
                        rps: Some(interval(*rps, rps * 0.98, rps * 1.02)),
                        p50_us: Some(1e6 / rps),
                        p99_us: Some(4e6 / rps),
                        cpu_ms_per_1k: Some(1e6 / rps),
                        pss_mean_bytes: Some(50 << 20),
                        trials: 6,
                        engine_limited: None,
                        no_data: None,
                    })
                    .collect(),
            })
            .collect(),
        ..Facts::default()
    }
}

const STACKS: &[(&str, &str)] = &[
    ("node-express", "Node.js"),
    ("node-fastify", "Node.js"),
    ("python-fastapi", "Python"),
    ("python-django", "Python"),
];

fn test(measure: Measure, workloads: &[&str], expect: Expect, margin: f64) -> Test {
    Test {
        measure,
        workloads: workloads.iter().map(|w| w.to_string()).collect(),
        sizes: Vec::new(),
        favoured: Side::Stack("Node.js".into()),
        other: Side::Stack("Python".into()),
        expect,
        margin,
        suite: None,
    }
}

fn claim(tests: Vec<Test>) -> Claim {
    Claim {
        id: "c".into(),
        topic: "t".into(),
        quote: "q".into(),
        tests,
        not_measurable: None,
    }
}

/// Capacity at p99 < 50 ms with a ±5% interval, at one core and `pss_mib` MiB.
fn capacity(workload: &str, contestant: &str, rate: f64, pss_mib: u64) -> CapacityFacts {
    CapacityFacts {
        workload: workload.into(),
        contestant: contestant.into(),
        slo_p99_us: 50_000.0,
        rate_per_s: interval(rate, rate * 0.95, rate * 1.05),
        cpu_cores: Some(0.8),
        pss_bytes: Some(pss_mib << 20),
        server_cpus: 1,
    }
}

fn pricing() -> cost::Pricing {
    cost::load(cost::DEFAULT_PRICING).unwrap()
}

#[test]
fn supported_when_the_whole_interval_clears_the_margin() {
    let f = facts(
        STACKS,
        &[(
            "json",
            &[
                ("node-express", 30_000.0),
                ("node-fastify", 60_000.0),
                ("python-fastapi", 18_000.0),
                ("python-django", 9_000.0),
            ],
        )],
    );
    let c = judge_claim(
        &claim(vec![test(
            Measure::Throughput,
            &["json"],
            Expect::Better,
            0.25,
        )]),
        &f,
        &pricing(),
    );
    assert_eq!(c.outcome, Outcome::Supported, "{}", c.summary);
    let t = &c.tests[0];
    // Fastify and FastAPI stand for their stacks: 60,000 / 18,000 = 3.33, interval
    // [58,800 / 18,360, 61,200 / 17,640].
    let r = t.ratio.unwrap();
    assert!((r.point - 60_000.0 / 18_000.0).abs() < 1e-9);
    assert!((r.lo - 58_800.0 / 18_360.0).abs() < 1e-9);
    let best: Vec<&str> = t
        .rows
        .iter()
        .filter(|r| r.best)
        .map(|r| r.contestant.as_str())
        .collect();
    assert_eq!(best, ["node-fastify", "python-fastapi"]);
    assert_eq!(t.rows.len(), 4, "every framework is listed");
    assert!(
        t.why.contains("60,000 req/s [58,800 – 61,200]"),
        "{}",
        t.why
    );
    assert!(t.missing.is_none() && c.missing.is_empty());
}

#[test]
fn refuted_when_ahead_by_less_than_the_margin() {
    let f = facts(
        STACKS,
        &[(
            "json",
            &[("node-fastify", 20_000.0), ("python-fastapi", 19_000.0)],
        )],
    );
    let c = judge_claim(
        &claim(vec![test(
            Measure::Throughput,
            &["json"],
            Expect::Better,
            0.25,
        )]),
        &f,
        &pricing(),
    );
    // Ratio interval [19,600 / 19,380, 20,400 / 18,620] = [1.01, 1.10]: wholly below 1.25.
    assert_eq!(c.outcome, Outcome::Refuted, "{}", c.summary);
    assert!(c.tests[0].why.contains("falls short"), "{}", c.tests[0].why);
}

#[test]
fn inconclusive_when_the_intervals_overlap_or_fall_short_of_95_percent() {
    let mut f = facts(
        STACKS,
        &[(
            "json",
            &[("node-fastify", 20_000.0), ("python-fastapi", 19_800.0)],
        )],
    );
    let plain = claim(vec![test(
        Measure::Throughput,
        &["json"],
        Expect::Better,
        0.0,
    )]);
    let c = judge_claim(&plain, &f, &pricing());
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert!(c.tests[0].why.contains("overlap"), "{}", c.tests[0].why);
    assert!(
        c.missing.is_empty(),
        "nothing is missing, the data is just close"
    );

    // Far apart, but three trials cannot give a 95% interval.
    for r in &mut f.workloads[0].results {
        r.rps = Some(Interval {
            short_of_confidence: true,
            ..r.rps.unwrap()
        });
        r.trials = 3;
    }
    f.workloads[0].results[0].rps = Some(Interval {
        point: 90_000.0,
        lo: 89_000.0,
        hi: 91_000.0,
        coverage: 0.75,
        short_of_confidence: true,
    });
    let c = judge_claim(&plain, &f, &pricing());
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert!(
        c.tests[0].why.contains("(3 trials)") && c.tests[0].why.contains("lean supported"),
        "{}",
        c.tests[0].why
    );
}

#[test]
fn missing_data_says_exactly_what_is_missing() {
    let f = facts(STACKS, &[("json", &[("node-fastify", 1.0)])]);
    let c = judge_claim(
        &claim(vec![
            test(Measure::WsMessages, &["ws-echo"], Expect::Better, 0.1),
            test(Measure::Throughput, &["json-1024"], Expect::Better, 0.1),
        ]),
        &f,
        &pricing(),
    );
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert_eq!(c.missing.len(), 2, "{:?}", c.missing);
    assert!(
        c.missing[0].contains("ws_messages on ws-echo for Node.js")
            && c.missing[0].contains("(workload ws-echo not in run 7, for all 2)")
            && c.missing[0].contains("no run judged has ws-echo (run 7)")
            && c.missing[0].contains("a WebSocket workload (ws-echo, ws-room)"),
        "{}",
        c.missing[0]
    );
    assert!(
        c.missing[1].contains("workload json-1024 not in run 7"),
        "{}",
        c.missing[1]
    );
    assert!(c.summary.starts_with("not measured:"), "{}", c.summary);
    assert!(c.tests.iter().all(|t| t.ratio.is_none()));
}

#[test]
fn a_missing_audit_and_a_missing_capacity_are_never_guessed() {
    let f = facts(STACKS, &[("json-1024", &[("node-fastify", 5_000.0)])]);
    let mut sec = test(Measure::AuditScore, &["audit"], Expect::Better, 0.0);
    sec.favoured = Side::Contestants(vec!["python-django".into()]);
    sec.other = Side::Contestants(vec!["node-express".into()]);
    let cost_test = test(Measure::CostPerMillion, &["json-1024"], Expect::Better, 0.1);
    let c = judge_claim(&claim(vec![sec, cost_test]), &f, &pricing());
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert!(
        c.missing[0].contains("no audit stored with this run"),
        "{:?}",
        c.missing
    );
    assert!(c.missing[1].contains("never guessed"), "{:?}", c.missing);
}

#[test]
fn exact_counts_and_cost_from_capacity() {
    let mut f = facts(STACKS, &[]);
    f.audit = [("python-django", 70, 30), ("node-express", 20, 250)]
        .iter()
        .map(|(c, score, deps)| AuditFacts {
            contestant: c.to_string(),
            grade: None,
            score: Some(*score),
            findings: 3,
            hostile_passed: None,
            hostile_failed: None,
            deps_direct: None,
            deps_total: Some(*deps),
        })
        .collect();
    let mut sec = test(Measure::AuditScore, &["audit"], Expect::Better, 0.0);
    sec.favoured = Side::Contestants(vec!["python-django".into()]);
    sec.other = Side::Contestants(vec!["node-express".into()]);
    let c = judge_claim(&claim(vec![sec.clone()]), &f, &pricing());
    assert_eq!(c.outcome, Outcome::Supported, "{}", c.summary);

    // An equal score is a tie, and a tie does not make one side better, even at margin 0.
    let mut tied = f.clone();
    tied.audit[1].score = Some(70);
    let c = judge_claim(&claim(vec![sec]), &tied, &pricing());
    assert_eq!(c.outcome, Outcome::Refuted, "{}", c.summary);
    assert!(
        c.tests[0].why.contains("a tie, not better"),
        "{}",
        c.tests[0].why
    );

    // Fewer packages is better: Node.js as the favoured side of "fewer" is refuted.
    let deps = test(Measure::Dependencies, &["audit"], Expect::Better, 0.0);
    let c = judge_claim(&claim(vec![deps]), &f, &pricing());
    assert_eq!(c.outcome, Outcome::Refuted, "{}", c.summary);

    for (name, rate) in [("node-fastify", 4_000.0), ("python-fastapi", 1_000.0)] {
        f.capacity.push(capacity("json-1024", name, rate, 80));
    }
    let cost_test = test(Measure::CostPerMillion, &["json-1024"], Expect::Better, 0.1);
    let c = judge_claim(&claim(vec![cost_test]), &f, &pricing());
    assert_eq!(c.outcome, Outcome::Supported, "{}", c.summary);
}

#[test]
fn framework_spread_larger_than_the_language_gap_is_said() {
    let f = facts(
        STACKS,
        &[(
            "json",
            &[
                ("node-express", 10_000.0),
                ("node-fastify", 40_000.0),
                ("python-fastapi", 20_000.0),
                ("python-django", 15_000.0),
            ],
        )],
    );
    let c = judge_claim(
        &claim(vec![test(
            Measure::Throughput,
            &["json"],
            Expect::Better,
            0.25,
        )]),
        &f,
        &pricing(),
    );
    assert_eq!(c.outcome, Outcome::Supported);
    let note = c.tests[0].framework_note.as_deref().unwrap();
    assert!(
        note.contains("within Node.js, node-fastify and node-express differ ×4.00"),
        "{note}"
    );
    assert!(
        note.contains("more than the ×2.00 between the sides"),
        "{note}"
    );
    // Fastify beats both Python frameworks by 25%; Express beats neither.
    assert!(note.contains("2 of 4 contestant pairs"), "{note}");
}

#[test]
fn numpy_is_judged_per_size_with_the_crossover() {
    let contestants = &[
        ("node-http", "Node.js"),
        ("python-fastapi-numpy", "Python"),
        ("python-fastapi", "Python"),
    ];
    // The issue's own measurements (faceoff bench -c 4), and a middle size.
    let f = facts(
        contestants,
        &[
            (
                "compute-1k",
                &[
                    ("node-http", 5_954.0),
                    ("python-fastapi-numpy", 1_045.0),
                    ("python-fastapi", 833.0),
                ],
            ),
            (
                "compute",
                &[
                    ("node-http", 900.0),
                    ("python-fastapi-numpy", 700.0),
                    ("python-fastapi", 90.0),
                ],
            ),
            (
                "compute-1m",
                &[
                    ("node-http", 48.0),
                    ("python-fastapi-numpy", 86.0),
                    ("python-fastapi", 2.7),
                ],
            ),
        ],
    );
    let file = claims::load(claims::DEFAULT_CLAIMS).unwrap();
    let numpy = file.claims.iter().find(|c| c.id == "numpy").unwrap();
    let c = judge_claim(numpy, &f, &pricing());
    let vs_node: Vec<Outcome> = c.tests[..3].iter().map(|t| t.outcome).collect();
    assert_eq!(
        vs_node,
        [Outcome::Refuted, Outcome::Refuted, Outcome::Supported],
        "{:#?}",
        c.tests
    );
    assert_eq!(c.outcome, Outcome::Depends, "{}", c.summary);
    assert_eq!(c.crossovers.len(), 1, "{:?}", c.crossovers);
    let x = &c.crossovers[0];
    assert_eq!((x.below, x.above), (10_000, 1_000_000));
    // log-log interpolation of the ratio to the 1/1.1 threshold between the two sizes.
    let (r1, r2) = (700.0 / 900.0_f64, 86.0 / 48.0_f64);
    let t = 1.0 / 1.1_f64;
    let expected = (10_000f64.ln()
        + (t.ln() - r1.ln()) * (1_000_000f64.ln() - 10_000f64.ln()) / (r2.ln() - r1.ln()))
    .exp();
    assert!((x.estimate.unwrap() - expected).abs() < 1e-6 * expected);
    assert!(c.summary.contains("crossover near n ="), "{}", c.summary);
}

#[test]
fn points_need_a_margin_beyond_noise() {
    let f = facts(
        STACKS,
        &[(
            "json",
            &[("node-fastify", 10_500.0), ("python-fastapi", 10_000.0)],
        )],
    );
    // p99 = 4e6 / rps: 381 µs vs 400 µs, 5% apart: within noise for a figure without interval.
    let c = judge_claim(
        &claim(vec![test(Measure::P99, &["json"], Expect::Better, 0.0)]),
        &f,
        &pricing(),
    );
    assert_eq!(c.outcome, Outcome::Inconclusive, "{}", c.tests[0].why);
    assert!(c.tests[0].why.contains("no interval"));
}

#[test]
fn profile_ranks_with_reasons_noise_and_cost() {
    let mut f = facts(
        STACKS,
        &[
            (
                "db",
                &[
                    ("node-fastify", 10_000.0),
                    ("python-fastapi", 9_900.0),
                    ("node-express", 5_000.0),
                ],
            ),
            (
                "queries",
                &[
                    ("node-fastify", 2_000.0),
                    ("python-fastapi", 2_000.0),
                    ("node-express", 1_000.0),
                ],
            ),
        ],
    );
    let p = profile::load("rest-crud").unwrap();
    let v = profile::rank(&p, Overrides::default(), &f, &pricing());
    let names: Vec<&str> = v.ranking.iter().map(|r| r.contestant.as_str()).collect();
    assert_eq!(
        names[..3],
        ["node-fastify", "python-fastapi", "node-express"]
    );
    // python-django has no figure on any weighted workload: unranked, last.
    assert_eq!(v.ranking[3].place, None);
    assert_eq!(
        v.ranking[1].caveats[0],
        Caveat::WithinNoise {
            of: "node-fastify".into()
        }
    );
    assert!(v.ranking[0].reasons[0].starts_with("db: 1.00 of the best"));
    assert!(v.ranking.iter().all(|r| r.cost.is_none()));
    assert!(v.notes.iter().any(|n| n.contains("capacity under the SLO")));
    assert!(v
        .notes
        .iter()
        .any(|n| n.contains("not in this run: updates, users, fortunes")));
    assert!(v.notes.iter().any(|n| n.contains("no audit stored")));

    // With capacity on the heaviest workload: ranked on it, and priced.
    for (name, rate) in [
        ("node-fastify", 3_000.0),
        ("python-fastapi", 1_000.0),
        ("node-express", 2_000.0),
    ] {
        f.capacity.push(capacity("db", name, rate, 60));
    }
    let v = profile::rank(
        &p,
        Overrides {
            target_rps: Some(7_000.0),
            slo_p99_us: None,
        },
        &f,
        &pricing(),
    );
    let fastify = &v.ranking[0];
    assert_eq!(fastify.contestant, "node-fastify");
    let cost = fastify.cost.as_ref().unwrap();
    // 7,000 / (3,000 x 0.7) = 3.33 -> 4 instances of 1 vCPU, 2 GB.
    assert_eq!(cost.instances.point, 4.0);
    assert!((cost.per_month.point - 4.0 * 36.0401).abs() < 1e-9);
    // A stricter SLO than the capacity was measured at: no capacity, no cost, never guessed.
    let v = profile::rank(
        &p,
        Overrides {
            target_rps: None,
            slo_p99_us: Some(20_000.0),
        },
        &f,
        &pricing(),
    );
    assert!(v.ranking.iter().all(|r| r.cost.is_none()));
    assert!(v.ranking[0]
        .cost_missing
        .as_deref()
        .unwrap()
        .contains("p99 < 20 ms"));
}

/// Node.js and Python contestants with idle figures on `idle-http` at 1,000 and 10,000; the
/// Python one did not reach 10,000 when `python_reached` is false.
fn idle_facts(python_reached: bool) -> Facts {
    use super::facts::{IdleFacts, IdlePoint};
    let mut f = facts(STACKS, &[]);
    let point = |target: u32, pss_kib: f64, p99: f64, reached: bool| IdlePoint {
        target,
        held: reached.then_some(u64::from(target)),
        refused: reached.then_some(0),
        dropped: reached.then_some(0),
        pss_per_1k_bytes: reached.then_some(pss_kib * 1024.0),
        probe_p50_us: reached.then_some(p99 / 2.0),
        probe_p99_us: reached.then_some(p99),
        not_reached: (!reached).then(|| "the descriptor limit is 4096; raise it".to_string()),
    };
    for (name, pss, p99, top) in [
        ("node-fastify", 2048.0, 1_000.0, true),
        ("python-fastapi", 8192.0, 4_000.0, python_reached),
    ] {
        f.idle.push(IdleFacts {
            workload: "idle-http".into(),
            contestant: name.into(),
            points: vec![point(1_000, pss, p99, true), point(10_000, pss, p99, top)],
        });
    }
    f
}

#[test]
fn idle_figures_are_compared_at_the_largest_count_with_what_was_held() {
    let mut t = test(Measure::IdlePssPer1k, &["idle-http"], Expect::Better, 0.25);
    t.favoured = Side::Contestants(vec!["node-fastify".into()]);
    t.other = Side::Contestants(vec!["python-fastapi".into()]);
    let c = judge_claim(&claim(vec![t.clone()]), &idle_facts(true), &pricing());
    assert_eq!(c.outcome, Outcome::Supported, "{}", c.summary);
    let row = &c.tests[0].rows[0];
    assert_eq!(row.value, Some(2.0), "2 MiB per 1,000");
    assert_eq!(row.run_id, Some(7));
    assert!(
        row.shown.contains(
            "1,000: 1,000 held, 0 refused, 0 dropped, probe p99 1.0 ms; 10,000: 10,000 held"
        ),
        "{}",
        row.shown
    );

    // Python did not reach 10,000: not compared at 1,000 instead, and the reason is given.
    let c = judge_claim(&claim(vec![t]), &idle_facts(false), &pricing());
    assert_eq!(c.outcome, Outcome::Inconclusive);
    assert!(
        c.missing[0].contains(
            "python-fastapi: 10,000 idle connections not reached: the descriptor limit is 4096; raise it"
        ),
        "{:?}",
        c.missing
    );
}

#[test]
fn websocket_figures_judge_echo_rate_room_latency_and_delivery() {
    use super::facts::WsFacts;
    use crate::store::RoomCounts;
    let mut f = facts(STACKS, &[]);
    for (name, rate, p99, delivered) in [
        ("node-fastify", 20_000.0, 2_000.0, 1_000),
        ("python-fastapi", 8_000.0, 9_000.0, 990),
    ] {
        for workload in ["ws-echo", "ws-room"] {
            let room = (workload == "ws-room").then_some(RoomCounts {
                publishers: 1,
                subscribers: 10,
                expected: 1_000,
                delivered,
                lost: 1_000 - delivered,
                ..RoomCounts::default()
            });
            f.ws.push(WsFacts {
                workload: workload.into(),
                contestant: name.into(),
                messages_per_s: Some(interval(rate, rate * 0.98, rate * 1.02)),
                p50_us: Some(p99 / 3.0),
                p99_us: Some(p99),
                trials: 6,
                engine_limited: None,
                no_data: None,
                messages_sent: 100,
                room,
            });
        }
    }
    let mut delivered = test(
        Measure::WsDelivered,
        &["ws-room"],
        Expect::Competitive,
        0.001,
    );
    delivered.margin = 0.001;
    let c = judge_claim(
        &claim(vec![
            test(Measure::WsMessages, &["ws-echo"], Expect::Better, 0.1),
            test(Measure::WsP99, &["ws-room"], Expect::Better, 0.1),
            delivered,
        ]),
        &f,
        &pricing(),
    );
    let outcomes: Vec<Outcome> = c.tests.iter().map(|t| t.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Supported, Outcome::Supported, Outcome::Supported],
        "{}",
        c.summary
    );
    let python = c.tests[2]
        .rows
        .iter()
        .find(|r| r.contestant == "python-fastapi")
        .unwrap();
    assert!(
        python.shown.contains("990 of 1,000 delivered, 10 lost"),
        "{}",
        python.shown
    );
    // An echo has no fan-out to count.
    let c = judge_claim(
        &claim(vec![test(
            Measure::WsDelivered,
            &["ws-echo"],
            Expect::Competitive,
            0.001,
        )]),
        &f,
        &pricing(),
    );
    assert!(
        c.missing[0].contains("ws-echo is not a room (no fan-out counts)"),
        "{:?}",
        c.missing
    );
}

#[test]
fn scaling_is_read_at_the_most_workers_and_never_falls_back_to_one() {
    use super::facts::{WorkerPoint, WorkerSweep};
    let mut f = facts(STACKS, &[]);
    let point = |workers: u32, rps: f64, efficiency: Option<f64>, why: Option<&str>| WorkerPoint {
        workers,
        workload: format!("compute.w{workers}"),
        rps: Some(interval(rps, rps * 0.98, rps * 1.02)),
        cores_used: Some(f64::from(workers) * 0.95),
        pss_bytes: Some(50 << 20),
        efficiency,
        not_ranked: why.map(String::from),
    };
    for (name, two) in [
        ("node-fastify", point(2, 1_900.0, Some(0.95), None)),
        (
            "python-fastapi",
            point(
                2,
                180.0,
                None,
                Some("engine-limited: the load engine took 14%"),
            ),
        ),
    ] {
        f.worker_sweeps.push(WorkerSweep {
            workload: "compute".into(),
            contestant: name.into(),
            deployment: None,
            share_engine_cpus: true,
            points: vec![point(1, 1_000.0, Some(1.0), None), two],
        });
    }
    let t = test(
        Measure::ScalingEfficiency,
        &["compute"],
        Expect::Better,
        0.1,
    );
    let c = judge_claim(&claim(vec![t]), &f, &pricing());
    // Python's 1-worker efficiency (1.0 by definition) does not stand in for the missing one.
    assert_eq!(c.outcome, Outcome::Inconclusive, "{}", c.summary);
    assert!(
        c.missing[0].contains(
            "python-fastapi: no figure at 2 workers: engine-limited: the load engine took 14%"
        ),
        "{:?}",
        c.missing
    );
    let node = c.tests[0]
        .rows
        .iter()
        .find(|r| r.contestant == "node-fastify")
        .unwrap();
    assert_eq!(node.value, Some(0.95));
    assert!(
        node.shown.contains(
            "1,000 req/s at 1 worker (0.95 cores used), 1,900 req/s at 2 workers (1.90 cores used)"
        ),
        "{}",
        node.shown
    );
}

#[test]
fn several_runs_each_test_in_the_run_of_its_suite() {
    use super::judge::{judge_claim_in, pick_run};
    // An older standard run and a compute run both hold `compute`; the test prefers its suite.
    let mut standard = facts(STACKS, &[("compute", &[("node-fastify", 900.0)])]);
    standard.suite = "standard".into();
    let mut compute = facts(
        STACKS,
        &[(
            "compute",
            &[("node-fastify", 950.0), ("python-fastapi", 700.0)],
        )],
    );
    compute.run_id = 9;
    compute.suite = "compute".into();
    let runs = [standard, compute];
    let mut t = test(Measure::Throughput, &["compute"], Expect::Better, 0.1);
    t.suite = Some("compute".into());
    assert_eq!(pick_run(&runs, &t, "compute").unwrap().run_id, 9);
    let c = judge_claim_in(&claim(vec![t.clone()]), &runs, &pricing());
    assert_eq!(c.tests[0].run.as_ref().unwrap().id, 9);
    assert!(c.tests[0].rows.iter().all(|r| r.run_id == Some(9)));
    assert_eq!(c.outcome, Outcome::Supported, "{}", c.summary);
    // Without a run of its suite, any run that holds the workload.
    t.suite = Some("mine".into());
    assert_eq!(pick_run(&runs, &t, "compute").unwrap().run_id, 7);
    // None holds it: each contestant's reason, the runs searched, and the suite to run.
    let mut t = test(Measure::IdleProbeP99, &["idle-http"], Expect::Better, 0.1);
    t.suite = Some("scale".into());
    let c = judge_claim_in(&claim(vec![t]), &runs, &pricing());
    assert_eq!(
        c.missing[0],
        "idle_probe_p99 on idle-http for Node.js (workload idle-http not in run 7, for all 2) \
         and Python (workload idle-http not in run 7, for all 2); no run judged has idle-http \
         (runs 7 of suite standard, 9 of suite compute); it comes from the scale suite \
         (`faceoff run --suite scale`)"
    );
    assert!(c.tests[0].run.is_none());
}
