//! Contestants as real processes: manifest errors, the install cache, starting, health waits
//! and stopping whole process groups.

use std::time::{Duration, Instant};

use faceoff::cancel::Cancel;
use faceoff::contestant::{self, group, health, Error, Sampler, StartOptions};

use crate::common::{group_alive, TempContestant};

fn options(t: &TempContestant) -> StartOptions {
    let mut opts = StartOptions::new(t.cache().join("db.sqlite"), t.cache().join("server.log"));
    opts.grace = Duration::from_millis(500);
    opts
}

#[test]
fn unknown_key_names_file_and_line() {
    let t = TempContestant::new("keys", "exec node server.js", "colour = \"blue\"");
    let err = contestant::Contestant::load(&t.dir()).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::BadManifest { line: Some(11), .. }),
        "{text}"
    );
    assert!(text.contains("contestant.toml:11:"), "{text}");
    assert!(text.contains("colour"), "{text}");
}

#[test]
fn bad_value_names_file_and_line() {
    let t = TempContestant::new(
        "timeouts",
        "exec node server.js",
        "health_timeout = \"soon\"",
    );
    let text = contestant::Contestant::load(&t.dir())
        .unwrap_err()
        .to_string();
    assert!(text.contains("contestant.toml:11:"), "{text}");
    assert!(text.contains("soon"), "{text}");
}

#[test]
fn missing_folder_and_manifest_are_named() {
    let t = TempContestant::new("nothing", "true", "");
    let gone = t.root.path().join("no-such-folder");
    let err = contestant::Contestant::load(&gone).unwrap_err().to_string();
    assert!(
        err.contains("no-such-folder") && err.contains("does not exist"),
        "{err}"
    );
    let err = contestant::Contestant::load(t.root.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no contestant.toml"), "{err}");
}

#[test]
fn second_install_runs_nothing() {
    let t = TempContestant::new(
        "cached",
        "exec node server.js",
        "[install]\ncommand = \"echo ran >> \\\"$COUNTER\\\"\"\ncache_key = [\"deps.txt\"]\n",
    );
    let counter = t.root.path().join("counter");
    t.write("deps.txt", "v1");
    std::fs::create_dir_all(t.dir().join("node_modules/x")).unwrap();
    let mut c = t.load();
    c.manifest
        .env
        .insert("COUNTER".into(), counter.display().to_string());
    let runs = || {
        std::fs::read_to_string(&counter)
            .unwrap_or_default()
            .lines()
            .count()
    };

    let first = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    assert!(first.ran_install);
    assert_eq!(first.key.len(), 16);
    assert!(first.dir.join("server.js").is_file());
    assert!(
        !first.dir.join("node_modules").exists(),
        "dependency folders are not copied"
    );
    let second = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    assert!(!second.ran_install);
    assert_eq!((second.dir, runs()), (first.dir.clone(), 1));

    // A source file that does not key the cache is brought up to date without a reinstall.
    t.write("server.js", "// changed");
    contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    assert_eq!(runs(), 1);
    let copied = std::fs::read_to_string(first.dir.join("server.js")).unwrap();
    assert_eq!(copied, "// changed");

    // A cache-key file change means a new install folder.
    t.write("deps.txt", "v2");
    let third = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    assert!(third.ran_install);
    assert_ne!(third.key, first.key);
    assert_eq!(runs(), 2);
}

#[test]
fn concurrent_installs_of_one_key_install_once() {
    let t = TempContestant::new(
        "racing",
        "exec node server.js",
        "[install]\ncommand = \"sleep 0.3; echo ran >> \\\"$COUNTER\\\"\"\n",
    );
    let counter = t.root.path().join("counter");
    let mut c = t.load();
    c.manifest
        .env
        .insert("COUNTER".into(), counter.display().to_string());
    let cache = t.cache();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| contestant::install(&c, &cache, &Cancel::new())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ran = results
        .iter()
        .filter(|r| r.as_ref().unwrap().ran_install)
        .count();
    assert_eq!(ran, 1);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        1
    );
}

