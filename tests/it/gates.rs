//! Issue 13: gates. Thresholds on a real run (pass, fail, inconclusive, no data, and their exit
//! codes), the same run gated again by `show` and `report`, bad expressions, and
//! `diff --fail-on-regression` with `--noise` validation on two runs stored through the store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faceoff::store::{
    ContestantRecord, ContestantStatus, Environment, NewRun, RunSettings, RunStatus, Store,
    TrialMetrics, TrialQuality, TrialRecord,
};

use crate::common::{faceoff, server_cpu, TempContestant};

fn tempdir() -> PathBuf {
    tempfile::tempdir().unwrap().keep()
}

/// `faceoff run` with its database and reports in `dir`.
fn run_in(dir: &Path) -> Command {
    let mut cmd = faceoff();
    cmd.arg("run")
        .env("FACEOFF_RESULTS_DIR", dir)
        .env("FACEOFF_DB", dir.join("faceoff.db"));
    cmd
}

/// `faceoff ARGS --db DIR/faceoff.db`.
fn stored(dir: &Path, args: &[&str]) -> Output {
    faceoff()
        .args(args)
        .arg("--db")
        .arg(dir.join("faceoff.db"))
        .output()
        .unwrap()
}

fn text(out: &Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A suite of one `/healthz` workload with three short rounds and two suite thresholds scoped
/// to the contestant `steady`.
fn gated_suite(dir: &Path) -> PathBuf {
    let path = dir.join("gated.toml");
    std::fs::write(
        &path,
        "name = 'gated'\n[defaults]\nwarmup = '200ms'\ntrial = '300ms'\nmin_rounds = 3\n\
         max_rounds = 3\nconnections = 4\n\
         [[workload]]\nname = 'healthz'\n[[workload.request]]\npath = '/healthz'\n\
         [[threshold]]\nexpr = 'p99 < 10s'\ncontestant = 'steady'\n\
         [[threshold]]\nexpr = 'errors < 1%'\nworkload = 'healthz'\ncontestant = 'steady'\n",
    )
    .unwrap();
    path
}

/// A contestant that needs a runtime no machine has: skipped, never measured.
fn exotic() -> TempContestant {
    let t = TempContestant::new("exotic", "exec node server.js", "");
    let manifest = t.dir().join("contestant.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "requires = [\"node\"]",
        "requires = [\"node\", \"faceoff-no-such-runtime\"]",
    );
    std::fs::write(&manifest, text).unwrap();
    t
}

fn results_json(dir: &Path, run_id: i64) -> serde_json::Value {
    let path = dir.join(run_id.to_string()).join("results.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One real run whose thresholds all pass (exit 0), then gated again without measuring: a
/// failing threshold, one whose interval straddles its limit, and ones without data (a
/// skipped contestant, a workload the run does not have) each exit 3 with the reason; and a
/// second run whose own threshold fails exits 3 with every result and report written.
#[test]
fn gates_pass_fail_are_inconclusive_or_have_no_data_with_their_exit_codes() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let steady = TempContestant::new("steady", "exec node server.js", "");
    let skipped = exotic();
    let out = run_in(&dir)
        .arg("--suite")
        .arg(gated_suite(&dir))
        .arg("--contestant")
        .arg(steady.dir())
        .args(["--only", "steady"])
        .arg("--contestant")
        .arg(skipped.dir())
        .args(["--only", "exotic"])
        .args(["--no-calibration", "--audit", "off"])
        .args([
            "--threshold",
            "*/steady:rps > 1",
            "--threshold",
            "healthz/steady:p50<10s",
        ])
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&out);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("gates passed: 4 of 4 results"), "{stdout}");
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let id = run.run.id.to_string();
    assert_eq!(
        run.settings.as_ref().unwrap().thresholds,
        ["*/steady:rps > 1", "healthz/steady:p50 < 10s"],
        "the command line's thresholds are stored with the run"
    );
    let json = results_json(&dir, run.run.id);
    assert_eq!(json["gates"]["passed"], true, "{}", json["gates"]);
    assert_eq!(json["gates"]["counts"]["pass"], 4);
    let validator = crate::report::schema();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let md = std::fs::read_to_string(dir.join(&id).join("summary.md")).unwrap();
    assert!(md.contains("## Gates"), "{md}");
    let html = std::fs::read_to_string(dir.join(&id).join("report.html")).unwrap();
    assert!(
        html.contains(r#"<section id="gates">"#) && html.contains("gates passed: 4 of 4 results"),
        "the HTML report has the gates section"
    );
    let section = &html[html.find(r#"<section id="gates">"#).unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains("<code>healthz&#x2f;steady:p50 &lt; 10s</code>"),
        "{section}"
    );

    // Fail: the whole interval misses the limit.
    let (code, stdout, stderr) = text(&stored(&dir, &["show", &id, "--threshold", "rps < 1"]));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("FAIL") && stdout.contains("the whole interval misses"),
        "{stdout}"
    );
    assert!(
        stderr.contains("gates FAILED") && stderr.contains("exit status 3"),
        "{stderr}"
    );

    // Inconclusive: a limit at the median of three different trials lies inside their range.
    let samples: Vec<f64> = run
        .trials
        .iter()
        .filter(|t| t.contestant == "steady" && t.metrics.counts())
        .map(|t| t.metrics.rps)
        .collect();
    assert_eq!(samples.len(), 3, "{samples:?}");
    let median = faceoff::stats::median(&samples).unwrap();
    let limit = format!("healthz/steady:rps > {median}");
    let (code, stdout, stderr) = text(&stored(&dir, &["show", &id, "--threshold", &limit]));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("INCONCLUSIVE") && stdout.contains("fails the gate"),
        "{stdout}"
    );

    // No data: unscoped, the skipped contestant is judged too, and a workload not in the run.
    let out = stored(
        &dir,
        &[
            "report",
            &id,
            "--threshold",
            "p99 < 10s",
            "--threshold",
            "db:p99 < 10s",
        ],
    );
    let (code, stdout, stderr) = text(&out);
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("NO DATA")
            && stdout.contains("exotic was not measured: skipped: needs faceoff-no-such-runtime"),
        "{stdout}"
    );
    assert!(
        stdout.contains("workload 'db' is not in this run"),
        "{stdout}"
    );
    let json = results_json(&dir, run.run.id);
    let counts = &json["gates"]["counts"];
    assert_eq!(
        (&counts["pass"], &counts["no_data"]),
        (&5.into(), &2.into()),
        "{}",
        json["gates"]
    );
    let row = json["gates"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["contestant"] == "exotic")
        .unwrap();
    assert_eq!(row["outcome"], "no_data");
    assert!(row["figure"].is_null(), "{row}");

    // A run whose own threshold fails: exit 3, after the results and reports are written.
    let dir2 = tempdir();
    let out = run_in(&dir2)
        .arg("--suite")
        .arg(gated_suite(&dir2))
        .arg("--contestant")
        .arg(steady.dir())
        .args(["--only", "steady"])
        .args([
            "--no-calibration",
            "--audit",
            "off",
            "--threshold",
            "p99 < 1us",
        ])
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&out);
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("wrote ") && stdout.contains("FAIL"),
        "{stdout}"
    );
    let json = results_json(&dir2, 1);
    assert_eq!(json["gates"]["passed"], false);
    assert_eq!(json["gates"]["counts"]["fail"], 1);
    assert_eq!(json["run"]["status"], "complete");
}

