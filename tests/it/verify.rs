//! `faceoff verify` end to end: the faulty fixture fails exactly its four deliberate faults,
//! every reference contestant passes every check, and bad input gives clear errors.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::common::{
    faceoff, faceoff_json, fixture, group_alive, interrupt, wait_exit, wait_for_pgid,
    TempContestant,
};

/// Runs `faceoff verify --json` with `args` and a cache folder; returns exit code, JSON, stderr.
fn verify_json(args: &[&str], cache: &Path) -> (i32, Value, String) {
    faceoff_json("verify", args, cache)
}

fn failed_checks(contestant: &Value) -> BTreeSet<String> {
    contestant["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn faulty_fixture_fails_exactly_its_faults() {
    let cache = tempfile::tempdir().unwrap();
    let dir = fixture("faulty");
    let (code, json, stderr) = verify_json(&["--contestant", dir.to_str().unwrap()], cache.path());
    assert_eq!(code, 1, "{stderr}");
    let faulty = &json["contestants"][0];
    assert_eq!(faulty["status"], "failed", "{faulty:#}");
    let want: BTreeSet<String> = ["json", "fortunes", "io-concurrent", "users-invalid"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(failed_checks(faulty), want, "{faulty:#}");
    assert_eq!(
        faulty["checks"].as_array().unwrap().len(),
        faceoff::contract::check_names_for(faceoff::database::DatabaseKind::Sqlite).len()
    );
}

#[test]
fn every_reference_contestant_passes_every_check() {
    let found = crate::common::reference_contestants();
    // Installs are slow (npm, pip, cargo); keep them between test runs, inside target/.
    let cache = crate::common::test_cache();
    let (code, json, stderr) = verify_json(&[], &cache);
    let mut problems = Vec::new();
    for c in json["contestants"].as_array().unwrap() {
        if c["status"] != "passed" {
            problems.push(format!(
                "{}: {} {} {:?}",
                c["name"],
                c["status"],
                c["message"],
                failed_checks(c)
                    .iter()
                    .map(|name| {
                        let check = c["checks"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|k| k["name"] == name.as_str())
                            .unwrap();
                        format!("{name}: {}", check["reason"])
                    })
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}\n{stderr}");
    assert_eq!(json["contestants"].as_array().unwrap().len(), found.len());
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn missing_folder_is_a_one_line_error() {
    let out = faceoff()
        .args(["verify", "--contestant", "no/such/contestant"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: contestant folder 'no/such/contestant' does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn bad_manifest_names_file_and_line() {
    let t = TempContestant::new("typo", "exec node server.js", "[instal]\ncommand = \"x\"");
    let out = faceoff()
        .args(["verify", "--contestant"])
        .arg(t.dir())
        .env("FACEOFF_CACHE_DIR", t.cache())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("contestant.toml:11:"), "{stderr}");
    assert!(stderr.contains("instal"), "{stderr}");
}

#[test]
fn unknown_check_is_refused() {
    let out = faceoff()
        .args(["verify", "--check", "jsonn", "--contestant"])
        .arg(fixture("faulty"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("there is no check 'jsonn'"), "{stderr}");
}

#[test]
fn never_healthy_contestant_is_reported_with_its_log() {
    let t = TempContestant::new("mute", "exec sleep 300", "health_timeout = \"1s\"");
    let out = faceoff()
        .args(["verify", "--contestant"])
        .arg(t.dir())
        .env("FACEOFF_CACHE_DIR", t.cache())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("mute (error): contestant 'mute' did not answer GET /healthz"),
        "{stdout}"
    );
    // The log sits in this process's own folder of the verify work area, and is still there.
    let log = stdout
        .split("its log is ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no log path: {stdout}"));
    assert!(
        log.contains("/verify/") && log.ends_with("/mute.log"),
        "{log}"
    );
    assert!(std::path::Path::new(log).is_file(), "{log}");
}

#[test]
fn crash_during_verify_fails_the_rest() {
    // Healthy until the first real request, which kills it.
    let start = "exec node -e \"require('node:http').createServer((q, s) => { \
                 if (q.url === '/healthz') { s.setHeader('content-type', 'text/plain'); return s.end('ok'); } process.exit(9); })\
                 .listen(Number(process.env.PORT), process.env.HOST)\"";
    let t = TempContestant::new("fragile", start, "");
    let cache = t.cache();
    let dir = t.dir();
    let (code, json, _) = verify_json(
        &[
            "--check",
            "healthz,plaintext,json",
            "--contestant",
            dir.to_str().unwrap(),
        ],
        &cache,
    );
    assert_eq!(code, 1);
    let c = &json["contestants"][0];
    let checks = c["checks"].as_array().unwrap();
    assert_eq!(checks[0]["passed"], true);
    let plaintext = checks[1]["reason"].as_str().unwrap();
    assert!(plaintext.contains("exited (exit code 9)"), "{plaintext}");
    let json_reason = checks[2]["reason"].as_str().unwrap();
    assert!(
        json_reason.starts_with("not run: the contestant exited"),
        "{json_reason}"
    );
    assert!(
        c["message"].as_str().unwrap().contains("fragile.log"),
        "{c:#}"
    );
}

#[test]
fn missing_runtime_is_skipped_with_a_notice() {
    let t = TempContestant::new("exotic", "exec node server.js", "");
    let manifest = t.dir().join("contestant.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "requires = [\"node\"]",
        "requires = [\"node\", \"faceoff-no-such-runtime\"]",
    );
    std::fs::write(&manifest, text).unwrap();
    let out = faceoff()
        .args(["verify", "--contestant"])
        .arg(t.dir())
        .env("FACEOFF_CACHE_DIR", t.cache())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Issue 13: nothing was checked, so this is no pass: exit 4, saying which and why.
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("notice: skipping exotic: needs faceoff-no-such-runtime on PATH"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing was verified: every contestant was skipped: exotic (needs faceoff-no-such-runtime on PATH"),
        "{stderr}"
    );
}

#[test]
fn interrupt_stops_the_contestant_group() {
    // Never healthy, with a grandchild: faceoff sits in the health wait when interrupted.
    // Regression (issue 8): the health wait saw the child die and failed with exit 1.
    let start = "echo $$ > pgid; sleep 300 & exec sleep 301";
    let t = TempContestant::new("interrupted", start, "health_timeout = \"60s\"");
    let mut child = faceoff()
        .args(["verify", "--contestant"])
        .arg(t.dir())
        .env("FACEOFF_CACHE_DIR", t.cache())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pgid = wait_for_pgid(&t.cache(), "interrupted", "pgid", Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(200));
    assert!(group_alive(pgid));
    interrupt(&child);
    let status = wait_exit(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(130));
    // faceoff waits for the group to be gone before it exits.
    assert!(
        !group_alive(pgid),
        "left: {:?}",
        faceoff::contestant::group::group_pids(pgid)
    );
}
