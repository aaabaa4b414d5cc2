//! Reports of a stored run: snapshots of the terminal, Markdown and JSON renderers, escaping of
//! hostile names, the JSON schema, the `faceoff report` command, and the HTML page in a real
//! headless Chromium.

mod browser;
pub(crate) mod chromium;
pub(crate) mod fixture;
mod scale_run;

use faceoff::report::{Exporter, Html, Json, Markdown, ReportData, Standing, Term, Verdict};

use fixture::{build, PAYLOAD};

/// Snapshot settings: times and the faceoff version are replaced, so snapshots only change
/// when the figures or the layout do.
fn filtered() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]");
    settings.add_filter(&regex_escape(env!("CARGO_PKG_VERSION")), "[VERSION]");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

fn render(exporter: &dyn Exporter, data: &ReportData) -> String {
    String::from_utf8(exporter.render(data).unwrap()).unwrap()
}

fn data(hostile: bool) -> ReportData {
    ReportData::from_run(&build(hostile).detail())
}

#[test]
fn terminal_snapshot() {
    let text = render(&Term, &data(false));
    filtered().bind(|| insta::assert_snapshot!("report_term", text));
}

#[test]
fn markdown_snapshot() {
    let text = render(&Markdown, &data(false));
    filtered().bind(|| insta::assert_snapshot!("report_md", text));
}

#[test]
fn json_snapshot() {
    let text = render(&Json, &data(false));
    filtered().bind(|| insta::assert_snapshot!("report_json", text));
}

