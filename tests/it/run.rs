//! `faceoff run` end to end: real contestants, real SQLite, Ctrl-C, crashes, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use faceoff::store::{RunStatus, Store};

use crate::common::{faceoff, fixture};

use crate::common::server_cpu;

/// A `faceoff run` command whose database and results live in `dir`.
fn run_in(dir: &Path) -> Command {
    let mut cmd = faceoff();
    cmd.arg("run")
        .env("FACEOFF_RESULTS_DIR", dir)
        .env("FACEOFF_DB", dir.join("faceoff.db"));
    cmd
}

/// Processes whose environment names `dir` (every contestant gets a DB_PATH under it).
/// `faceoff run` in `dir` on `suite`, measuring exactly these contestants.
fn run_contestants(
    dir: &Path,
    suite: &Path,
    contestants: &[&crate::common::TempContestant],
) -> Command {
    let mut cmd = run_in(dir);
    cmd.arg("--suite").arg(suite);
    for c in contestants {
        cmd.arg("--contestant")
            .arg(c.dir())
            .arg("--only")
            .arg(crate::common::name_of(c.dir()));
    }
    cmd
}

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

/// Runs `faceoff run` in `dir` on one contestant with `suite` and `extra` options, asserts it
/// succeeded, and returns its stdout, the store and the run as stored.
fn run_one(
    dir: &Path,
    suite: &Path,
    contestant: &Path,
    extra: &[&str],
) -> (String, Store, faceoff::store::RunDetail) {
    let out = run_in(dir)
        .arg("--suite")
        .arg(suite)
        .arg("--contestant")
        .arg(contestant)
        .arg("--only")
        .arg(crate::common::name_of(contestant))
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        store,
        run,
    )
}

/// The results.json the run wrote.
fn results_json(dir: &Path, run_id: i64) -> serde_json::Value {
    let path = dir.join(run_id.to_string()).join("results.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn tempdir() -> PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn quick_suite_end_to_end_then_interrupted() {
    let _cpu = server_cpu();
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
                .filter(|t| {
                    t.workload == w.name && t.contestant == c && !t.metrics.quality.superseded
                })
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
    let counted = run
        .trials
        .iter()
        .filter(|t| !t.metrics.quality.superseded)
        .count();
    assert_eq!(counted, expected);
    for t in &run.trials {
        let q = &t.metrics.quality;
        assert!(
            q.quiet_wait_s.is_some() && q.foreign_cpu_s.is_some(),
            "{q:?}"
        );
        // The machine's speed, probed on the quiet server CPU before the window.
        assert!(
            q.speed_ns_per_step.is_some_and(|ns| ns > 0.0 && ns < 500.0),
            "{q:?}"
        );
        if t.workload == "ws-room" {
            // A room's connections are its publishers and subscribers, and Little's law speaks
            // of round trips, not broadcasts (its busy connections are null).
            assert!(q.connections.is_some_and(|c| c > 1), "{q:?}");
            continue;
        }
        assert_eq!(
            q.connections,
            Some(if t.workload == "io" { 256 } else { 64 })
        );
        assert!(q.busy_connections.is_some_and(|b| b > 0.0), "{q:?}");
    }
    // The run began with a calibration of this machine's noise, stored with its settings.
    let noise = run
        .settings
        .as_ref()
        .and_then(|s| s.noise.clone())
        .expect("a noise calibration");
    assert_eq!(noise.trials, 5, "{noise:?}");
    assert!(noise.rel_spread >= 0.0, "{noise:?}");
    assert!(stderr.contains("machine noise"), "{stderr}");
    // The report reads the probes back: their median and each workload's speed.
    let report = faceoff::report::ReportData::from_run(&run);
    let speed = report.method.machine_speed.as_ref().expect("machine speed");
    assert_eq!(speed.probes as usize, run.trials.len(), "{speed:?}");
    assert_eq!(speed.workloads.len(), plan.workloads.len(), "{speed:?}");
    assert!(speed.fastest_ns > 0.0 && speed.fastest_ns <= speed.median_ns);
    // Once measured, each was audited (issue 11): the quick audit, stored and read back.
    let audited: Vec<(String, Option<String>)> = store
        .audits(run.run.id)
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.grade))
        .collect();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(
        audited.iter().all(|(_, grade)| grade.is_some()),
        "{audited:?}"
    );
    assert!(stdout.contains("security audit"), "{stdout}");
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
            "--no-calibration",
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
    assert_eq!(
        store.run(run.run.id).unwrap().trials.len(),
        run.trials.len()
    );
}

