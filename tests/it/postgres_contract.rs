//! The contract on PostgreSQL: every reference contestant passes `verify --database postgres`
//! (statement and transaction counts included) against one throwaway server, and a contestant
//! that commits each row on its own is caught.

use std::path::Path;

use serde_json::Value;

/// The checks only PostgreSQL has, which every reference contestant must pass there.
const POSTGRES_CHECKS: [&str; 2] = ["statements", "transactions"];

fn check<'a>(contestant: &'a Value, name: &str) -> &'a Value {
    contestant["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {contestant:#}"))
}

#[test]
fn every_reference_contestant_passes_verify_on_postgres() {
    let _cpu = crate::common::server_cpu();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // One faceoff, so one throwaway server for all ten (verify brings them up one at a time).
    let out = crate::common::faceoff()
        .current_dir(root)
        .args(["verify", "--json", "--database", "postgres"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}; stderr: {stderr}"));
    let contestants = json["contestants"].as_array().unwrap();
    let names: Vec<&str> = contestants
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 10, "every reference contestant: {names:?}");
    let failed: Vec<String> = contestants
        .iter()
        .filter(|c| c["status"] != "passed")
        .map(|c| {
            let reasons: Vec<String> = c["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["passed"] != true)
                .map(|r| format!("{}: {}", r["name"], r["reason"]))
                .collect();
            format!("{} {} {} {reasons:?}", c["name"], c["status"], c["message"])
        })
        .collect();
    assert!(failed.is_empty(), "{failed:#?}\nstderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for c in contestants {
        for name in POSTGRES_CHECKS {
            assert_eq!(check(c, name)["passed"], true, "{}: {name}", c["name"]);
        }
    }
}

#[test]
fn verify_catches_a_contestant_that_commits_per_row() {
    let out = crate::common::faceoff()
        .args(["verify", "--json", "--database", "postgres", "--contestant"])
        .arg(crate::common::fixture("pg-committer"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed check fails verify; {stderr}"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let committer = &json["contestants"][0];
    assert_eq!(committer["status"], "failed", "{committer:#}");
    // The answers are right and one statement ran per row...
    for name in ["db", "queries", "updates", "statements"] {
        assert_eq!(
            check(committer, name)["passed"],
            true,
            "{name}: {committer:#}"
        );
    }
    // ...but five transactions wrote the five rows.
    let transactions = check(committer, "transactions");
    assert_eq!(transactions["passed"], false);
    let reason = transactions["reason"].as_str().unwrap();
    assert!(
        reason.contains("GET /updates?n=5 committed 5 transactions"),
        "{reason}"
    );
}