/// Mistakes in thresholds fail before anything is measured: a malformed expression (a usage
/// error, 2) names the expression, the column and the accepted forms; a scope the run does
/// not have (1) names what it has; a suite file's mistake has its line and column.
#[test]
fn bad_thresholds_are_refused_before_any_work() {
    let dir = tempdir();
    let steady = TempContestant::new("steady", "exec node server.js", "");
    let out = run_in(&dir)
        .args(["--threshold", "p99 << 50ms"])
        .output()
        .unwrap();
    let (code, _, stderr) = text(&out);
    assert_eq!(code, Some(2), "{stderr}");
    for part in [
        "threshold 'p99 << 50ms', column 6",
        "expected a number after '<'",
        "'p99 < 50ms', 'errors < 0.1%', 'rps > 1000'",
        "'WORKLOAD/CONTESTANT:...'",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }

    let out = run_in(&dir)
        .arg("--suite")
        .arg(gated_suite(&dir))
        .arg("--contestant")
        .arg(steady.dir())
        .args(["--only", "steady"])
        .args(["--threshold", "*/ghost:p99 < 1s"])
        .output()
        .unwrap();
    let (code, _, stderr) = text(&out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "names contestant 'ghost', which is not in this run; its contestants are steady"
        ),
        "{stderr}"
    );

    let suite = dir.join("bad.toml");
    std::fs::write(
        &suite,
        "[[workload]]\nname = 'json'\n[[workload.request]]\npath = '/json'\n\
         [[threshold]]\nexpr = 'p99 < 50'\n\
         [[threshold]]\nexpr = 'rps > 10'\nworkload = 'jsn'\n\
         [[threshold]]\nexpr = 'p99 < 5ms'\nwhen = 'always'\n",
    )
    .unwrap();
    let out = run_in(&dir)
        .arg("--suite")
        .arg(&suite)
        .arg("--contestant")
        .arg(steady.dir())
        .args(["--only", "steady"])
        .output()
        .unwrap();
    let (code, _, stderr) = text(&out);
    assert_eq!(code, Some(1), "{stderr}");
    // The unknown key stops the TOML schema first.
    assert!(
        stderr.contains("bad.toml:12:1") && stderr.contains("unknown field `when`"),
        "{stderr}"
    );
    std::fs::write(
        &suite,
        std::fs::read_to_string(&suite)
            .unwrap()
            .replace("when = 'always'\n", ""),
    )
    .unwrap();
    let out = run_in(&dir)
        .arg("--suite")
        .arg(&suite)
        .arg("--contestant")
        .arg(steady.dir())
        .args(["--only", "steady"])
        .output()
        .unwrap();
    let (code, _, stderr) = text(&out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("bad.toml:6:17: threshold 'p99 < 50', column 9: p99 takes a duration"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.toml:9:12: threshold 'rps > 10': the suite has no workload 'jsn'; its workloads are json"),
        "{stderr}"
    );
}