#[test]
fn a_crash_is_recorded_and_the_run_goes_on() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let healthy = crate::common::TempContestant::new("steady", "exec node server.js", "");
    let out = run_in(&dir)
        .args(["--suite"])
        .arg(fixture("healthz-suite.toml"))
        .arg("--contestant")
        .arg(fixture("crasher"))
        .arg("--only")
        .arg(crate::common::name_of(fixture("crasher")))
        .arg("--contestant")
        .arg(healthy.dir())
        .arg("--only")
        .arg(crate::common::name_of(healthy.dir()))
        .arg("--no-calibration")
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
        .filter(|t| t.contestant == "steady" && !t.metrics.quality.superseded)
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

/// A suite of one workload on `/` with short trials and exactly `rounds` rounds.
fn short_suite(dir: &Path, trial: &str, rounds: u32) -> PathBuf {
    short_suite_of(dir, trial, rounds, &["root"])
}

/// [`short_suite`] with a workload of each name, all alike.
fn short_suite_of(dir: &Path, trial: &str, rounds: u32, workloads: &[&str]) -> PathBuf {
    let path = dir.join("short.toml");
    let mut text = format!(
        "name = 'short'\n[defaults]\nwarmup = '200ms'\ntrial = '{trial}'\nmin_rounds = {rounds}\n\
         max_rounds = {rounds}\ntarget_ci = 0.03\ntimeout = '5s'\n"
    );
    for name in workloads {
        text += &format!(
            "[[workload]]\nname = '{name}'\nconnections = 8\n[[workload.request]]\npath = '/'\n"
        );
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A contestant that keeps burning its CPU for 2.5 s after each burst of requests, as a server
/// still working through its queue does.
const BURNER_JS: &str = r#"
const http = require('node:http');
let last = 0;
http.createServer((req, res) => { last = Date.now(); res.end('ok'); })
  .listen(Number(process.env.PORT), process.env.HOST);
setInterval(() => {
  const idle = Date.now() - last;
  if (last && idle > 100 && idle < 2500) {
    const until = Date.now() + 40;
    while (Date.now() < until) {}
  }
}, 50);
"#;

#[test]
fn a_server_that_keeps_burning_makes_the_next_trial_wait_or_be_marked() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let burner = crate::common::TempContestant::new("burner", "exec node server.js", "");
    burner.write("server.js", BURNER_JS);
    let steady = crate::common::TempContestant::new("steady", "exec node server.js", "");
    // Contestants are prepared in the order given: burner is 0, steady 1. Pick a seed whose
    // first round puts the burner first, so at least one trial of steady follows the burner's.
    let seed = (0..)
        .find(|&s| faceoff::runner::order::round_order(s, "root", 1, 2) == vec![0, 1])
        .unwrap();
    let out = run_in(&dir)
        .arg("--suite")
        .arg(short_suite(&dir, "500ms", 2))
        .arg("--contestant")
        .arg(burner.dir())
        .arg("--only")
        .arg(crate::common::name_of(burner.dir()))
        .arg("--contestant")
        .arg(steady.dir())
        .arg("--only")
        .arg(crate::common::name_of(steady.dir()))
        .args(["--seed", &seed.to_string(), "--no-calibration"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let mut followed = 0;
    for pair in run.trials.windows(2) {
        if pair[0].contestant != "burner" || pair[1].contestant != "steady" {
            continue;
        }
        followed += 1;
        let q = &pair[1].metrics.quality;
        // The burner keeps its CPU busy for 2.5 s after its trial: the next trial waited for
        // it, or started anyway and says so, or was disturbed and says so.
        assert!(
            q.quiet_wait_s.is_some_and(|w| w >= 1.0)
                || q.quiet_at_start == Some(false)
                || q.contaminated,
            "{q:?}"
        );
    }
    assert!(followed >= 1, "no trial of steady followed the burner's");
    no_process_left(&dir);
}

#[test]
fn the_order_is_shuffled_recorded_and_reproducible_from_the_seed() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let names = ["a", "b", "c"];
    let contestants: Vec<_> = names
        .iter()
        .map(|n| crate::common::TempContestant::new(n, "exec node server.js", ""))
        .collect();
    let rounds = 3;
    let seed = 11u64;
    let expected: Vec<Vec<&str>> = (1..=rounds)
        .map(|r| {
            faceoff::runner::order::round_order(seed, "root", r, 3)
                .into_iter()
                .map(|i| names[i])
                .collect()
        })
        .collect();
    assert!(
        expected.iter().any(|o| o != &names),
        "seed {seed} keeps the given order in every round; pick another"
    );
    let suite = short_suite(&dir, "300ms", rounds);
    for _ in 0..2 {
        let all: Vec<_> = contestants.iter().collect();
        let out = run_contestants(&dir, &suite, &all)
            .args(["--seed", &seed.to_string(), "--no-calibration"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains(&format!("order seed {seed}")), "{stderr}");
        let store = Store::open(&dir.join("faceoff.db")).unwrap();
        let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
        assert_eq!(run.settings.as_ref().and_then(|s| s.order_seed), Some(seed));
        // The store keeps trials in the order they ran; retries of a disturbed trial follow it.
        for (r, want) in expected.iter().enumerate() {
            let mut got: Vec<&str> = run
                .trials
                .iter()
                .filter(|t| t.round as usize == r + 1)
                .map(|t| t.contestant.as_str())
                .collect();
            got.dedup();
            assert_eq!(&got, want, "round {}", r + 1);
        }
    }
    no_process_left(&dir);
}

#[test]
fn contaminated_trials_are_stored_and_retried() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let _cpu = server_cpu();
    let dir = tempdir();
    let steady = crate::common::TempContestant::new("steady", "exec node server.js", "");
    let (server_cpus, load_cpus) =
        faceoff::runner::environment::default_cpu_split(&faceoff::sys::allowed_cpus());
    assert!(
        server_cpus.iter().all(|c| !load_cpus.contains(c)),
        "this test needs separate server and load CPUs"
    );
    // Something else spinning on the server CPU all through the run.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let cpu = server_cpus[0];
    let spinner = std::thread::spawn(move || {
        faceoff::sys::pin_current_thread(&[cpu]).unwrap();
        let mut x = 0u64;
        while !flag.load(Ordering::Relaxed) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    });
    let out = run_in(&dir)
        .arg("--suite")
        .arg(short_suite(&dir, "500ms", 1))
        .arg("--contestant")
        .arg(steady.dir())
        .arg("--only")
        .arg(crate::common::name_of(steady.dir()))
        .arg("--no-calibration")
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    spinner.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let tries: Vec<_> = run.trials.iter().map(|t| &t.metrics.quality).collect();
    assert_eq!(tries.len(), 3, "one try and two retries: {tries:?}");
    for (retry, q) in tries.iter().enumerate() {
        assert_eq!(q.retry, retry as u32);
        assert!(q.contaminated, "{q:?}");
        assert_eq!(q.quiet_at_start, Some(false), "{q:?}");
        assert!(q.foreign_cpu_s.is_some_and(|f| f > 0.1), "{q:?}");
        // The first two are shown but not counted; the last is kept, marked.
        assert_eq!(q.superseded, retry < 2, "{q:?}");
    }
    assert!(stderr.contains("trying it again"), "{stderr}");
    assert!(
        run.events.iter().any(|e| e.kind == "contaminated"),
        "{:?}",
        run.events
    );
    no_process_left(&dir);
}

#[test]
fn an_interrupted_run_resumes_with_its_seed_and_every_round_counted_once() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let steady = crate::common::TempContestant::new("steady", "exec node server.js", "");
    let other = crate::common::TempContestant::new("other", "exec node server.js", "");
    let rounds = 4;
    let suite = short_suite_of(&dir, "300ms", rounds, &["root", "again"]);
    let mut child = run_contestants(&dir, &suite, &[&steady, &other])
        .args(["--seed", "5", "--no-calibration"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("first.log")).unwrap())
        .spawn()
        .unwrap();
    let db = dir.join("faceoff.db");
    let log = || std::fs::read_to_string(dir.join("first.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let stored = db
            .exists()
            .then(|| Store::open(&db).ok())
            .flatten()
            .and_then(|s| s.latest_run().ok().flatten().map(|id| (s, id)))
            .map_or(0, |(s, id)| s.run(id).map_or(0, |r| r.trials.len()));
        // Past round 1 of both workloads: the interrupt falls in the middle of their turns.
        if stored >= 5 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended early: {}",
            log()
        );
        assert!(Instant::now() < deadline, "no trial stored");
        std::thread::sleep(Duration::from_millis(100));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    no_process_left(&dir);

    let out = run_in(&dir)
        .args(["--resume", "--no-calibration"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("order seed 5"), "{stderr}");
    let store = Store::open(&db).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    assert_eq!(run.run.status, RunStatus::Complete);
    for (workload, name) in [
        ("root", "steady"),
        ("root", "other"),
        ("again", "steady"),
        ("again", "other"),
    ] {
        let mut counted: Vec<u32> = run
            .trials
            .iter()
            .filter(|t| {
                t.workload == workload && t.contestant == name && !t.metrics.quality.superseded
            })
            .map(|t| t.round)
            .collect();
        counted.sort();
        assert_eq!(
            counted,
            (1..=rounds).collect::<Vec<_>>(),
            "{workload} {name}"
        );
    }
    no_process_left(&dir);
}

#[test]
fn rounds_take_turns_across_workloads() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let a = crate::common::TempContestant::new("a", "exec node server.js", "");
    let b = crate::common::TempContestant::new("b", "exec node server.js", "");
    let rounds = 3;
    let suite = short_suite_of(&dir, "200ms", rounds, &["root", "again"]);
    let out = run_contestants(&dir, &suite, &[&a, &b])
        .arg("--no-calibration")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(&dir.join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    // In the order they ran: round 1 of both workloads, then round 2 of both, ...
    let mut turns: Vec<(u32, &str)> = run
        .trials
        .iter()
        .filter(|t| !t.metrics.quality.superseded)
        .map(|t| (t.round, t.workload.as_str()))
        .collect();
    turns.dedup();
    let want: Vec<(u32, &str)> = (1..=rounds)
        .flat_map(|r| [(r, "root"), (r, "again")])
        .collect();
    assert_eq!(turns, want);
    no_process_left(&dir);
}

/// A contestant that answers its first 40 requests (besides `/healthz`), then holds every other
/// one open without a word, as a server whose worker pool has wedged does.
const STALLER_JS: &str = r#"
const http = require('node:http');
let answered = 0;
http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (answered < 40) { answered++; return res.end('ok'); }
})
  .listen(Number(process.env.PORT), process.env.HOST);
"#;

#[test]
fn a_contestant_that_stops_answering_shows_its_unanswered_requests_and_the_report_is_written() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let staller = crate::common::TempContestant::new("staller", "exec node server.js", "");
    staller.write("server.js", STALLER_JS);
    let suite = dir.join("stall.toml");
    std::fs::write(
        &suite,
        "name = 'stall'\n[defaults]\nwarmup = '200ms'\ntrial = '500ms'\nmin_rounds = 2\n\
         max_rounds = 2\ntarget_ci = 0.03\ntimeout = '2s'\n\
         [[workload]]\nname = 'root'\nconnections = 8\n[[workload.request]]\npath = '/'\n",
    )
    .unwrap();
    // A server that holds every request makes each probe wait its 5 s: not this test's
    // subject (the quick audit's budget bounds it).
    let (stdout, _store, run) = run_one(
        &dir,
        &suite,
        &staller.dir(),
        &["--no-calibration", "--audit", "off"],
    );
    // Every trial's window closed with the requests of its connections still waiting.
    let trials: Vec<_> = run.trials.iter().filter(|t| t.workload == "root").collect();
    assert!(!trials.is_empty());
    for t in &trials {
        assert_eq!(t.metrics.requests, 0, "{:?}", t.metrics);
        assert!(t.metrics.quality.unanswered > 0, "{:?}", t.metrics.quality);
        assert!(!t.metrics.counts());
    }
    // The report is written, and says the figures are missing and why, never zero.
    let json = results_json(&dir, run.run.id);
    let result = &json["workloads"][0]["results"][0];
    assert_eq!(result["name"], "staller", "{result}");
    assert!(result["rps"].is_null(), "{result}");
    assert!(
        result["unanswered"].as_u64().is_some_and(|u| u > 0),
        "{result}"
    );
    assert!(
        result["no_data"]
            .as_str()
            .is_some_and(|why| why.contains("no response")),
        "{result}"
    );
    assert!(stdout.contains("wrote"), "{stdout}");
    assert!(dir
        .join(run.run.id.to_string())
        .join("report.html")
        .is_file());
    no_process_left(&dir);
}

