//! Worker sweeps and the GIL test (issue 10, part 5) end to end: real contestants restarted per
//! worker count on 127.0.0.1, what each trial stores, and the report's Cores section in every
//! format, the HTML checked in headless Chromium. Behaviour only: the machine is shared, so no
//! assertion depends on speed.

use std::path::Path;

use faceoff::store::{RunStatus, Store};
use serde_json::{json, Value};

use crate::common::{faceoff, server_cpu};
use crate::report::chromium::Browser;

/// A sweep on CPUs shared with the engine (both points run) and one on the server CPUs alone
/// (on a machine whose server CPUs are fewer than 2, its 2-worker point is left out).
const SUITE: &str = r#"
name = "tiny-cores"
[defaults]
warmup = "200ms"
trial = "400ms"
min_rounds = 2
max_rounds = 2
timeout = "5s"

[[workload]]
name = "compute"
connections = 4
workers = [1, 2]
share_engine_cpus = true
[[workload.request]]
path = "/compute?n=10000"

[[workload]]
name = "own"
connections = 4
workers = [1, 2]
[[workload.request]]
path = "/compute?n=1000"
"#;

const CONTESTANTS: [&str; 2] = ["node-http", "python-flask"];

#[test]
fn a_worker_sweep_restarts_each_contestant_per_count_and_reports_cores() {
    let _cpu = server_cpu();
    let dir = tempfile::tempdir().unwrap().keep();
    let suite = dir.join("tiny-cores.toml");
    std::fs::write(&suite, SUITE).unwrap();
    let out = faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", &dir)
        .env("FACEOFF_DB", dir.join("faceoff.db"))
        .args(["--suite", suite.to_str().unwrap(), "--no-calibration"])
        .args(CONTESTANTS.iter().flat_map(|c| ["--only", c]))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{stdout}");

    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    assert_eq!(run.run.status, RunStatus::Complete);
    let settings = run.settings.clone().unwrap();
    let all_cpus: Vec<usize> = {
        let mut c = settings.server_cpus.clone();
        c.extend(&settings.load_cpus);
        c.sort_unstable();
        c.dedup();
        c
    };
    assert!(all_cpus.len() >= 2, "this test needs 2 CPUs: {all_cpus:?}");

    for c in CONTESTANTS {
        let pss = |workers: u32| {
            let trials: Vec<_> = run
                .trials
                .iter()
                .filter(|t| t.contestant == c && t.workload == format!("compute.w{workers}"))
                .filter(|t| t.metrics.counts())
                .collect();
            assert_eq!(
                trials.len(),
                2,
                "{c} at {workers} workers: {:?}\nevents: {:?}",
                run.trials
                    .iter()
                    .map(|t| (&t.workload, &t.contestant, t.metrics.counts()))
                    .collect::<Vec<_>>(),
                run.events
            );
            for t in &trials {
                let cores = t
                    .metrics
                    .cores
                    .as_ref()
                    .expect("a sweep trial records its cores");
                assert_eq!(cores.workers, workers, "{c}");
                assert_eq!(
                    cores.server_cpus, all_cpus,
                    "{c}: the server shares every CPU"
                );
                assert!(cores.shares_engine_cpus);
                let used = cores.cores_used.expect("cores used is measured");
                assert!(
                    used > 0.0 && used <= all_cpus.len() as f64 + 0.2,
                    "{c}: {used}"
                );
                let share = cores.engine_cpu_share.expect("engine share is measured");
                assert!(share > 0.0 && share < 1.0, "{c}: {share}");
            }
            trials
                .iter()
                .map(|t| t.metrics.pss_mean_bytes)
                .min()
                .unwrap()
        };
        // Restarted with WORKERS = 2, each runs a second worker process: its group holds more
        // memory than with one (node:cluster primary + 2 workers vs 1 process; gunicorn's
        // arbiter + 2 workers vs + 1).
        let (one, two) = (pss(1), pss(2));
        assert!(
            two as f64 > 1.2 * one as f64,
            "{c}: PSS {one} bytes at 1 worker, {two} at 2"
        );
    }

    // The sweep on the server CPUs alone can have only as many workers as those CPUs.
    let server = settings.server_cpus.len() as u32;
    for c in CONTESTANTS {
        for w in [1u32, 2] {
            let name = format!("own.w{w}");
            let ran = run
                .trials
                .iter()
                .any(|t| t.contestant == c && t.workload == name);
            assert_eq!(ran, w <= server, "{c} {name}");
            if w > server {
                let skip = run
                    .events
                    .iter()
                    .find(|e| e.kind == "skip" && e.workload.as_deref() == Some(name.as_str()));
                let skip = skip.unwrap_or_else(|| panic!("no skip event for {c} {name}"));
                assert!(skip.message.contains("server CPUs"), "{}", skip.message);
            }
        }
    }

    // The report: every format has the section, with the worker counts and efficiency.
    let results = dir.join(run.run.id.to_string());
    let json: Value =
        serde_json::from_slice(&std::fs::read(results.join("results.json")).unwrap()).unwrap();
    let errors: Vec<String> = crate::report::schema()
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "results.json breaks the schema: {errors:#?}"
    );
    let compute = json["cores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sweep"] == "compute")
        .expect("a compute sweep in results.json");
    assert_eq!(compute["worker_counts"], json!([1, 2]));
    assert_eq!(compute["share_engine_cpus"], true);
    let rows = compute["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for row in rows {
        let points = row["points"].as_array().unwrap();
        for p in points {
            assert!(p["rps"]["median"].as_f64().unwrap() > 0.0, "{p}");
            assert!(p["cores_used"].as_f64().unwrap() > 0.0, "{p}");
        }
        // Efficiency comes from ranked figures only; a lower bound (the engine took too much
        // of the shared CPUs) leaves it missing, with the reason.
        let ranked = |p: &Value| p["not_ranked"].is_null();
        if ranked(&points[0]) {
            assert_eq!(points[0]["efficiency"], 1.0, "{row}");
        }
        for p in points {
            match ranked(&points[0]) && ranked(p) {
                true => assert!(p["efficiency"].as_f64().unwrap() > 0.0, "{p}"),
                false => {
                    assert!(p["efficiency"].is_null(), "{p}");
                    assert!(
                        p["not_ranked"].as_str().is_some() || points[0]["not_ranked"].is_string(),
                        "{p}"
                    );
                }
            }
        }
    }
    let md = std::fs::read_to_string(results.join("summary.md")).unwrap();
    assert!(md.contains("## Cores: compute"), "{md}");
    assert!(stdout.contains("cores: compute"), "{stdout}");
    check_html_in_chromium(&results.join("report.html"), &dir);
}