#[test]
fn figures_follow_from_the_trials() {
    let data = data(false);
    let json = &data.workloads[0];
    assert_eq!(json.name, "json");
    let names: Vec<&str> = json.results.iter().map(|r| r.name.as_str()).collect();
    // axum's second trial was limited by the load engine: its figure is a lower bound and
    // comes after the ranked results.
    assert_eq!(names, ["express", "fastapi", "axum"]);
    let axum = &json.results[2];
    assert_eq!(axum.standing, Standing::LowerBound);
    assert_eq!(axum.rank, None);
    assert!(axum.engine_limited.as_deref().unwrap().contains("93%"));
    let rps = axum.rps.unwrap();
    assert_eq!(rps.median, 151_200.0);
    // Three trials cannot reach 95%: the interval is their range, which covers 75%.
    assert_eq!((rps.lo, rps.hi), (150_900.0, 152_340.0));
    assert!(rps.short_of_confidence);
    assert_eq!(rps.coverage, 0.75);
    assert_eq!(axum.latency_curve.len(), 14);
    let tail = axum.latency_curve.last().unwrap();
    assert!(tail.corrected_us > tail.uncorrected_us, "{tail:?}");
    // Apart, but three trials are short of 95%: indicative, never "ahead".
    assert_eq!(json.results[1].standing, Standing::Indicative);
    assert_eq!(data.headline[0].verdict, Verdict::Indicative);
    assert_eq!(data.headline[0].winner.as_ref().unwrap().name, "express");
    assert_eq!(data.headline[0].not_ranked, 1);

    let db = &data.headline[1];
    assert_eq!(db.winner.as_ref().unwrap().name, "axum");
    assert_eq!(db.runner_up.as_ref().unwrap().name, "express");
    assert_eq!(db.verdict, Verdict::WithinNoise);
    // express's third db trial was contaminated: left out of its figures.
    let express = &data.workloads[1].results[1];
    assert_eq!((express.trials, express.contaminated), (2, 1));
    assert_eq!(express.rps_samples, [23_800.0, 22_900.0]);
    assert_eq!(express.errors, 6);
    assert_eq!(data.method.contaminated.len(), 1);
    let quiet = data.method.quiet_wait.as_ref().unwrap();
    assert_eq!(quiet.trials, 18);
    assert!((quiet.median_s - 0.3).abs() < 1e-9, "{quiet:?}");

    assert_eq!(data.stacks.stacks, ["Node.js", "Python", "Rust"]);
    let python = data.stacks.rows[0].cells[1].as_ref().unwrap();
    assert_eq!(python.contestant.name, "fastapi", "flask failed verify");
    assert!(
        data.stacks.rows[0].cells[2].is_none(),
        "a lower bound is not the stack's figure"
    );
    assert!(data.stacks.rows[0].cells[0].as_ref().unwrap().leader);

    let kinds: Vec<(&str, Option<&str>, Option<&str>)> = data
        .warnings
        .iter()
        .map(|w| {
            (
                w.kind.as_str(),
                w.contestant.as_deref(),
                w.workload.as_deref(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("engine_limited", Some("axum"), Some("json"))),
        "{kinds:?}"
    );
    // The variance warning is raised once per workload, naming run's own options.
    let variance: Vec<_> = data
        .warnings
        .iter()
        .filter(|w| w.kind == "high_variance")
        .collect();
    assert_eq!(variance.len(), 1, "{kinds:?}");
    assert_eq!(variance[0].workload.as_deref(), Some("db"));
    assert!(variance.iter().all(|w| w.contestant.is_none()));
    assert!(
        variance[0].message.contains("--min-rounds 6"),
        "{}",
        variance[0].message
    );
    assert!(!variance[0].message.contains("--cpus") && !variance[0].message.contains("-t "));
    assert!(
        kinds.contains(&("warning", Some("fastapi"), Some("db"))),
        "{kinds:?}"
    );
    assert_eq!(data.method.server_cpus.as_deref(), Some(&[1][..]));
    assert_eq!(data.method.trials_total, 18);
    assert_eq!(data.method.noise.as_ref().unwrap().rel_spread, 0.11);
    assert_eq!(data.contestants[3].verify_failed, 1);
}

/// Issue 8: every way a result can go wrong, in all four formats: no figure is shown as zero
/// or infinite, the reason is given, and the report is written.
#[test]
fn broken_results_show_as_missing_with_their_reason() {
    let data = data(true);
    let json = &data.workloads[0];
    let silent = json.results.iter().find(|r| r.name == "silent").unwrap();
    // One answered trial of three: a figure, with the silent trials and the waiting requests.
    assert_eq!((silent.trials, silent.silent_trials), (1, 2));
    assert_eq!(silent.unanswered, 192);
    assert_eq!(silent.unanswered_max_age_us, Some(10_000_000));
    let ghost = json.results.iter().find(|r| r.name == "ghost").unwrap();
    assert_eq!(ghost.standing, Standing::NoData);
    assert!(ghost.rps.is_none() && ghost.p50_us.is_none() && ghost.cpu_ms_per_1k.is_none());
    assert!(ghost.no_data.as_deref().unwrap().contains("crashed in 3"));
    let db_silent = data.workloads[1]
        .results
        .iter()
        .find(|r| r.name == "silent")
        .unwrap();
    assert_eq!(db_silent.standing, Standing::NoData);
    assert!(db_silent
        .no_data
        .as_deref()
        .unwrap()
        .contains("no response in 3"));
    let unanswered: Vec<_> = data
        .warnings
        .iter()
        .filter(|w| w.kind == "unanswered")
        .collect();
    assert_eq!(unanswered.len(), 2, "{:?}", data.warnings);
    assert!(unanswered
        .iter()
        .all(|w| w.contestant.as_deref() == Some("silent")));
    assert!(
        unanswered[0].message.contains("≥ 10000 ms"),
        "{}",
        unanswered[0].message
    );
    // Idle and silent on json: stopped. Busy and silent on db: every request outlasted the
    // window, which is not the same fault and gets other advice.
    let on = |workload: &str| {
        let w = unanswered
            .iter()
            .find(|w| w.workload.as_deref() == Some(workload));
        w.map(|w| w.message.clone()).unwrap_or_default()
    };
    assert!(on("json").contains("stopped answering"), "{}", on("json"));
    assert!(
        on("db").contains("busy") && !on("db").contains("stopped answering"),
        "{}",
        on("db")
    );

    for (format, text) in [
        ("term", render(&Term, &data)),
        ("md", render(&Markdown, &data)),
        ("json", render(&Json, &data)),
        ("html", render(&Html, &data)),
    ] {
        for bad in ["inf", "NaN", "0.0 req/s", " 0 µs"] {
            assert!(!text.contains(bad), "{format} shows {bad:?}");
        }
        if format != "json" {
            assert!(text.contains("no data"), "{format} lacks 'no data'");
            assert!(text.contains("crashed in 3"), "{format} lacks the reason");
            assert!(text.contains("≥ 151,200"), "{format} lacks the lower bound");
            assert!(
                text.contains("192 (≥ 10,000 ms)"),
                "{format} lacks unanswered"
            );
            // The healthy contestants' closed loops had requests under way at each close:
            // shown as such, without a wait that would read as a fault.
            assert!(text.contains("0 in flight"), "{format} lacks in flight");
        }
    }
    // The command writes every file for such a run too.
    let fixture = build(true);
    let (out, output) = report_command(&fixture);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["report.html", "summary.md", "results.json"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
}

/// Hostile names, errors and log tails stay text in every format.
#[test]
fn hostile_text_is_escaped() {
    let data = data(true);
    let html = render(&Html, &data);
    // The page has no script and no image of its own, so any is from the payload.
    for live in ["<script", "<img", "onerror=alert(2)>"] {
        assert!(!html.contains(live), "live markup {live:?} in the page");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    // Quotes are escaped too, so the payload cannot close an attribute.
    assert!(html.contains("&quot;&gt;&lt;img"));

    let md = render(&Markdown, &data);
    assert!(!md.contains("<script") && !md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script&gt;"));

    let term = render(&Term, &data);
    assert!(
        term.contains(PAYLOAD),
        "the terminal shows the name as it is"
    );

    let json: serde_json::Value = serde_json::from_slice(&Json.render(&data).unwrap()).unwrap();
    assert!(json.to_string().contains("alert(1)"));
}

/// Issue 11: the audit section has a row per contestant of the run: its stored audit, or
/// "not audited" with the reason, never a grade; every format shows it, escaped.
#[test]
fn audit_section_shows_each_audit_or_why_there_is_none() {
    let data = data(true);
    let rows = &data.audit.rows;
    assert_eq!(data.audit.depth, Some(faceoff::audit::AuditDepth::Quick));
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let contestants: Vec<&str> = data.contestants.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, contestants);
    let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
    let express = row(&format!("express{PAYLOAD}"));
    let audit = express.audit.as_ref().unwrap();
    assert_eq!((audit.grade.as_deref(), audit.score), (Some("C"), Some(50)));
    assert_eq!(audit.probes_passed(), Some((11, 12)));
    assert_eq!(audit.findings.len(), 5);
    assert!(express.not_audited.is_none());
    assert!(row("axum").audit.as_ref().unwrap().findings.is_empty());
    for (name, reason) in [
        ("flask", "it was not measured (failed verify)"),
        ("ghost", "it crashed during the run"),
        ("silent", "no audit was stored for it"),
    ] {
        let r = row(name);
        assert!(r.audit.is_none(), "{name}");
        assert_eq!(r.not_audited.as_deref(), Some(reason), "{name}");
    }

    let term = render(&Term, &data);
    let section = &term[term
        .find("security audit")
        .expect("a terminal audit section")..];
    assert!(section.contains("11/12 passed"), "{section}");
    assert!(
        section.contains("flask: not audited: it was not measured"),
        "{section}"
    );
    let flask_line = section.lines().find(|l| l.starts_with("flask ")).unwrap();
    assert!(flask_line.contains("not audited"), "{flask_line}");
    assert!(
        !flask_line.contains(" F "),
        "a missing audit has no grade: {flask_line}"
    );

    let md = render(&Markdown, &data);
    let section = &md[md
        .find("## Security audit")
        .expect("a Markdown audit section")..];
    assert!(section.contains("| flask | not audited |"), "{section}");
    assert!(section.contains("large-body"), "{section}");
    assert!(
        !section.contains("<script") && !section.contains("<img"),
        "{section}"
    );

    let html = render(&Html, &data);
    assert!(html.contains(r#"<section id="audit">"#));
    assert!(html.contains("<details class=\"finding\">"));
    assert!(!html.contains("<script") && !html.contains("<img"));
}

pub(crate) fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/results-schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn json_output_matches_the_schema() {
    let validator = schema();
    for hostile in [false, true] {
        let value: serde_json::Value =
            serde_json::from_slice(&Json.render(&data(hostile)).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn schema_rejects_drift() {
    let validator = schema();
    let good: serde_json::Value =
        serde_json::from_slice(&Json.render(&data(false)).unwrap()).unwrap();
    let mut unknown_field = good.clone();
    unknown_field["workloads"][0]["results"][0]["surprise"] = 1.into();
    assert!(!validator.is_valid(&unknown_field));
    let mut missing = good.clone();
    missing["headline"][0]
        .as_object_mut()
        .unwrap()
        .remove("verdict");
    assert!(!validator.is_valid(&missing));
    let mut wrong_version = good;
    wrong_version["schema"] = (faceoff::report::SCHEMA_VERSION + 1).into();
    assert!(!validator.is_valid(&wrong_version));
}

/// `faceoff report` on a fixture, writing into its folder's `out`.
fn report_command(fixture: &fixture::Fixture) -> (std::path::PathBuf, std::process::Output) {
    let out = fixture.dir.path().join("out");
    let output = crate::common::faceoff()
        .args(["report", "--db"])
        .arg(&fixture.db)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    (out, output)
}

#[test]
fn command_writes_three_files_and_prints_their_paths() {
    let fixture = build(false);
    let (out, output) = report_command(&fixture);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["report.html", "summary.md", "results.json"] {
        let path = out.join(file);
        assert!(path.is_file(), "{file} missing");
        assert!(stdout.contains(&path.display().to_string()), "{stdout}");
    }
    assert!(stdout.contains("indicative: Express"), "{stdout}");

    // Without --out, the report goes next to the database, in a folder named after the run.
    let output = crate::common::faceoff()
        .args(["report", &fixture.run_id.to_string(), "--db"])
        .arg(&fixture.db)
        .output()
        .unwrap();
    assert!(output.status.success());
    let dir = fixture.dir.path().join(fixture.run_id.to_string());
    assert!(dir.join("report.html").is_file());
}

#[test]
fn command_errors_are_one_clear_line() {
    let fixture = build(false);
    let cases: [(Vec<String>, &str); 3] = [
        (
            vec![
                "--db".into(),
                fixture.dir.path().join("none.db").display().to_string(),
            ],
            "no results database at",
        ),
        (
            vec!["99".into(), "--db".into(), fixture.db.display().to_string()],
            "no run 99 in the results database",
        ),
        (vec!["x".into()], "invalid value 'x'"),
    ];
    for (args, expected) in cases {
        let output = crate::common::faceoff()
            .arg("report")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        if !expected.starts_with("invalid") {
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
    }
    assert!(
        !fixture.dir.path().join("none.db").exists(),
        "no empty database left behind"
    );
}

/// Issue 8: the method section of a report of a real `faceoff run` has every setting `run`
/// knows filled in (the fixture above is built through the same code, but this is the proof).
#[test]
fn settings_of_a_real_run_fill_the_method_section() {
    let dir = tempfile::tempdir().unwrap();
    let contestant = crate::common::TempContestant::new("steady", "exec node server.js", "");
    let output = crate::common::faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", dir.path())
        .env("FACEOFF_DB", dir.path().join("faceoff.db"))
        .args(["--suite"])
        .arg(crate::common::fixture("healthz-suite.toml"))
        .args(["--trial", "300ms", "--warmup", "100ms", "--max-rounds", "2"])
        .arg("--contestant")
        .arg(contestant.dir())
        .arg("--only")
        .arg(crate::common::name_of(contestant.dir()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let store = faceoff::store::Store::open(&dir.path().join("faceoff.db")).unwrap();
    let detail = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let data = ReportData::from_run(&detail);
    let json: serde_json::Value = serde_json::from_slice(&Json.render(&data).unwrap()).unwrap();
    let method = &json["method"];
    // The shuffle seed, the noise calibration and the quiet wait are the runner's to fill
    // (issue 8, Build 2, 3 and 6); every other setting must be there.
    let mut nulls = Vec::new();
    find_nulls("method", method, &mut nulls);
    // and a closed-loop workload has no rate.
    nulls.retain(|p| {
        !["method.order_seed", "method.noise", "method.quiet_wait"].contains(&p.as_str())
            && !p.ends_with(".rate_per_s")
    });
    assert!(
        nulls.is_empty(),
        "unrecorded settings: {nulls:?}\n{method:#}"
    );
    let w = &data.method.workloads[0];
    let settings = w.settings.as_ref().expect("workload settings");
    assert_eq!((w.name.as_str(), settings.trial_s), ("healthz", 0.3));
    assert_eq!((settings.warmup_s, settings.max_rounds), (0.1, 2));
    assert_eq!(settings.connections, 4);
    // Each warning once: the variance warning at most once per workload, from the report.
    let variance = data
        .warnings
        .iter()
        .filter(|w| w.kind == "high_variance")
        .count();
    assert!(variance <= data.workloads.len(), "{:#?}", data.warnings);
    assert!(
        data.warnings
            .iter()
            .all(|w| w.contestant.is_none() || w.kind != "high_variance"),
        "{:#?}",
        data.warnings
    );
    let env = data.method.environment.as_ref().unwrap();
    assert!(!env.cpu_model.is_empty() && env.memory_bytes > 0, "{env:?}");
    let md = render(&Markdown, &data);
    let unrecorded: Vec<&str> = md
        .lines()
        .filter(|l| {
            l.contains("not recorded")
                && !l.contains("order within a round")
                && !l.contains("wait for quiet server CPUs")
        })
        .collect();
    assert!(unrecorded.is_empty(), "{unrecorded:?}");
}

fn find_nulls(path: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Null => out.push(path.to_string()),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                find_nulls(&format!("{path}.{k}"), v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_nulls(&format!("{path}.{i}"), v, out);
            }
        }
        _ => {}
    }
}