/// Issue 11: after its trials, each contestant is audited (quick by default), the audit is
/// stored and read back, a contestant the probes crash is started again without touching its
/// run log or its results, and every report shows the audit.
#[test]
fn each_contestant_is_audited_after_its_trials_and_a_crash_costs_no_result() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let (stdout, store, run) = run_one(
        &dir,
        &fixture("healthz-suite.toml"),
        &fixture("insecure"),
        &["--no-calibration"],
    );
    assert_eq!(run.run.status, RunStatus::Complete);
    assert_eq!(
        run.settings.as_ref().and_then(|s| s.audit),
        Some(faceoff::audit::AuditDepth::Quick)
    );
    // The trials are all there, and the crash the audit caused is no crash of the run.
    let counted = run
        .trials
        .iter()
        .filter(|t| !t.metrics.quality.superseded)
        .count();
    assert_eq!(counted, 2);
    assert_eq!(
        run.contestants[0].status,
        faceoff::store::ContestantStatus::Measured
    );
    assert!(
        !run.events.iter().any(|e| e.kind == "crash"),
        "{:?}",
        run.events
    );

    let audits = store.audits(run.run.id).unwrap();
    assert_eq!(audits.len(), 1);
    assert_eq!(run.audits.len(), 1, "the run's read model carries it too");
    let a = &audits[0];
    assert_eq!(a.name, "insecure");
    assert_eq!(
        (a.grade.as_deref(), a.score),
        (Some("C"), Some(50)),
        "{a:#?}"
    );
    let mut found: Vec<&str> = a.findings.iter().map(|f| f.name.as_str()).collect();
    found.sort();
    // The fixture's five faults but the slow client, which the quick audit leaves out.
    assert_eq!(
        found,
        [
            "content-security-policy",
            "large-body",
            "malformed-json",
            "x-content-type-options",
            "x-frame-options",
            "x-powered-by"
        ],
        "{a:#?}"
    );
    let large = a.findings.iter().find(|f| f.name == "large-body").unwrap();
    assert!(large.detail.contains("exited"), "{large:?}");
    assert!(large.evidence.contains("10 MiB"), "{large:?}");
    let probes = faceoff::audit::hostile::PROBES.len() + 1;
    assert_eq!(a.probes_passed(), Some((probes - 2, probes)), "{a:#?}");
    assert_eq!(a.left_out.len(), 1, "{:?}", a.left_out);
    assert_eq!(a.left_out[0].probe, "slow-client");
    assert!(a.elapsed_ms < 60_000, "{a:#?}");
    // Started again after the large body, with a log of its own: the run's log is intact.
    let logs = dir.join(run.run.id.to_string()).join("logs");
    assert!(logs.join("audit/insecure.log").is_file());
    assert!(logs.join("insecure.log").is_file());

    assert!(stdout.contains("security audit"), "{stdout}");
    let json = results_json(&dir, run.run.id);
    let row = &json["audit"]["rows"][0];
    assert_eq!(row["audit"]["grade"], "C", "{row}");
    assert!(row["not_audited"].is_null(), "{row}");
    assert!(row["audit"].get("probed").is_none(), "{row}");
    no_process_left(&dir);
}