#[test]
fn failed_install_shows_log_tail_and_path() {
    let t = TempContestant::new(
        "broken",
        "exec node server.js",
        "[install]\ncommand = \"echo fetching; echo 'E404 no such package' >&2; exit 3\"\n",
    );
    let c = t.load();
    let err = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("installing contestant 'broken' failed (exit code 3)"),
        "{text}"
    );
    assert!(text.contains("E404 no such package"), "{text}");
    assert!(text.contains(".install.log"), "{text}");
    // Nothing is marked installed: the next attempt runs the command again.
    assert!(contestant::install(&c, &t.cache(), &Cancel::new()).is_err());
}

#[test]
fn starts_pinned_with_its_environment() {
    let t = TempContestant::new("envy", "exec node server.js", "[env]\nEXTRA = \"yes\"\n");
    let c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let cpu = *faceoff::sys::allowed_cpus().last().unwrap();
    let mut opts = options(&t);
    opts.server_cpus = vec![cpu];
    opts.workers = 3;
    let guard = contestant::start(&c, &installed, &opts).unwrap();
    let addr = guard.addr();
    let client = faceoff::contract::http::Client::new(addr);
    let env = client.get("/env").unwrap().json().unwrap();
    assert_eq!(env["PORT"], addr.port().to_string());
    assert_eq!(env["HOST"], "127.0.0.1");
    assert_eq!(env["WORKERS"], "3");
    assert_eq!(env["EXTRA"], "yes");
    assert!(std::path::Path::new(env["DB_PATH"].as_str().unwrap()).is_absolute());
    let status = std::fs::read_to_string(format!("/proc/{}/status", guard.pgid())).unwrap();
    let allowed = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(allowed, cpu.to_string());
    let pgid = guard.pgid();
    drop(guard);
    assert!(!group_alive(pgid));
}

#[test]
fn guard_stops_the_whole_group_including_grandchildren() {
    // One grandchild that obeys SIGTERM, one that ignores it and needs SIGKILL.
    let start = "sleep 300 & (trap '' TERM; sleep 300; true) & exec node server.js";
    let t = TempContestant::new("family", start, "");
    let c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let guard = contestant::start(&c, &installed, &options(&t)).unwrap();
    let pgid = guard.pgid();
    assert!(
        group::group_pids(pgid).len() >= 3,
        "node and two sleeps run"
    );
    let killed = guard.stop();
    assert!(killed, "the TERM-ignoring grandchild needs SIGKILL");
    assert!(!group_alive(pgid), "left: {:?}", group::group_pids(pgid));
}

#[test]
fn never_healthy_times_out_with_log_path() {
    let start = "echo $$ > pgid; echo 'listening soon'; exec sleep 300";
    let t = TempContestant::new("sleepy", start, "health_timeout = \"1s\"");
    let c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let started = Instant::now();
    let err = contestant::start(&c, &installed, &options(&t)).unwrap_err();
    let took = started.elapsed();
    let text = err.to_string();
    assert!(matches!(err, Error::NeverHealthy { .. }), "{text}");
    assert!(text.contains("within 1s"), "{text}");
    assert!(text.contains("server.log"), "{text}");
    assert!(text.contains("listening soon"), "{text}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let pgid: i32 = std::fs::read_to_string(installed.dir.join("pgid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!group_alive(pgid));
}

