//! Ctrl-C through the real binary: the first one stops every contestant and install group and
//! exits 130; a second one kills them all at once and exits 130; nothing is left running.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{
    assert_group_gone, faceoff, fixture, group_alive, interrupt, wait_exit, wait_for_pgid,
    Behavior, TempContestant, TestServer,
};

/// Generous: the machine is shared and busy.
const LONG: Duration = Duration::from_secs(120);

fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
    }
    text
}

/// A `faceoff run` of the healthz suite whose results and cache live in `root`.
fn run_cmd(root: &std::path::Path, cache: &std::path::Path) -> Command {
    let mut cmd = faceoff();
    cmd.arg("run")
        .env("FACEOFF_RESULTS_DIR", root)
        .env("FACEOFF_DB", root.join("faceoff.db"))
        .env("FACEOFF_CACHE_DIR", cache)
        .arg("--suite")
        .arg(fixture("healthz-suite.toml"));
    cmd
}

#[test]
fn double_interrupt_during_run_kills_every_contestant() {
    // One contestant up, the next one starting; both ignore SIGTERM, so only SIGKILL ends them
    // and the first Ctrl-C's grace period is still running when the second one comes.
    let up = TempContestant::new(
        "steady",
        "trap '' TERM; echo $$ > pgid; exec node server.js",
        "",
    );
    let starting = TempContestant::new(
        "stubborn",
        "trap '' TERM; echo $$ > pgid; sleep 300 & exec sleep 301",
        "health_timeout = \"300s\"",
    );
    let results = tempfile::tempdir().unwrap();
    let cache = up.cache();
    let mut child = spawn(
        run_cmd(results.path(), &cache)
            .arg("--contestant")
            .arg(up.dir())
            .arg("--only")
            .arg(crate::common::name_of(up.dir()))
            .arg("--contestant")
            .arg(starting.dir())
            .arg("--only")
            .arg(crate::common::name_of(starting.dir())),
    );
    let up_pgid = wait_for_pgid(&cache, "steady", "pgid", LONG);
    let starting_pgid = wait_for_pgid(&cache, "stubborn", "pgid", LONG);
    std::thread::sleep(Duration::from_millis(300));
    assert!(group_alive(up_pgid) && group_alive(starting_pgid));

    interrupt(&child);
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let status = wait_exit(&mut child, LONG);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted again"), "{stderr}");
    assert_group_gone(up_pgid, "the running contestant");
    assert_group_gone(starting_pgid, "the starting contestant");
}

#[test]
fn interrupt_during_install_stops_it() {
    for command in ["verify", "run"] {
        let t = TempContestant::new(
            "slowinstall",
            "exec node server.js",
            "[install]\ncommand = 'echo $$ > install-pgid; sleep 300 & exec sleep 301'",
        );
        let results = tempfile::tempdir().unwrap();
        let cache = t.cache();
        let mut cmd = if command == "run" {
            run_cmd(results.path(), &cache)
        } else {
            let mut cmd = faceoff();
            cmd.arg("verify").env("FACEOFF_CACHE_DIR", &cache);
            cmd
        };
        let mut child = spawn(
            cmd.arg("--contestant")
                .arg(t.dir())
                .arg("--only")
                .arg(crate::common::name_of(t.dir())),
        );
        let pgid = wait_for_pgid(&cache, "slowinstall", "install-pgid", LONG);
        std::thread::sleep(Duration::from_millis(200));
        assert!(group_alive(pgid));
        interrupt(&child);
        let status = wait_exit(&mut child, LONG);
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), Some(130), "{command}: {stderr}");
        assert!(!stderr.contains("error:"), "{command}: {stderr}");
        assert_group_gone(pgid, &format!("{command}: the install command"));
    }
}

#[test]
fn interrupted_bench_exits_130_with_its_figures() {
    let server = TestServer::start(Behavior::Hello);
    let mut child = faceoff()
        .args(["bench", &server.url("/"), "-c", "2", "-d", "300s", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + LONG;
    while server.count() == 0 {
        assert!(std::time::Instant::now() < deadline, "no request arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    interrupt(&child);
    let status = wait_exit(&mut child, LONG);
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(130), "{}", stderr_of(&mut child));
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert!(summary["requests"].as_u64().unwrap() > 0, "{summary}");
}