/// Issue 11: `--audit off` runs no probe, and the report says "not audited" and why, never a
/// grade.
#[test]
fn a_run_with_audit_off_shows_not_audited_with_the_reason() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let steady = crate::common::TempContestant::new("steady", "exec node server.js", "");
    let suite = short_suite(&dir, "300ms", 1);
    let (stdout, store, run) = run_one(
        &dir,
        &suite,
        &steady.dir(),
        &["--no-calibration", "--audit", "off"],
    );
    assert!(store.audits(run.run.id).unwrap().is_empty());
    assert!(
        stdout.contains("steady: not audited: the run was made with --audit off"),
        "{stdout}"
    );
    let report = dir.join(run.run.id.to_string());
    let json = results_json(&dir, run.run.id);
    assert_eq!(json["audit"]["depth"], "off");
    let row = &json["audit"]["rows"][0];
    assert!(row["audit"].is_null(), "{row}");
    assert!(
        row["not_audited"].as_str().unwrap().contains("--audit off"),
        "{row}"
    );
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(md.contains("| steady | not audited |"), "{md}");
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(html.contains("not audited"), "the HTML report lacks it");
    no_process_left(&dir);
}

/// A server far cheaper per request than the load engine: each answer is a pre-built file of
/// 170,000 one-byte chunks (1 MiB) that the server hands to the kernel with `sendfile` (no
/// copy) and the engine must parse byte by byte: about 2 ms of the engine's CPU per answer,
/// several times the server's, so the engine has work all the time, on a quiet machine or not.
const CHUNKY_PY: &str = r#"
import os, socket, socketserver, tempfile
HEAD = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n'
OK = HEAD + b'Content-Length: 2\r\n\r\nok'
CHUNKY = tempfile.TemporaryFile()
CHUNKY.write(HEAD + b'Transfer-Encoding: chunked\r\n\r\n' + b'1\r\na\r\n' * 170000 + b'0\r\n\r\n')
CHUNKY.flush()

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b''
        while True:
            data = sock.recv(65536)
            if not data:
                return
            pending += data
            while b'\r\n\r\n' in pending:
                head, pending = pending.split(b'\r\n\r\n', 1)
                if head.startswith(b'GET /healthz'):
                    sock.sendall(OK)
                else:
                    sock.sendfile(CHUNKY, 0)

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