#[test]
fn exiting_at_once_fails_fast_with_log_tail() {
    let start = "echo 'Error: Cannot find module express' >&2; exit 7";
    let t = TempContestant::new("crashy", start, "");
    let c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let started = Instant::now();
    let err = contestant::start(&c, &installed, &options(&t)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Exited { .. }), "{text}");
    assert!(text.contains("exit code 7"), "{text}");
    assert!(text.contains("Cannot find module express"), "{text}");
    assert!(text.contains("server.log"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn taken_port_is_retried_with_another() {
    let start = "if [ ! -f tried ]; then touch tried; \
                 echo 'Error: listen EADDRINUSE: address already in use' >&2; exit 1; fi; \
                 exec node server.js";
    let t = TempContestant::new("unlucky", start, "");
    let c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let opts = options(&t);
    let guard = contestant::start(&c, &installed, &opts).unwrap();
    assert!(health::probe_healthz(guard.addr(), Duration::from_secs(2)));
    drop(guard);
    let log = std::fs::read_to_string(&opts.log_path).unwrap();
    assert!(log.contains("was taken; trying another"), "{log}");
}

#[test]
fn versions_and_requirements() {
    let t = TempContestant::new(
        "versioned",
        "exec node server.js",
        "[versions]\ncommand = \"echo node=$(node --version); echo noise; echo app = 1.2\"\n",
    );
    let mut c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let versions = contestant::versions(&c, &installed).unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[0].0, "node");
    assert!(versions[0].1.starts_with('v'));
    assert_eq!(versions[1], ("app".to_string(), "1.2".to_string()));
    assert!(contestant::missing_requirements(&c).is_empty());
    c.manifest.requires.push("faceoff-no-such-runtime".into());
    assert_eq!(
        contestant::missing_requirements(&c),
        vec!["faceoff-no-such-runtime".to_string()]
    );
}

#[test]
fn sampler_sees_cpu_and_memory_of_the_group() {
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("(while :; do :; done) & exec sleep 30")
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id() as i32;
    let sampler = Sampler::start(pgid, Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(800));
    let usage = sampler.stop();
    // Ground truth straight from /proc: the group's CPU time so far. The sampler counts from
    // its first sample, a few milliseconds after the spawn, so it may be slightly lower.
    // SAFETY: sysconf has no preconditions.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let truth_s: f64 = group::group_pids(pgid)
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| group::parse_stat(&stat))
        .map(|s| (s.utime_ticks + s.stime_ticks) as f64 / ticks_per_s)
        .sum();
    group::kill_group(pgid, libc::SIGKILL);
    let _ = child.wait();
    assert!(usage.samples >= 5, "{usage:?}");
    // On a busy machine the loop may get little CPU; it still gets some.
    assert!(usage.cpu_s > 0.0, "{usage:?}");
    assert!(
        (truth_s - usage.cpu_s).abs() <= 0.1,
        "sampler {} s, /proc {truth_s} s",
        usage.cpu_s
    );
    assert!(
        usage.rss_peak_bytes > 0 && usage.pss_peak_bytes > 0,
        "{usage:?}"
    );
    assert!(usage.pss_mean_bytes <= usage.pss_peak_bytes, "{usage:?}");
    assert!(usage.processes_peak >= 2, "{usage:?}");
}

/// Sets `cancel` once `file` appears in the install folder of the contestant under `cache`.
fn cancel_when_written(cancel: &Cancel, cache: std::path::PathBuf, name: &'static str) {
    let cancel = cancel.clone();
    std::thread::spawn(move || {
        crate::common::wait_for_pgid(&cache, name, "pgid", Duration::from_secs(60));
        cancel.cancel();
    });
}

#[test]
fn a_cancelled_install_stops_its_group_and_says_interrupted() {
    let t = TempContestant::new(
        "cancelled-install",
        "exec node server.js",
        "[install]\ncommand = 'echo $$ > pgid; sleep 300 & exec sleep 301'",
    );
    let c = t.load();
    let cancel = Cancel::new();
    cancel_when_written(&cancel, t.cache(), "cancelled-install");
    let err = contestant::install(&c, &t.cache(), &cancel).unwrap_err();
    assert!(matches!(err, Error::Interrupted { .. }), "{err}");
    let pgid =
        crate::common::wait_for_pgid(&t.cache(), "cancelled-install", "pgid", Duration::ZERO);
    assert!(!group_alive(pgid), "left: {:?}", group::group_pids(pgid));
    // Not marked installed: the next install runs the command again.
    assert!(!faceoff::contestant::install::cache_key(&c)
        .map(|key| {
            t.cache()
                .join("contestants")
                .join(format!("cancelled-install-{key}"))
                .join(faceoff::contestant::install::MARKER_FILE)
                .exists()
        })
        .unwrap());
}

