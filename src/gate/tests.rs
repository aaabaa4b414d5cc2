use super::*;

fn interval(point: f64, lo: f64, hi: f64) -> Interval {
    Interval {
        point,
        lo,
        hi,
        coverage: 0.97,
        short_of_confidence: false,
    }
}

fn figure(point: f64, lo: f64, hi: f64) -> Figure {
    Figure {
        interval: interval(point, lo, hi),
        lower_bound: false,
    }
}

#[test]
fn conditions_parse_with_units_into_the_metric_unit() {
    let t = parse_cli("p99 < 50ms").unwrap();
    assert_eq!(
        (t.metric, t.op, t.limit),
        (Metric::P99, Op::Below, 50_000.0)
    );
    assert_eq!((t.workload, t.contestant), (None, None));
    assert_eq!(t.condition, "p99 < 50ms");
    let t = parse_cli("p99<50ms").unwrap();
    assert_eq!(t.condition, "p99 < 50ms", "spaces are normalized");
    let t = parse_cli("errors < 0.1%").unwrap();
    assert_eq!(t.metric, Metric::Errors);
    assert!((t.limit - 0.001).abs() < 1e-12);
    assert_eq!(parse_cli("errors<=0.001").unwrap().op, Op::AtMost);
    let t = parse_cli("rps > 1_000").unwrap();
    assert_eq!((t.metric, t.op, t.limit), (Metric::Rps, Op::Above, 1000.0));
    assert_eq!(parse_cli("throughput >= 1e3").unwrap().limit, 1000.0);
    assert_eq!(parse_cli("p50 < 1.5s").unwrap().limit, 1_500_000.0);
    assert_eq!(parse_cli("p999 < 800us").unwrap().limit, 800.0);
    assert_eq!(
        parse_cli("pss < 2MiB").unwrap().limit,
        2.0 * 1024.0 * 1024.0
    );
    assert_eq!(parse_cli("cpu_per_1k < 1s").unwrap().limit, 1000.0);
    assert_eq!(parse_cli("errors < 1e-3").unwrap().limit, 0.001);
}

#[test]
fn scopes_name_a_workload_a_contestant_or_both() {
    let t = parse_cli("json:rps>1000").unwrap();
    assert_eq!(t.workload.as_deref(), Some("json"));
    assert_eq!(t.contestant, None);
    assert_eq!(t.to_string(), "json:rps > 1000");
    let t = parse_cli("json/node-http: p99 < 20ms").unwrap();
    assert_eq!(
        (t.workload.as_deref(), t.contestant.as_deref()),
        (Some("json"), Some("node-http"))
    );
    assert_eq!(t.to_string(), "json/node-http:p99 < 20ms");
    let t = parse_cli("*/rust-axum:rps > 5000").unwrap();
    assert_eq!(
        (t.workload, t.contestant.as_deref()),
        (None, Some("rust-axum"))
    );
    assert_eq!(t.source, Source::CommandLine);
    let t = parse_cli("*:p99<1s").unwrap();
    assert_eq!((t.workload, t.contestant), (None, None));
}

#[test]
fn mistakes_name_the_expression_the_column_and_the_forms() {
    let cases = [
        ("p98 < 50ms", 1, "unknown metric 'p98'"),
        ("p99 = 50ms", 5, "expected an operator"),
        ("p99 < ms", 7, "expected a number after '<'"),
        ("p99 < 50", 9, "takes a duration with its unit"),
        ("p99 < 50 parsecs", 10, "takes a duration"),
        ("rps > 1000ms", 11, "plain number of requests"),
        ("errors < 150%", 10, "between 0 and 100%"),
        ("pss < 20MB", 9, "KiB, MiB or GiB"),
        ("", 1, "expected a metric"),
        ("json/:p99<1s", 6, "contestant is empty"),
        (":p99<1s", 1, "names no workload"),
        ("js on:p99<1s", 1, "is not a workload or contestant name"),
        ("p99 < 1.2.3ms", 7, "'1.2.3' is not a number"),
    ];
    for (text, column, what) in cases {
        let e = parse_cli(text).expect_err(text);
        assert_eq!(e.column, column, "{text}: {e}");
        let shown = e.to_string();
        assert!(shown.contains(what), "{text}: {shown}");
        assert!(shown.contains(&format!("threshold '{text}'")), "{shown}");
        assert!(shown.contains("'p99 < 50ms', 'errors < 0.1%'"), "{shown}");
    }
}

