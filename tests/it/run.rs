//! `faceoff run` end to end: real contestants, real SQLite, Ctrl-C, crashes, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faceoff::store::{RunStatus, Store};

use crate::common::{faceoff, fixture};

/// A `faceoff run` command whose database and results live in `dir`.
fn run_in(dir: &Path) -> Command {
    let mut cmd = faceoff();
    cmd.arg("run")
        .env("FACEOFF_RESULTS_DIR", dir)
        .env("FACEOFF_DB", dir.join("faceoff.db"));
    cmd
}

/// Processes whose environment names `dir` (every contestant gets a DB_PATH under it).
fn processes_using(dir: &Path) -> Vec<i32> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) {
            if env.split(|&b| b == 0).any(|kv| {
                let kv = String::from_utf8_lossy(kv);
                kv.starts_with("DB_PATH=") && kv.contains(&needle)
            }) {
                found.push(pid);
            }
        }
    }
    found
}

fn no_process_left(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_using(dir);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes outlived faceoff: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tempdir() -> PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn quick_suite_end_to_end_then_interrupted() {
    let dir = tempdir();
    let out = run_in(&dir)
        .args([
            "--suite",
            "quick",
            "--only",
            "node-http",
            "--only",
            "python-fastapi",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    for name in ["json", "db", "fortunes", "io"] {
        assert!(stdout.contains(name), "table lacks {name}:\n{stdout}");
    }

    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    // The table names contestants by their display names.
    for c in &run.contestants {
        assert!(
            stdout.contains(&c.display_name),
            "table lacks {}:\n{stdout}",
            c.display_name
        );
    }
    assert_eq!(run.run.status, RunStatus::Complete);
    assert_eq!(run.contestants.len(), 2);
    assert!(
        run.contestants
            .iter()
            .all(|c| c.status == faceoff::store::ContestantStatus::Measured),
        "{:?}",
        run.contestants
    );
    assert!(!run.environment.as_ref().unwrap().cpu_model.is_empty());
    let plan = faceoff::suite::builtin("quick").unwrap();
    let mut expected = 0;
    for w in &plan.workloads {
        for c in ["node-http", "python-fastapi"] {
            let trials: Vec<_> = run
                .trials
                .iter()
                .filter(|t| t.workload == w.name && t.contestant == c)
                .collect();
            assert!(
                trials.len() >= w.min_rounds && trials.len() <= w.max_rounds,
                "{} {c}: {} trials",
                w.name,
                trials.len()
            );
            expected += trials.len();
            for t in trials {
                let m = &t.metrics;
                assert!(m.requests > 0 && m.rps > 0.0, "{} {c}: {m:?}", w.name);
                assert_eq!(m.errors, 0, "{} {c}: {m:?}", w.name);
                assert!(
                    m.server_cpu_s > 0.0 && m.cpu_ms_per_1k > 0.0,
                    "{} {c}: {m:?}",
                    w.name
                );
                assert!(
                    m.pss_mean_bytes > 1 << 20 && m.pss_peak_bytes >= m.pss_mean_bytes,
                    "{m:?}"
                );
                assert!(
                    m.latency_us[0] > 0 && m.latency_us[0] <= m.latency_us[2],
                    "{m:?}"
                );
                let mut bytes = &t.histogram[..];
                let h: hdrhistogram::Histogram<u64> =
                    hdrhistogram::serialization::Deserializer::new()
                        .deserialize(&mut bytes)
                        .unwrap();
                assert_eq!(h.len(), m.requests, "{} {c}", w.name);
            }
        }
    }
    assert_eq!(run.trials.len(), expected);
    no_process_left(&dir);

    // A second run, interrupted with SIGINT once its first trials are stored.
    let mut child = run_in(&dir)
        .args([
            "--suite",
            "quick",
            "--only",
            "node-http",
            "--only",
            "python-fastapi",
            "--trial",
            "2s",
            "--max-rounds",
            "10",
            "--min-rounds",
            "10",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let second = loop {
        let id = store.latest_run().unwrap().unwrap();
        if id != run.run.id && store.run(id).unwrap().trials.len() >= 3 {
            break id;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the second run ended on its own"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?} to stop",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let interrupted = store.run(second).unwrap();
    assert_eq!(interrupted.run.status, RunStatus::Interrupted);
    assert!(interrupted.trials.len() >= 3);
    for t in &interrupted.trials {
        assert!(
            t.metrics.requests > 0 && t.metrics.duration_s >= 1.9,
            "a partial trial was stored: {:?}",
            t.metrics
        );
    }
    no_process_left(&dir);
    // The first run is untouched.
    assert_eq!(store.run(run.run.id).unwrap().trials.len(), expected);
}

#[test]
fn a_crash_is_recorded_and_the_run_goes_on() {
    let dir = tempdir();
    let healthy = crate::common::TempContestant::new("steady", "exec node server.js", "");
    let out = run_in(&dir)
        .args(["--suite"])
        .arg(fixture("healthz-suite.toml"))
        .arg("--contestant")
        .arg(fixture("crasher"))
        .arg("--contestant")
        .arg(healthy.dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("crasher") && stderr.contains("log"),
        "{stderr}"
    );
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    assert_eq!(run.run.status, RunStatus::Complete);
    let crash = run
        .events
        .iter()
        .find(|e| e.kind == "crash")
        .expect("a crash event");
    assert_eq!(crash.contestant.as_deref(), Some("crasher"));
    assert!(
        crash.message.contains("giving up after"),
        "log tail missing: {}",
        crash.message
    );
    let crasher = run
        .contestants
        .iter()
        .find(|c| c.name == "crasher")
        .unwrap();
    assert_eq!(crasher.status, faceoff::store::ContestantStatus::Crashed);
    let steady = run
        .trials
        .iter()
        .filter(|t| t.contestant == "steady")
        .count();
    assert_eq!(steady, 2, "the healthy contestant ran every round");
    no_process_left(&dir);
}

#[test]
fn bad_run_input_is_one_line() {
    let dir = tempdir();
    let bad_suite = dir.join("bad.toml");
    std::fs::write(
        &bad_suite,
        "name = 'x'\n[[workload]]\nname = 'a'\nconnections = 0\n[[workload.request]]\npath = '/'\n",
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--suite".into(), "nope".into()], "nope"),
        (
            vec!["--suite".into(), bad_suite.display().to_string()],
            "bad.toml:4",
        ),
        (vec!["--only".into(), "no-such".into()], "no-such"),
        (
            vec!["--contestant".into(), dir.display().to_string()],
            "contestant.toml",
        ),
        (vec!["--server-cpus".into(), "999".into()], "999"),
        (vec!["--resume".into(), "77".into()], "77"),
    ];
    for (args, needle) in cases {
        let out = run_in(&dir).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