#[test]
fn a_cancelled_health_wait_is_an_interrupt_not_a_crash() {
    let t = TempContestant::new(
        "cancelled-start",
        "echo $$ > pgid; sleep 300 & exec sleep 301",
        "health_timeout = \"300s\"",
    );
    let c = t.load();
    let installed = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    let mut opts = options(&t);
    opts.cancel = Cancel::new();
    cancel_when_written(&opts.cancel, t.cache(), "cancelled-start");
    let started = Instant::now();
    let err = contestant::start(&c, &installed, &opts).unwrap_err();
    assert!(matches!(err, Error::Interrupted { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
    let pgid: i32 = std::fs::read_to_string(installed.dir.join("pgid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!group_alive(pgid), "left: {:?}", group::group_pids(pgid));
}

/// The faulty fixture copied to a temporary folder with `endpoints = [...]` added to its
/// manifest.
fn faulty_declaring(endpoints: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("faulty");
    std::fs::create_dir_all(&dir).unwrap();
    let src = crate::common::fixture("faulty");
    for file in ["server.js", "db.py"] {
        std::fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(src.join("contestant.toml")).unwrap();
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    let manifest = manifest.replacen(
        "requires = ",
        &format!("endpoints = [{}]\nrequires = ", list.join(", ")),
        1,
    );
    std::fs::write(dir.join("contestant.toml"), manifest).unwrap();
    root
}

/// `faceoff verify` on `root/faulty` with `args`; exit code, stdout, stderr.
fn verify_declared(root: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let out = crate::common::faceoff()
        .arg("verify")
        .arg("--contestant")
        .arg(root.join("faulty"))
        .args(args)
        .env("FACEOFF_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn undeclared_endpoints_are_skipped_and_declared_faults_still_fail() {
    // json and users are declared but wrong in the fixture; fortunes and io (also wrong) and
    // the WebSockets are left out.
    let root = faulty_declaring(&[
        "plaintext",
        "json",
        "db",
        "queries",
        "updates",
        "compute",
        "users",
    ]);
    let (code, stdout, stderr) = verify_declared(root.path(), &["--json"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let c = &json["contestants"][0];
    assert_eq!(c["status"], "failed", "{c:#}");
    let names = |passed: bool| -> Vec<String> {
        c["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["passed"] == passed)
            .map(|k| k["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(false), ["json", "users-invalid"], "{c:#}");
    let undeclared: Vec<&str> = c["undeclared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        undeclared,
        [
            "fortunes",
            "io",
            "io-concurrent",
            "io-invalid",
            "ws-echo",
            "ws-room"
        ]
    );
    for general in [
        "healthz",
        "not-found",
        "headers",
        "date-changes",
        "db",
        "users-create",
    ] {
        assert!(names(true).iter().any(|n| n == general), "{general}: {c:#}");
    }
}

#[test]
fn a_contestant_serving_part_of_the_contract_passes_and_says_what_it_skipped() {
    let root = faulty_declaring(&["plaintext", "db", "queries", "updates", "compute"]);
    let (code, stdout, stderr) = verify_declared(root.path(), &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let row = |check: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(check))
            .unwrap_or_else(|| panic!("no row {check}: {stdout}"))
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
    };
    assert_eq!(row("json").as_deref(), Some("skip"), "{stdout}");
    assert_eq!(row("ws-room").as_deref(), Some("skip"), "{stdout}");
    assert_eq!(row("db").as_deref(), Some("pass"), "{stdout}");
    assert!(
        stdout.contains("faulty (skipped): json, fortunes, io, io-concurrent, io-invalid, users-create, users-invalid, users-size-limit, users-media-type, ws-echo, ws-room: its manifest does not declare those endpoints"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verify: 1 of 1 contestants meet the contract"),
        "{stdout}"
    );
}

#[test]
fn shared_folders_are_copied_in_and_key_the_cache() {
    let t = TempContestant::new(
        "sharer",
        "exec node server.js",
        "[install]\ncommand = 'test -d \"$FACEOFF_BUILDS_DIR\" && echo built > built.txt'\n\
         shared = [\"../_shared/js\"]\ncache_key = []\n",
    );
    let shared = t.root.path().join("_shared/js");
    std::fs::create_dir_all(shared.join("lib")).unwrap();
    std::fs::write(shared.join("lib/db.js"), "// shared db").unwrap();
    std::fs::write(shared.join("server.js"), "// shared server, overridden").unwrap();
    let c = t.load();

    let first = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    assert!(first.ran_install);
    let read = |file: &str| std::fs::read_to_string(first.dir.join(file)).unwrap();
    assert_eq!(read("lib/db.js"), "// shared db");
    assert_eq!(
        read("server.js"),
        crate::common::TINY_SERVER_JS,
        "the contestant's own file wins over a shared one"
    );
    assert_eq!(
        read("built.txt").trim(),
        "built",
        "FACEOFF_BUILDS_DIR is given and exists"
    );
    assert!(
        !std::fs::symlink_metadata(first.dir.join("lib"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "shared code is copied, not linked"
    );

    // Any change to a shared file means a new install folder.
    std::fs::write(shared.join("lib/db.js"), "// shared db, fixed").unwrap();
    let second = contestant::install(&c, &t.cache(), &Cancel::new()).unwrap();
    assert!(second.ran_install);
    assert_ne!(second.key, first.key);
    assert_eq!(
        std::fs::read_to_string(second.dir.join("lib/db.js")).unwrap(),
        "// shared db, fixed"
    );
}

#[test]
fn a_workload_on_an_undeclared_endpoint_leaves_the_contestant_out_with_a_note() {
    let root = faulty_declaring(&["plaintext"]);
    let suite = root.path().join("suite.toml");
    std::fs::write(
        &suite,
        "name = \"declared\"\n[defaults]\nwarmup = \"100ms\"\ntrial = \"200ms\"\n\
         min_rounds = 6\nmax_rounds = 6\ntarget_ci = 0.9\n\n\
         [[workload]]\nname = \"plain\"\nconnections = 2\n[[workload.request]]\npath = \"/plaintext\"\n\n\
         [[workload]]\nname = \"json\"\nconnections = 2\n[[workload.request]]\npath = \"/json\"\n",
    )
    .unwrap();
    let out = crate::common::faceoff()
        .args(["run", "--suite"])
        .arg(&suite)
        .arg("--contestant")
        .arg(root.path().join("faulty"))
        .arg("--only")
        .arg(crate::common::name_of(root.path().join("faulty")))
        .arg("--no-calibration")
        .env("FACEOFF_CACHE_DIR", root.path().join("cache"))
        .env("FACEOFF_RESULTS_DIR", root.path().join("results"))
        .env("FACEOFF_DB", root.path().join("faceoff.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    let store = faceoff::store::Store::open(&root.path().join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    // Rounds, not tries: a try disturbed by other work on the CPUs is retried (issue 8).
    let trials = |workload: &str| {
        run.trials
            .iter()
            .filter(|t| t.workload == workload && !t.metrics.quality.superseded)
            .count()
    };
    assert_eq!((trials("plain"), trials("json")), (6, 0), "{stdout}");
    let note = run
        .events
        .iter()
        .find(|e| e.workload.as_deref() == Some("json"))
        .unwrap_or_else(|| panic!("no event for json: {:?}", run.events));
    assert_eq!(note.contestant.as_deref(), Some("faulty"));
    assert_eq!(
        note.message,
        "left out of json: its manifest does not declare json"
    );
    assert!(stderr.contains("left out of json"), "{stderr}");
}