#[test]
fn a_suite_condition_takes_its_scope_from_keys() {
    let e = parse_condition("json:p99 < 5ms").unwrap_err();
    assert_eq!(e.column, 5);
    assert!(e.message.contains("workload = "), "{e}");
    let t = parse_condition("p99 < 5ms").unwrap();
    assert_eq!(t.source, Source::Suite);
}

#[test]
fn a_threshold_passes_only_when_the_whole_interval_is_on_its_side() {
    let below = parse_cli("p99 < 50ms").unwrap();
    let cases = [
        (figure(40e3, 35e3, 45e3), Outcome::Pass),
        (figure(60e3, 55e3, 65e3), Outcome::Fail),
        (figure(48e3, 45e3, 52e3), Outcome::Inconclusive),
        // The limit itself is on the wrong side of '<' ...
        (figure(50e3, 50e3, 50e3), Outcome::Fail),
    ];
    for (f, want) in cases {
        let (got, reason) = judge(&below, &f);
        assert_eq!(got, want, "{reason}");
    }
    // ... and on the right side of '<='.
    let at_most = parse_cli("p99 <= 50ms").unwrap();
    assert_eq!(judge(&at_most, &figure(50e3, 50e3, 50e3)).0, Outcome::Pass);
    assert_eq!(
        judge(&at_most, &figure(50e3, 49e3, 51e3)).0,
        Outcome::Inconclusive
    );

    let above = parse_cli("rps > 1000").unwrap();
    assert_eq!(
        judge(&above, &figure(1200.0, 1100.0, 1300.0)).0,
        Outcome::Pass
    );
    assert_eq!(
        judge(&above, &figure(900.0, 800.0, 1000.0)).0,
        Outcome::Fail
    );
    let (outcome, reason) = judge(&above, &figure(1000.0, 950.0, 1050.0));
    assert_eq!(outcome, Outcome::Inconclusive);
    assert!(reason.contains("straddles 1,000 req/s"), "{reason}");
    assert!(reason.contains("fails the gate"), "{reason}");
}

#[test]
fn a_lower_bound_can_pass_a_floor_but_never_a_ceiling() {
    let mut f = figure(2000.0, 1900.0, 2100.0);
    f.lower_bound = true;
    let (outcome, reason) = judge(&parse_cli("rps > 1000").unwrap(), &f);
    assert_eq!(outcome, Outcome::Pass);
    assert!(reason.contains("at least"), "{reason}");
    assert_eq!(
        judge(&parse_cli("rps < 3000").unwrap(), &f).0,
        Outcome::Inconclusive
    );
}

#[test]
fn too_few_trials_are_said() {
    let mut f = figure(40e3, 30e3, 45e3);
    f.interval.short_of_confidence = true;
    f.interval.coverage = 0.75;
    let (outcome, reason) = judge(&parse_cli("p99 < 50ms").unwrap(), &f);
    assert_eq!(outcome, Outcome::Pass);
    assert!(reason.contains("75% coverage"), "{reason}");
}

#[test]
fn the_gate_fails_on_anything_but_pass() {
    let row = |outcome| GateResult {
        threshold: "p99 < 50ms".into(),
        source: Source::CommandLine,
        workload: Some("json".into()),
        contestant: Some("a".into()),
        metric: Metric::P99,
        op: Op::Below,
        limit: 50e3,
        figure: None,
        outcome,
        reason: String::new(),
    };
    assert!(GateReport::of(vec![row(Outcome::Pass), row(Outcome::Pass)]).passed);
    for bad in [Outcome::Fail, Outcome::Inconclusive, Outcome::NoData] {
        let report = GateReport::of(vec![row(Outcome::Pass), row(bad)]);
        assert!(!report.passed, "{bad:?}");
        assert!(report.summary().contains("FAILED"), "{}", report.summary());
    }
    let c = GateReport::of(vec![row(Outcome::NoData), row(Outcome::Inconclusive)]).counts;
    assert_eq!((c.pass, c.fail, c.inconclusive, c.no_data), (0, 0, 1, 1));
}
