//! `faceoff audit` end to end: the insecure fixture gets exactly its five faults as findings,
//! every reference contestant is audited, Ctrl-C stops an audit cleanly, and no probe leaves a
//! process behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{faceoff, faceoff_json, fixture, interrupt, wait_exit};

/// Runs `faceoff audit --json` with `args` and a cache folder; returns exit code, JSON, stderr.
fn audit_json(args: &[&str], cache: &Path) -> (i32, Value, String) {
    faceoff_json("audit", args, cache)
}

/// Live processes whose working folder is under `root` (contestants run in their install
/// folder, under the cache).
fn processes_under(root: &Path) -> Vec<(String, PathBuf)> {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) {
            if cwd.starts_with(&root) {
                found.push((name, cwd));
            }
        }
    }
    found
}

fn assert_no_process_under(root: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = processes_under(root);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "processes left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that `json` matches docs/audit-schema.json.
fn assert_schema(json: &Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/audit-schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn names(contestant: &Value, kind: &str) -> BTreeSet<String> {
    contestant["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn insecure_fixture_gets_exactly_its_findings() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixture("insecure");
    let md = cache.path().join("audit.md");
    let (code, json, stderr) = audit_json(
        &[
            "--contestant",
            dir.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ],
        cache.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_schema(&json);
    let c = &json["contestants"][0];
    assert_eq!(c["status"], "audited", "{c:#}");
    // No CSP (-25), no X-Frame-Options (-20), no X-Content-Type-Options (-5).
    assert_eq!(
        (c["score"].as_i64(), c["grade"].as_str()),
        (Some(50), Some("C")),
        "{c:#}"
    );
    assert_eq!(
        names(c, "header"),
        set(&[
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options"
        ]),
        "{c:#}"
    );
    assert_eq!(names(c, "disclosure"), set(&["x-powered-by"]), "{c:#}");
    assert_eq!(
        names(c, "probe"),
        set(&["large-body", "malformed-json", "slow-client"]),
        "{:#}",
        c["findings"]
    );
    assert_eq!(names(c, "health"), set(&[]), "{:#}", c["findings"]);
    assert_eq!(
        c["findings"].as_array().unwrap().len(),
        7,
        "{:#}",
        c["findings"]
    );
    let detail = |name: &str| {
        c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let malformed = detail("malformed-json");
    assert!(malformed.contains("answered 500"), "{malformed}");
    assert!(malformed.contains("JavaScript stack trace"), "{malformed}");
    assert!(
        detail("large-body").contains("exited"),
        "{}",
        detail("large-body")
    );
    assert!(
        detail("slow-client").contains("whole"),
        "{}",
        detail("slow-client")
    );
    // Every probe ran, each with what it sent, expected and got.
    let probes = c["probed"]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), faceoff::audit::hostile::PROBES.len() + 2);
    assert!(probes.iter().all(|p| p["sent"].is_string()
        && p["expected"].is_string()
        && p["answer"]["kind"].is_string()));
    let health = c["probed"]["health_after"].as_array().unwrap();
    assert!(
        !health.is_empty() && health.iter().all(|h| h["passed"] == true),
        "{health:#?}"
    );
    assert_eq!(c["dependencies"]["advisories"]["state"], "not_checked");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.starts_with("## Security audit"), "{markdown}");
    assert!(markdown.contains("x-powered-by"), "{markdown}");
    assert_no_process_under(cache.path());
}

#[test]
fn every_reference_contestant_is_audited() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = crate::common::reference_contestants();
    // Installs are slow: share the tests' cache.
    let cache = crate::common::test_cache();
    let started = Instant::now();
    let out = faceoff()
        .current_dir(root)
        .args(["audit", "--json"])
        .env("FACEOFF_CACHE_DIR", &cache)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_schema(&json);
    let list = json["contestants"].as_array().unwrap();
    assert_eq!(list.len(), found.len());
    let mut summary = Vec::new();
    for c in list {
        assert_eq!(c["status"], "audited", "{}: {}", c["name"], c["message"]);
        assert!(c["grade"].is_string(), "{c:#}");
        let health = c["probed"]["health_after"].as_array().unwrap();
        assert!(
            health.iter().all(|h| h["passed"] == true),
            "{}: {health:#?}",
            c["name"]
        );
        assert!(c["dependencies"]["total"].as_u64().unwrap() > 0, "{c:#}");
        summary.push(format!(
            "{} {} ({}) probes failed: {:?}",
            c["name"],
            c["grade"],
            c["score"],
            names(c, "probe")
        ));
    }
    eprintln!(
        "audit of {} contestants took {elapsed:?}:\n{}",
        list.len(),
        summary.join("\n")
    );
    // The headers each framework ships by default, scored (docs/audit.md).
    let grade = |name: &str| {
        list.iter()
            .find(|c| c["name"] == name)
            .map(|c| c["grade"].as_str().unwrap().to_string())
    };
    assert_eq!(grade("node-express-helmet").as_deref(), Some("A+"));
    assert_eq!(grade("node-express").as_deref(), Some("C"));
    assert_eq!(grade("python-django").as_deref(), Some("B"));
}

#[test]
fn ctrl_c_stops_an_audit_and_its_contestant() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixture("insecure");
    let mut child = faceoff()
        .args(["audit", "--contestant"])
        .arg(&dir)
        .env("FACEOFF_CACHE_DIR", cache.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt during the slow-client probe: once the contestant is up, it runs for seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes_under(cache.path()).is_empty() {
        assert!(Instant::now() < deadline, "the contestant never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    interrupt(&child);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_no_process_under(cache.path());
}

#[test]
fn missing_advisories_folder_is_a_one_line_error() {
    let out = faceoff()
        .args(["audit", "--advisories", "no/such/folder", "--contestant"])
        .arg(fixture("insecure"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: the advisories folder 'no/such/folder' does not exist"),
        "{stderr}"
    );
}

#[test]
fn a_recorded_advisory_report_becomes_findings() {
    let cache = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories");
    std::fs::copy(
        recorded.join("npm-audit.json"),
        reports.path().join("insecure.json"),
    )
    .unwrap();
    let dir = fixture("insecure");
    let (code, json, stderr) = audit_json(
        &[
            "--contestant",
            dir.to_str().unwrap(),
            "--advisories",
            reports.path().to_str().unwrap(),
        ],
        cache.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let c = &json["contestants"][0];
    assert_schema(&json);
    assert_eq!(c["dependencies"]["advisories"]["state"], "checked", "{c:#}");
    assert_eq!(names(c, "advisory").len(), 2, "{:#}", c["findings"]);
    assert_no_process_under(cache.path());
}