/// The Cores section renders in headless Chromium: a table row per contestant and count, and
/// its two charts drawn with a mark per point.
fn check_html_in_chromium(page: &Path, scratch: &Path) {
    let url = format!("file://{}", page.display());
    let mut browser = Browser::launch(scratch);
    let session = browser.new_page();
    let s = Some(session.as_str());
    browser.call(s, "Page.enable", json!({}));
    browser.call(s, "Page.navigate", json!({"url": url}));
    browser.wait_for("Page.loadEventFired");
    let facts = browser.eval(
        &session,
        r#"JSON.stringify([...document.querySelectorAll('section.cores')].map(sec => ({
          title: sec.querySelector('h2').textContent,
          rows: sec.querySelectorAll('tbody tr').length,
          text: sec.innerText,
          charts: [...sec.querySelectorAll('svg')].map(svg => {
            const marks = [...svg.querySelectorAll('.mark')];
            return {
              width: svg.getBoundingClientRect().width,
              marks: marks.length,
              drawn: marks.filter(m => { const b = m.getBBox(); return b.width > 0; }).length,
            };
          }),
        })))"#,
    );
    let sections: Value = serde_json::from_str(facts.as_str().unwrap()).unwrap();
    let compute = sections
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Cores: compute")
        .unwrap_or_else(|| panic!("no Cores: compute section: {sections:#}"));
    assert_eq!(compute["rows"], 4, "{compute:#}");
    let text = compute["text"].as_str().unwrap();
    for shown in ["node:http", "Flask", "cores used", "efficiency"] {
        assert!(text.contains(shown), "the section lacks {shown:?}: {text}");
    }
    let charts = compute["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 2, "{charts:#?}");
    for chart in charts {
        assert!(chart["width"].as_f64().unwrap() > 200.0, "{chart}");
        assert_eq!(chart["marks"], 4, "a bar per contestant and count: {chart}");
        assert_eq!(chart["drawn"], chart["marks"], "{chart}");
    }
}
