//! Issue 12 end to end: claims judged and profiles ranked on a run stored with the real store,
//! through the `faceoff claims` and `faceoff verdict` commands; users' own claims, profile and
//! pricing files with line-numbered errors; the claims and verdict sections leading the
//! reports, checked in headless Chromium.

mod fixture;
mod runs;

use std::path::Path;

use faceoff::report::{Exporter, Html, Json, Markdown, ReportData};
use serde_json::Value;

use crate::report::chromium::Browser;
use crate::report::fixture::{TempDir, PAYLOAD};

/// `faceoff ARGS --db DB`; returns (success, stdout, stderr).
fn faceoff(args: &[&str], db: &Path) -> (bool, String, String) {
    let out = crate::common::faceoff()
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(args: &[&str], db: &Path) -> Value {
    let (ok, stdout, stderr) = faceoff(args, db);
    assert!(ok, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn claim<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no claim {id}"))
}

const OWN_CLAIMS: &str = r#"title = "Our team's beliefs"
source = "the wiki"

[[claim]]
id = "json"
topic = "JSON"
quote = "Node.js serializes JSON at least twice as fast as Python."
[[claim.test]]
measure = "throughput"
workloads = ["json"]
favoured = "Node.js"
other = "Python"
expect = "better"
margin = 1.0

[[claim]]
id = "plaintext"
topic = "Plain text"
quote = "Node.js answers plain text faster."
[[claim.test]]
measure = "throughput"
workloads = ["plaintext"]
favoured = "Node.js"
other = "Python"
expect = "better"
margin = 0.0

[[claim]]
id = "io"
topic = "Waiting on other services"
quote = "Node.js keeps more requests in flight."
[[claim.test]]
measure = "throughput"
workloads = ["io"]
favoured = "Node.js"
other = "Python"
expect = "better"
margin = 0.0

[[claim]]
id = "ws"
topic = "WebSockets"
quote = "Node.js echoes more WebSocket messages."
[[claim.test]]
measure = "ws_messages"
workloads = ["ws-echo"]
favoured = ["node-http"]
other = ["python-fastapi"]
expect = "better"
margin = 0.1

[[claim]]
id = "taste"
topic = "Taste"
quote = "Python code is more beautiful."
reason = "beauty is not measured by load"
"#;

/// Issue 12, Done when: a claim judged on a stored run for each outcome, and one whose data is
/// missing, from a user's own claims file.
#[test]
fn own_claims_reach_each_outcome_on_a_stored_run() {
    let fx = fixture::build();
    let file = fx.dir.path().join("ours.toml");
    std::fs::write(&file, OWN_CLAIMS).unwrap();
    let run = fx.run_id.to_string();
    let report = json_of(
        &[
            "claims",
            "--json",
            "--run",
            &run,
            "--claims",
            file.to_str().unwrap(),
        ],
        &fx.db,
    );
    assert_eq!(report["title"], "Our team's beliefs");
    assert_eq!(report["run_id"], fx.run_id);

    // node-http 40,000 vs python-fastapi 9,000 (±1%, six trials): ×4.4, whole interval > ×2.
    let json = claim(&report, "json");
    assert_eq!(json["outcome"], "supported", "{json:#}");
    let t = &json["tests"][0];
    let ratio = t["ratio"]["point"].as_f64().unwrap();
    assert!((ratio - 40_000.0 / 9_000.0).abs() < 1e-6, "{ratio}");
    assert!(t["ratio"]["lo"].as_f64().unwrap() >= 2.0);
    let best: Vec<&str> = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["best"] == true)
        .map(|r| r["contestant"].as_str().unwrap())
        .collect();
    assert_eq!(best, ["node-http", "python-fastapi"]);
    assert_eq!(
        t["rows"].as_array().unwrap().len(),
        6,
        "every framework listed"
    );
    assert_eq!(t["rows"][0]["trials"], 6);

    // python-fastapi 11,000 beats node-http 10,000.
    let plain = claim(&report, "plaintext");
    assert_eq!(plain["outcome"], "refuted", "{plain:#}");
    // Express 5,000 on plaintext: Node.js frameworks spread ×2 against a ×1.1 gap.
    let note = plain["tests"][0]["framework_note"].as_str().unwrap();
    assert!(
        note.contains("depends on the framework more than on the language"),
        "{note}"
    );

    // 4,700 vs 4,690 at ±1%: the intervals overlap.
    let io = claim(&report, "io");
    assert_eq!(io["outcome"], "inconclusive");
    assert!(io["tests"][0]["why"].as_str().unwrap().contains("overlap"));
    assert_eq!(io["missing"].as_array().unwrap().len(), 0);

    let ws = claim(&report, "ws");
    assert_eq!(ws["outcome"], "inconclusive");
    let missing = ws["missing"][0].as_str().unwrap();
    assert!(
        missing.contains(&format!(
            "ws_messages on ws-echo for node-http (node-http: workload ws-echo not in run {run})"
        )) && missing.contains(&format!(
            "no run judged has ws-echo (run {run} of suite verdict-fixture)"
        )) && missing.contains("a WebSocket workload (ws-echo, ws-room)"),
        "{missing}"
    );
    assert_eq!(
        report["not_measurable"][0]["reason"],
        "beauty is not measured by load"
    );

    // The text output says the same.
    let (ok, text, stderr) = faceoff(&["claims", "--claims", file.to_str().unwrap()], &fx.db);
    assert!(ok, "{stderr}");
    for shown in [
        "[supported] json",
        "[refuted] plaintext",
        "[inconclusive] io",
        "Not measurable by faceoff:",
    ] {
        assert!(text.contains(shown), "{shown:?} missing:\n{text}");
    }
}

/// The built-in claims on the same run: the NumPy claim per size with its crossover, and every
/// claim either judged or saying what is missing.
#[test]
fn builtin_claims_judge_numpy_per_size() {
    let fx = fixture::build();
    let report = json_of(&["claims", "--json"], &fx.db);
    let numpy = claim(&report, "numpy");
    assert_eq!(numpy["outcome"], "depends", "{numpy:#}");
    let crossover = &numpy["crossovers"][0];
    assert_eq!(
        (crossover["below"].as_u64(), crossover["above"].as_u64()),
        (Some(10_000), Some(1_000_000))
    );
    let n = crossover["estimate"].as_f64().unwrap();
    assert!(10_000.0 < n && n < 1_000_000.0, "{n}");
    for c in report["claims"].as_array().unwrap() {
        let judged = c["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["missing"].is_null());
        assert!(
            judged || !c["missing"].as_array().unwrap().is_empty(),
            "claim {} neither judged nor saying what is missing",
            c["id"]
        );
    }
    let unmeasurable: Vec<&str> = report["not_measurable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        unmeasurable,
        ["learning-curve", "ecosystem", "developer-cost"]
    );
}

#[test]
fn verdict_ranks_with_reasons_and_says_what_is_not_measured() {
    let fx = fixture::build();
    let v = json_of(
        &[
            "verdict",
            "--json",
            "--profile",
            "data-api",
            "--target-rps",
            "800",
            "--slo-p99",
            "150ms",
        ],
        &fx.db,
    );
    assert_eq!(v["profile"]["target_rps"], 800.0);
    assert_eq!(v["profile"]["slo_p99_us"], 150_000.0);
    let ranking = v["ranking"].as_array().unwrap();
    assert_eq!(ranking[0]["contestant"], "node-http", "{v:#}");
    assert_eq!(ranking[0]["place"], 1);
    // No capacity stored: no cost, never a guess.
    assert!(ranking.iter().all(|r| r["cost"].is_null()));
    assert!(ranking[0]["cost_missing"]
        .as_str()
        .unwrap()
        .starts_with("not measured"));
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("capacity under the SLO (p99 < 150 ms) was not measured"),
        "{notes}"
    );
    assert!(notes.contains("no audit stored"), "{notes}");
    // data-api weighs queries, which this run lacks.
    assert!(notes.contains("not in this run: queries"), "{notes}");

    let (ok, text, stderr) = faceoff(&["verdict", "--profile", "mixed"], &fx.db);
    assert!(ok, "{stderr}");
    assert!(text.contains("Verdict for profile mixed"), "{text}");
    assert!(text.contains(" 1. node-http (Node.js)"), "{text}");
    assert!(text.contains("within noise of"), "{text}");
}

/// Bad input: one clear error per problem, with file:line:column, a hint, a non-zero exit.
#[test]
fn own_files_with_mistakes_get_line_numbered_errors() {
    let fx = fixture::build();
    let dir = TempDir::new("verdict-files");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let claims = write(
        "claims.toml",
        "title = \"x\"\n[[claim]]\nid = \"a\"\ntopic = \"t\"\nquote = \"q\"\n[[claim.test]]\nmeasure = \"speed\"\nworkloads = [\"json\"]\nfavoured = \"Node.js\"\nother = \"Node.js\"\nexpect = \"better\"\nmargin = -1.0\n",
    );
    let (ok, _, stderr) = faceoff(&["claims", "--claims", &claims], &fx.db);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "{claims}:7:11: unknown measure 'speed'; use one of: throughput"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{claims}:10:9: other is the same side as favoured"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{claims}:12:10: margin must be between 0 and 10")),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: claims/nodejs-vs-python-2025.toml"),
        "{stderr}"
    );

    let typo = write(
        "typo.toml",
        "title = \"x\"\n[[claim]]\nid = \"a\"\ntopic = \"t\"\nqoute = \"q\"\n",
    );
    let (ok, _, stderr) = faceoff(&["claims", "--claims", &typo], &fx.db);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("{typo}:5:1: unknown field `qoute`")),
        "{stderr}"
    );

    let profile = write(
        "profile.toml",
        "name = \"mine\"\nslo_p99 = \"soon\"\ntarget_rps = 100.0\nheadroom = 0.3\nsecurity_weight = 2.0\n[[workload]]\nname = \"json\"\nweight = 0.0\n",
    );
    let (ok, _, stderr) = faceoff(&["verdict", "--profile", &profile], &fx.db);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "{profile}:2:11: slo_p99: 'soon' is not a duration"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{profile}:5:19: security_weight must be between 0 and 1"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{profile}:8:10: weight must be above 0")),
        "{stderr}"
    );
    assert!(stderr.contains("hint: profiles/"), "{stderr}");

    let pricing = write(
        "pricing.toml",
        "name = \"p\"\nsource = \"s\"\ndate = \"last week\"\ncurrency = \"EUR\"\nvcpu_hour = 0.1\ngb_hour = 0.01\nhours_per_month = 730.0\nvcpu_sizes = [2.0, 1.0]\nmin_gb_per_vcpu = 1.0\nmemory_step_gb = 1.0\n",
    );
    let (ok, _, stderr) = faceoff(
        &["verdict", "--profile", "mixed", "--pricing", &pricing],
        &fx.db,
    );
    assert!(!ok);
    assert!(
        stderr.contains(&format!("{pricing}:3:8: date must be YYYY-MM-DD")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{pricing}:8:14: vcpu_sizes must list positive sizes in ascending order"
        )),
        "{stderr}"
    );

    for (args, expected) in [
        (vec!["verdict", "--profile", "nope"], "there is no built-in profile named 'nope' (built in: realtime-chat, rest-crud, data-api, mixed)"),
        (vec!["verdict", "--profile", "mixed", "--target-rps=-5"], "'-5' is not a rate"),
        (vec!["claims", "--claims", "missing/file.toml"], "cannot read claims file 'missing/file.toml'"),
        (vec!["claims", "--run", "99"], "no run 99 in the results database"),
    ] {
        let (ok, _, stderr) = faceoff(&args, &fx.db);
        assert!(!ok, "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Issue 12: the claims and verdict sections lead the Markdown and JSON reports.
#[test]
fn claims_and_verdict_lead_markdown_and_json() {
    let fx = fixture::build();
    let detail = faceoff::store::Store::open(&fx.db)
        .unwrap()
        .run(fx.run_id)
        .unwrap();
    let data = ReportData::from_run(&detail);
    let md = String::from_utf8(Markdown.render(&data).unwrap()).unwrap();
    let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s:?} missing"));
    assert!(at("## Claims") < at("## Verdict per project profile"));
    assert!(at("## Verdict per project profile") < at("## Headline"));
    assert!(md.contains("| **Data processing with NumPy**"), "{md}");
    assert!(!md.contains("<script"), "markup is escaped");

    let json: Value = serde_json::from_slice(&Json.render(&data).unwrap()).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert!(pos("claims") < pos("headline") && pos("verdicts") < pos("workloads"));
    assert_eq!(json["verdicts"].as_array().unwrap().len(), 4);
    // Judged claims with figures, crossovers and rows follow the published schema too.
    let errors: Vec<String> = crate::report::schema()
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The HTML report in real headless Chromium: both sections come before the headline, every
/// outcome shows, hostile names stay text, and each figure links to its workload's section.
#[test]
fn claims_and_verdict_render_first_in_chromium() {
    let fx = fixture::build();
    let detail = faceoff::store::Store::open(&fx.db)
        .unwrap()
        .run(fx.run_id)
        .unwrap();
    let data = ReportData::from_run(&detail);
    let scratch = TempDir::new("verdict-chromium");
    let page = scratch.path().join("report.html");
    std::fs::write(&page, Html.render(&data).unwrap()).unwrap();
    let url = format!("file://{}", page.display());

    let mut browser = Browser::launch(scratch.path());
    let target = browser.call(
        None,
        "Target.createTarget",
        serde_json::json!({"url": "about:blank"}),
    );
    let attached = browser.call(
        None,
        "Target.attachToTarget",
        serde_json::json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_string();
    browser.call(Some(&session), "Page.enable", serde_json::json!({}));
    browser.call(
        Some(&session),
        "Page.navigate",
        serde_json::json!({"url": url}),
    );
    browser.wait_for("Page.loadEventFired");
    let facts = browser.eval(
        &session,
        r##"JSON.stringify({
          order: [...document.querySelectorAll('main > section')].map(s => s.id),
          claims: document.querySelector('#claims').getBoundingClientRect().top,
          verdict: document.querySelector('#verdict').getBoundingClientRect().top,
          headline: document.querySelector('#headline').getBoundingClientRect().top,
          claimsHeight: document.querySelector('#claims').getBoundingClientRect().height,
          badges: [...document.querySelectorAll('#claims .badge')].map(b => b.textContent),
          links: [...document.querySelectorAll('#claims a[href^="#workload-"]')]
            .filter(a => document.querySelector(a.getAttribute('href'))).length,
          verdictRows: document.querySelectorAll('#verdict tbody tr').length,
          live: document.querySelectorAll('script, img, iframe, object, embed').length,
          text: document.body.innerText,
        })"##,
    );
    let facts: Value = serde_json::from_str(facts.as_str().unwrap()).unwrap();
    let order: Vec<&str> = facts["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(order[..3], ["claims", "verdict", "headline"], "{order:?}");
    let y = |k: &str| facts[k].as_f64().unwrap();
    assert!(y("claims") < y("verdict") && y("verdict") < y("headline"));
    assert!(y("claimsHeight") > 200.0, "the claims section is drawn");
    let badges: Vec<&str> = facts["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    for outcome in [
        "supported",
        "refuted",
        "depends",
        "inconclusive",
        "not measured",
    ] {
        assert!(
            badges.contains(&outcome),
            "no {outcome:?} badge in {badges:?}"
        );
    }
    assert!(
        facts["links"].as_u64().unwrap() > 5,
        "figures link to their workloads"
    );
    assert_eq!(
        facts["verdictRows"].as_u64().unwrap(),
        4 * 6,
        "4 profiles x 6 contestants"
    );
    assert_eq!(facts["live"], 0, "hostile names stay text");
    let text = facts["text"].as_str().unwrap();
    assert!(text.contains(PAYLOAD), "the payload shows as text");
    for shown in [
        "Not measurable by faceoff",
        "crossover near n =",
        "not measured: no capacity under p99",
    ] {
        assert!(text.contains(shown), "the page lacks {shown:?}");
    }
    for absent in ["NaN", "inf"] {
        assert!(!text.contains(absent), "the page shows {absent:?}");
    }
}