// ---- diff ----------------------------------------------------------------------------------

/// Stores a complete run of one contestant on workload `json` with these trial throughputs.
/// Stores a finished run of workload `json` for contestant `a` with one trial per figure of
/// `rps`, each with the machine-speed probe `probe`.
fn store_run(store: &Store, rps: &[f64], probe: Option<f64>) -> i64 {
    let suite = "[[workload]]\nname = 'json'\n[[workload.request]]\npath = '/json'\n";
    let plan = faceoff::suite::parse_plan(suite, Path::new("diff.toml")).unwrap();
    let settings = RunSettings::new(&plan, vec!["a".into()], vec![1], vec![0], 1, false);
    let run_id = store
        .begin_run(&NewRun {
            suite_name: plan.name.clone(),
            suite_path: "diff.toml".into(),
            suite_sha256: plan.source_sha256.clone(),
            suite_toml: suite.into(),
            environment: Environment::default(),
            settings,
        })
        .unwrap();
    store
        .put_contestant(
            run_id,
            &ContestantRecord {
                name: "a".into(),
                display_name: "a".into(),
                stack: "Rust".into(),
                language: "Rust".into(),
                framework: "x".into(),
                versions: serde_json::json!({}),
                status: ContestantStatus::Measured,
                verify: serde_json::json!([]),
                note: String::new(),
                runtime: None,
                deployment: None,
            },
        )
        .unwrap();
    for (round, &rps) in rps.iter().enumerate() {
        let requests = (rps * 2.0) as u64;
        let metrics = TrialMetrics {
            duration_s: 2.0,
            requests,
            rps,
            errors: 0,
            errors_by_kind: Default::default(),
            status: [("200".to_string(), requests)].into(),
            latency_us: [100, 200, 300, 400, 500],
            latency_uncorrected_us: [100, 200, 300, 400, 500],
            latency_mean_us: 120.0,
            late_sends: 0,
            server_cpu_s: 1.0,
            cpu_ms_per_1k: 1.0,
            pss_mean_bytes: 1 << 20,
            pss_peak_bytes: 1 << 20,
            rss_peak_bytes: 1 << 20,
            engine_cpu_s: 0.5,
            engine_busiest: 0.3,
            timeline_rps: vec![rps as u64; 2],
            crashed: false,
            database: None,
            point: None,
            cores: None,
            ws: None,
            quality: TrialQuality {
                connections: Some(64),
                warm_connections: Some(64),
                speed_ns_per_step: probe,
                ..Default::default()
            },
        };
        store
            .put_trial(
                run_id,
                &TrialRecord {
                    workload: "json".into(),
                    contestant: "a".into(),
                    round: round as u32 + 1,
                    started_at: "2026-12-02T08:00:00Z".into(),
                    metrics,
                    histogram: Vec::new(),
                    histogram_uncorrected: Vec::new(),
                },
            )
            .unwrap();
    }
    store.finish_run(run_id, RunStatus::Complete).unwrap();
    run_id
}