Server((os.environ['HOST'], int(os.environ['PORT'])), Handler).serve_forever()
"#;

/// Issue 8: a trial the load engine (not the server) limited, in a real run, is flagged, shown
/// as a lower bound ("≥ N") in every report and not ranked.
#[test]
fn an_engine_limited_trial_is_a_lower_bound_and_not_ranked() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let chunky = crate::common::TempContestant::new("chunky", "exec python3 server.py", "");
    chunky.write("server.py", CHUNKY_PY);
    let suite = dir.join("chunky.toml");
    // One engine thread and 16 connections: the engine's parsing is the bottleneck, so its
    // thread has work all through each trial (on its CPU, or waiting for it behind other work
    // on a shared machine). Four trials give the rule several chances.
    std::fs::write(
        &suite,
        "name = 'chunky'\n[defaults]\nwarmup = '300ms'\ntrial = '1s'\nmin_rounds = 4\n\
         max_rounds = 4\ntarget_ci = 0.5\ntimeout = '5s'\n\
         [[workload]]\nname = 'parse'\nconnections = 16\n[[workload.request]]\npath = '/'\n",
    )
    .unwrap();
    let (stdout, _store, run) = run_one(
        &dir,
        &suite,
        &chunky.dir(),
        &["--no-calibration", "--audit", "off"],
    );
    let limited: Vec<_> = run
        .trials
        .iter()
        .filter(|t| t.metrics.counts())
        .filter_map(|t| t.metrics.quality.engine_limited.clone())
        .collect();
    let busiest: Vec<f64> = run
        .trials
        .iter()
        .map(|t| t.metrics.engine_busiest)
        .collect();
    assert!(
        !limited.is_empty(),
        "no counted trial was engine-limited; the engine's busiest thread: {busiest:?}"
    );

    let report = dir.join(run.run.id.to_string());
    let json = results_json(&dir, run.run.id);
    let result = &json["workloads"][0]["results"][0];
    assert_eq!(result["standing"], "lower_bound", "{result}");
    assert!(result["rank"].is_null(), "{result}");
    assert!(result["engine_limited"].is_string(), "{result}");
    let median = result["rps"]["median"].as_f64().unwrap();
    assert_eq!(json["headline"][0]["verdict"], "nothing_ranked");
    assert!(json["headline"][0]["winner"].is_null());
    assert_eq!(json["headline"][0]["not_ranked"], 1);
    // "≥ N" in the terminal table and the Markdown, with N the median; never a rank.
    let bound = |line: &str| -> f64 {
        let after =
            &line[line.find("≥ ").unwrap_or_else(|| panic!("no ≥ in {line}")) + "≥ ".len()..];
        let n: String = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
            .filter(|c| *c != ',')
            .collect();
        n.parse()
            .unwrap_or_else(|_| panic!("no figure after ≥ in {line}"))
    };
    let line = stdout
        .lines()
        .find(|l| l.contains("chunky (Node.js)"))
        .unwrap_or_else(|| panic!("no row for chunky: {stdout}"));
    assert!(
        (bound(line) - median).abs() <= median * 0.01 + 0.1,
        "{line} vs {median}"
    );
    assert!(
        line.trim_start().starts_with('—'),
        "a rank is shown: {line}"
    );
    assert!(line.contains("lower bound, not ranked"), "{line}");
    assert!(stdout.contains("nothing ranked"), "{stdout}");
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    let md_line = md
        .lines()
        .find(|l| l.contains("chunky") && l.contains("≥ "))
        .unwrap_or_else(|| panic!("no lower bound row in {md}"));
    assert!(
        (bound(md_line) - median).abs() <= median * 0.01 + 0.1,
        "{md_line}"
    );
    no_process_left(&dir);
}
