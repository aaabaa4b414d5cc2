//! Issue 13: an installed `faceoff` outside the repository, and the user's own app from
//! `faceoff new-contestant` verified and measured.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{faceoff, faceoff_json, server_cpu, test_cache};

/// The built binary copied out of the repository, as `cargo install` would place it, run from
/// `cwd` (another folder outside the repository).
fn installed(bin_dir: &Path, cwd: &Path) -> Command {
    let bin: PathBuf = bin_dir.join("faceoff");
    if !bin.is_file() {
        std::fs::copy(env!("CARGO_BIN_EXE_faceoff"), &bin).unwrap();
    }
    let mut cmd = Command::new(bin);
    cmd.current_dir(cwd).env("FACEOFF_CACHE_DIR", test_cache());
    cmd
}

#[test]
fn an_installed_faceoff_finds_its_contestants_and_suites_outside_the_repository() {
    let bin_dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let out = installed(bin_dir.path(), cwd.path())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("new-contestant"));

    // The built-in claims and profiles, read from the binary.
    let out = installed(bin_dir.path(), cwd.path())
        .args(["verdict", "--profile", "no-such-profile"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("realtime-chat, rest-crud, data-api, mixed"),
        "{stderr}"
    );

    // A reference contestant, written out from the binary and verified (its install is keyed
    // by content, so the shared cache already has it).
    let out = installed(bin_dir.path(), cwd.path())
        .args(["verify", "--json", "--only", "node-http"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let contestants = json["contestants"].as_array().unwrap();
    assert_eq!(contestants.len(), 1, "{json}");
    assert_eq!(contestants[0]["name"], "node-http");
    assert_eq!(contestants[0]["status"], "passed", "{json}");
    let bundled = test_cache().join("bundled");
    assert!(
        std::fs::read_dir(&bundled).unwrap().flatten().any(|e| e
            .path()
            .join("contestants/node-http/contestant.toml")
            .is_file()),
        "nothing written under {}",
        bundled.display()
    );
    // Nothing but the results of the command in the current folder.
    let left: Vec<_> = std::fs::read_dir(cwd.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A built-in suite resolves; a bad --only names the built-in contestants.
    let out = installed(bin_dir.path(), cwd.path())
        .args(["run", "--suite", "quick", "--only", "nope"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("there is no contestant 'nope'"), "{stderr}");
    assert!(stderr.contains("rust-axum"), "{stderr}");
}

/// `faceoff new-contestant DIR --stack STACK` in a temporary folder; returns the folder.
fn new_contestant(root: &Path, stack: &str) -> PathBuf {
    let dir = root.join(format!("my-{stack}-app"));
    let out = faceoff()
        .args(["new-contestant", "--stack", stack])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn new_contestant_templates_pass_verify() {
    let root = tempfile::tempdir().unwrap();
    for stack in ["node", "python"] {
        let dir = new_contestant(root.path(), stack);
        let (code, json, stderr) = faceoff_json(
            "verify",
            &["--contestant", dir.to_str().unwrap()],
            &test_cache(),
        );
        assert_eq!(code, 0, "{stack}: {stderr}\n{json}");
        let c = &json["contestants"][0];
        assert_eq!(c["name"], format!("my-{stack}-app"));
        assert_eq!(c["status"], "passed", "{stack}: {json}");
        // Only what it declares is checked; the rest is listed as undeclared.
        assert!(
            c["undeclared"].as_array().is_some_and(|u| !u.is_empty()),
            "{json}"
        );
    }
    // The folder must be new.
    let out = faceoff()
        .args(["new-contestant", "--stack", "node"])
        .arg(root.path().join("my-node-app"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
}

#[test]
fn a_new_node_contestant_is_measured_end_to_end() {
    let _cpu = server_cpu();
    let root = tempfile::tempdir().unwrap();
    let dir = new_contestant(root.path(), "node");
    let results = root.path().join("results");
    let out = faceoff()
        .arg("run")
        .arg("--contestant")
        .arg(&dir)
        .args(["--only", "my-node-app", "--suite"])
        .arg(dir.join("suite.toml"))
        .args([
            "--warmup",
            "200ms",
            "--trial",
            "500ms",
            "--min-rounds",
            "2",
            "--max-rounds",
            "2",
            "--no-calibration",
            "--audit",
            "off",
        ])
        // A database of another name: the run's reports and its logs share one folder beside
        // it, named after it, whatever the results folder says.
        .arg("--db")
        .arg(root.path().join("mine.db"))
        .env("FACEOFF_RESULTS_DIR", &results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let store = faceoff::store::Store::open(&root.path().join("mine.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let workloads: std::collections::BTreeSet<&str> =
        run.trials.iter().map(|t| t.workload.as_str()).collect();
    assert_eq!(
        workloads.into_iter().collect::<Vec<_>>(),
        ["compute", "io", "json", "plaintext"],
        "{stderr}"
    );
    assert!(
        run.trials.iter().all(|t| t.contestant == "my-node-app"),
        "only the user's contestant ran"
    );
    let run_dir = root.path().join(format!("mine-{}", run.run.id));
    let report = std::fs::read_to_string(run_dir.join("summary.md")).unwrap();
    assert!(report.contains("docs/report-guide.md"), "{report}");
    assert!(run_dir.join("logs/my-node-app.log").is_file(), "{stderr}");
    assert!(
        !results.exists(),
        "nothing is written to the unused results folder"
    );
}