/// `diff --fail-on-regression` exits 3 only when a pair regressed outside the noise, and
/// `--noise` must be a fraction in (0, 1): `--noise=-1` used to mark every pair "improved".
#[test]
fn diff_fails_on_a_regression_outside_the_noise_and_checks_the_noise() {
    let dir = tempdir();
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let spread = [1.0, 1.01, 0.99, 1.005, 0.995, 1.0];
    let before = store_run(&store, &spread.map(|s| 1000.0 * s), Some(1.6));
    let slower = store_run(&store, &spread.map(|s| 800.0 * s), Some(1.6));
    let same = store_run(&store, &spread.map(|s| 1001.0 * s), None);
    let (a, b, c) = (before.to_string(), slower.to_string(), same.to_string());

    let (code, stdout, stderr) = text(&stored(&dir, &["diff", &a, &b, "--fail-on-regression"]));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("regressed"), "{stdout}");
    assert!(
        stderr.contains("1 pair(s) regressed outside the noise"),
        "{stderr}"
    );
    // The machine ran at the same speed in both: nothing said about it.
    assert!(!stdout.contains("the machine itself"), "{stdout}");
    // Without the flag a regression is reported, not a failure.
    let (code, stdout, _) = text(&stored(&dir, &["diff", &a, &b]));
    assert_eq!(code, Some(0), "{stdout}");
    // The same drop on a machine that ran 25% slower says so, and still counts as a regression.
    let slow_machine = store_run(&store, &spread.map(|s| 800.0 * s), Some(2.0)).to_string();
    let (code, stdout, _) = text(&stored(
        &dir,
        &["diff", &a, &slow_machine, "--fail-on-regression"],
    ));
    assert_eq!(code, Some(3), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "the machine itself ran 25% slower in run {slow_machine} than in run {a}"
        )),
        "{stdout}"
    );
    // Within the noise, and an improvement, pass.
    let (code, stdout, _) = text(&stored(&dir, &["diff", &a, &c, "--fail-on-regression"]));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("no change outside the noise"), "{stdout}");
    let (code, stdout, _) = text(&stored(&dir, &["diff", &b, &a, "--fail-on-regression"]));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("improved"), "{stdout}");
    // A wide noise threshold hides the 20% drop; a percentage is accepted.
    let (code, stdout, _) = text(&stored(
        &dir,
        &["diff", &a, &b, "--fail-on-regression", "--noise", "50%"],
    ));
    assert_eq!(code, Some(0), "{stdout}");

    for bad in ["-1", "0", "1", "150%", "abc"] {
        let arg = format!("--noise={bad}");
        let (code, stdout, stderr) = text(&stored(&dir, &["diff", &a, &b, &arg]));
        assert_eq!(code, Some(2), "{bad}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(&format!("'{bad}'")) && stderr.contains("3%"),
            "{bad}: {stderr}"
        );
    }
}
