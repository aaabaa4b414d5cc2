//! `faceoff run` of a tiny scale suite (issue 10) against a real Node.js server: the sweep,
//! capacity and idle trials are stored with their points, the capacity through its typed
//! accessor, and every format shows the new sections; the HTML draws their charts in Chromium.

use std::path::Path;

use faceoff::store::{Store, TrialPoint};
use serde_json::{json, Value};

use super::chromium::Browser;
use crate::common::{faceoff, fixture, server_cpu, TempContestant};

/// What the page says about its scale sections.
const INSPECT: &str = r#"JSON.stringify({
  charts: [...document.querySelectorAll('section.scale svg')].map(svg => {
    const marks = [...svg.querySelectorAll('.mark')];
    return {
      title: svg.querySelector(':scope > title')?.textContent ?? '',
      width: svg.getBoundingClientRect().width,
      marks: marks.length,
      drawn: marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length,
    };
  }),
  text: document.body.innerText,
})"#;

#[test]
fn a_scale_suite_run_stores_its_points_and_reports_every_section() {
    let _cpu = server_cpu();
    let c = TempContestant::new("holder", "exec node server.js", "");
    let dir = c.root.path().join("results");
    std::fs::create_dir_all(&dir).unwrap();
    let out = faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", &dir)
        .env("FACEOFF_DB", dir.join("faceoff.db"))
        .env("FACEOFF_CACHE_DIR", c.cache())
        .arg("--suite")
        .arg(fixture("scale-suite.toml"))
        .arg("--contestant")
        .arg(c.dir())
        .arg("--only")
        .arg(crate::common::name_of(c.dir()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{stdout}");

    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run_id = store.latest_run().unwrap().unwrap();
    let run = store.run(run_id).unwrap();
    let points = |workload: &str| -> Vec<TrialPoint> {
        run.trials
            .iter()
            .filter(|t| t.workload == workload && !t.metrics.quality.superseded)
            .filter_map(|t| t.metrics.point.clone())
            .collect()
    };
    let sweep: Vec<u32> = points("sweep")
        .into_iter()
        .filter_map(|p| match p {
            TrialPoint::Sweep { connections } => Some(connections),
            _ => None,
        })
        .collect();
    assert_eq!(sweep, [1, 8], "one trial per point");
    let idle: Vec<_> = points("idle")
        .into_iter()
        .filter_map(|p| match p {
            TrialPoint::Idle(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(idle.len(), 2, "{idle:?}");
    for f in &idle {
        assert_eq!(f.held, Some(u64::from(f.target)), "{f:?}");
        assert_eq!(f.refused, Some(0), "{f:?}");
        assert!(f.not_reached.is_none(), "{f:?}");
    }
    assert!(
        points("capacity")
            .iter()
            .all(|p| matches!(p, TrialPoint::Capacity { .. })),
        "every capacity trial has its rate"
    );
    // The typed accessor the cost model reads.
    let caps = store.capacities(run_id).unwrap();
    assert_eq!(caps.len(), 1, "{caps:?}");
    let cap = &caps[0];
    assert_eq!(
        (cap.workload.as_str(), cap.contestant.as_str()),
        ("capacity", "holder")
    );
    assert_eq!(cap.slo_p99_us, 200_000.0);
    let rate = cap
        .rate_per_s
        .expect("a tiny Node.js server carries 250 req/s");
    assert_eq!(cap.interval_low_per_s, Some(rate));
    assert!(cap.interval_high_per_s.is_none_or(|h| h > rate), "{cap:?}");
    assert_eq!(cap.confirmations, 2);
    assert!(cap.server_cpu_share.is_some_and(|s| s > 0.0), "{cap:?}");
    assert!(cap.pss_bytes.is_some_and(|b| b > 1 << 20), "{cap:?}");
    assert_eq!(run.capacities, caps, "RunDetail carries them too");

    // Every format shows the sections.
    assert!(stdout.contains("knee"), "{stdout}");
    assert!(stdout.contains("capacity under SLO"), "{stdout}");
    let run_dir = dir.join(run_id.to_string());
    let md = std::fs::read_to_string(run_dir.join("summary.md")).unwrap();
    for heading in [
        "## Throughput and p99 by connections: sweep",
        "## Idle HTTP keep-alive connections: idle",
        "## Capacity under an SLO",
    ] {
        assert!(md.contains(heading), "summary.md lacks {heading}:\n{md}");
    }
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(json["scale"]["sweeps"][0]["connections"], json!([1, 8]));
    assert_eq!(json["scale"]["capacities"][0]["rate_per_s"], json!(rate));
    assert_eq!(
        json["scale"]["idle"][0]["rows"].as_array().unwrap().len(),
        2
    );
    assert_eq!(json["scale"]["idle"][0]["protocol"], "http");
    let errors: Vec<String> = super::schema()
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The plain tables leave the scale trials out.
    assert_eq!(json["workloads"], json!([]), "{}", json["workloads"]);

    check_in_chromium(&run_dir.join("report.html"), c.root.path());
}

fn check_in_chromium(page: &Path, scratch: &Path) {
    let url = format!("file://{}", page.display());
    let mut browser = Browser::launch(scratch);
    let session = browser.open_page(&url, &["Page.enable", "Runtime.enable"], 1200);
    let facts: Value =
        serde_json::from_str(browser.eval(&session, INSPECT).as_str().unwrap()).unwrap();
    let charts = facts["charts"].as_array().unwrap();
    // Throughput and p99 by connections, and PSS by idle connections.
    assert_eq!(charts.len(), 3, "{charts:#?}");
    for chart in charts {
        assert!(!chart["title"].as_str().unwrap().is_empty(), "{chart}");
        assert!(chart["width"].as_f64().unwrap() > 200.0, "{chart}");
        assert!(chart["marks"].as_u64().unwrap() > 2, "{chart}");
        assert_eq!(
            chart["drawn"], chart["marks"],
            "every mark has a size: {chart}"
        );
    }
    let text = facts["text"].as_str().unwrap();
    for shown in [
        "Throughput and p99 by connections: sweep",
        "Idle HTTP keep-alive connections: idle",
        "Capacity under an SLO",
        "1,000 of 1,000",
    ] {
        assert!(text.contains(shown), "the page lacks {shown:?}");
    }
    for absent in ["NaN", "inf ", "inf%"] {
        assert!(!text.contains(absent), "the page shows {absent:?}");
    }
}
