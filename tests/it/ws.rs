//! WebSocket load (`faceoff bench ws://...`) against servers written for the tests on
//! 127.0.0.1: latency of an echo with a known delay, and fan-out counts checked exactly against
//! a room server that drops and duplicates broadcasts on purpose.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::bench::u;
use crate::common::{bench_json, run_faceoff, WsBehavior, WsTestServer};

#[test]
fn echo_latency_of_a_20ms_server() {
    let server = WsTestServer::start(WsBehavior::Echo(Duration::from_millis(20)));
    let out = bench_json(&[&server.url("/ws"), "-c", "8", "-d", "2s", "-t", "1"]);
    assert_eq!(out["ws"]["mode"], "echo");
    let p50 = u(&out, &["latency_us", "p50"]);
    assert!((20_000..=23_000).contains(&p50), "p50 {p50}µs: {out}");
    // About 8 connections x 2 s / 20 ms = 800 echoes; a busy machine may slow the server.
    let echoed = u(&out, &["requests"]);
    assert!((400..=800).contains(&echoed), "{echoed} echoes: {out}");
    // Every message the server read is an echo counted, one still waiting at the close, or
    // one of the set-up's (one per connection).
    let server_read = server.received.load(Ordering::SeqCst);
    assert_eq!(
        server_read,
        echoed + u(&out, &["unanswered"]) + u(&out, &["setup", "opened"]),
        "{out}"
    );
    assert_eq!(u(&out, &["setup", "opened"]), 8);
    assert_eq!(u(&out, &["errors", "protocol"]), 0, "{out}");
}

#[test]
fn fanout_counts_match_a_room_that_drops_and_duplicates() {
    let _cpu = crate::common::server_cpu();
    let server = WsTestServer::start(WsBehavior::FaultyRoom);
    let subscribers = 6u64;
    let out = bench_json(&[
        &server.url("/ws/room"),
        "--room",
        "--publishers",
        "2",
        "--subscribers",
        &subscribers.to_string(),
        "--rate",
        "200",
        "-d",
        "2s",
    ]);
    let f = &out["ws"]["fanout"];
    let n = |key: &str| u(f, &[key]);
    let last: Vec<u64> = server
        .room
        .last_seq
        .lock()
        .unwrap()
        .values()
        .copied()
        .collect();
    assert_eq!(last.len(), 2, "both publishers were heard: {out}");
    let published: u64 = last.iter().map(|l| l + 1).sum();
    assert_eq!(n("published"), published, "{out}");
    assert!((360..=400).contains(&published), "{out}");
    assert_eq!(n("expected"), published * subscribers);
    let dropped = server.room.dropped.load(Ordering::SeqCst);
    let duplicated = server.room.duplicated.load(Ordering::SeqCst);
    assert!(dropped > 0 && duplicated > 0);
    // A dropped last message has no later one behind it: it stays in flight, not lost.
    let trailing = last.iter().filter(|l| *l % 10 == 3).count() as u64 * subscribers;
    assert_eq!(n("in_flight"), trailing, "{out}");
    assert_eq!(n("lost"), dropped - trailing, "{out}");
    assert_eq!(n("duplicated"), duplicated, "{out}");
    assert_eq!(n("out_of_order"), 0, "{out}");
    assert_eq!(n("delivered"), n("expected") - dropped, "{out}");
    assert_eq!(u(&out, &["requests"]), n("delivered"));
    assert_eq!(u(&out, &["unanswered"]), trailing);
    let ratio = f["delivery_ratio"].as_f64().unwrap();
    assert!((ratio - n("delivered") as f64 / n("expected") as f64).abs() < 1e-12);
}

#[test]
fn bad_ws_input_is_one_line() {
    let server = WsTestServer::start(WsBehavior::Echo(Duration::ZERO));
    let cases: [(&[&str], &str); 5] = [
        (&["--room"], "--room needs --rate"),
        (&["-n", "10"], "give a --duration"),
        (&["-m", "POST"], "--method is an HTTP option"),
        (&["--hold", "--rate", "5"], "--rate does not apply"),
        (&["--message-bytes", "2"], "--message-bytes must be between"),
    ];
    for (args, expect) in cases {
        let url = server.url("/ws");
        let mut all = vec!["bench", url.as_str()];
        all.extend_from_slice(args);
        let out = run_faceoff(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().filter(|l| l.starts_with("error")).count(), 1);
    }
    let http = run_faceoff(&["bench", "http://127.0.0.1:1/", "--hold"]);
    assert!(String::from_utf8_lossy(&http.stderr).contains("give a ws:// URL"));
    let remote = run_faceoff(&["bench", "ws://10.1.2.3:80/ws"]);
    assert!(String::from_utf8_lossy(&remote.stderr).contains("--allow-remote"));
    // A path the server does not upgrade: every set-up fails, and the output says so.
    let http_server = crate::common::TestServer::start(crate::common::Behavior::Hello);
    let url = http_server.url("/ws").replace("http://", "ws://");
    let out = bench_json(&[&url, "-c", "2", "-d", "300ms", "--timeout", "1s"]);
    assert_eq!(u(&out, &["setup", "failed"]), 2, "{out}");
    assert!(out["latency_us"].is_null(), "{out}");
}

/// The rust-axum reference contestant, installed (cached) and started on the last allowed CPU.
pub(crate) fn start_rust_axum(dir: &std::path::Path) -> faceoff::contestant::Guard {
    use faceoff::cancel::Cancel;
    use faceoff::contestant::{self, Contestant, StartOptions};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contestants/rust-axum");
    let c = Contestant::load(&root).unwrap();
    let installed = contestant::install(&c, &crate::common::test_cache(), &Cancel::new()).unwrap();
    let db = dir.join("db.sqlite");
    faceoff::contract::dataset::create(&db).unwrap();
    let mut opts = StartOptions::new(db, dir.join("server.log"));
    opts.server_cpus = vec![*faceoff::sys::allowed_cpus().last().unwrap()];
    opts.workers = 1;
    contestant::start(&c, &installed, &opts).unwrap()
}

#[test]
fn rust_axum_through_bench_ws() {
    let _cpu = crate::common::server_cpu();
    let dir = tempfile::tempdir().unwrap();
    let guard = start_rust_axum(dir.path());
    let base = format!("ws://{}", guard.addr());
    let echo = bench_json(&[&format!("{base}/ws"), "-c", "16", "-d", "1s", "-t", "1"]);
    assert!(u(&echo, &["requests"]) > 500, "{echo}");
    assert_eq!(
        echo["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        0,
        "{echo}"
    );
    assert!(echo["engine_cpu_us_per_request"].as_f64().unwrap() > 0.0);
    let room = bench_json(&[
        &format!("{base}/ws/room"),
        "--room",
        "--publishers",
        "2",
        "--subscribers",
        "20",
        "--rate",
        "100",
        "-d",
        "1s",
    ]);
    let f = &room["ws"]["fanout"];
    let n = |key: &str| u(f, &[key]);
    // A correct server: nothing lost, repeated or reordered; all owed deliveries arrived
    // or, at worst, are still in flight at the close.
    assert_eq!(
        (n("lost"), n("duplicated"), n("out_of_order")),
        (0, 0, 0),
        "{room}"
    );
    assert!((90..=110).contains(&n("published")), "{room}");
    assert_eq!(n("expected"), n("published") * 20);
    assert_eq!(n("delivered") + n("in_flight"), n("expected"), "{room}");
    assert!(n("delivered") * 100 >= n("expected") * 99, "{room}");
    drop(guard);
}

#[test]
fn rust_axum_through_run_with_ws_workloads() {
    let _cpu = crate::common::server_cpu();
    let dir = tempfile::tempdir().unwrap().keep();
    let suite = dir.join("ws.toml");
    std::fs::write(
        &suite,
        "name = 'ws'\n[defaults]\nwarmup = '200ms'\ntrial = '500ms'\nmin_rounds = 2\n\
         max_rounds = 2\ntimeout = '5s'\n\
         [[workload]]\nname = 'ws-echo'\nkind = 'ws-echo'\nconnections = 16\n\
         [[workload]]\nname = 'ws-room'\nkind = 'ws-room'\nrate = 100\n\
         ws = { publishers = 1, subscribers = 16 }\n",
    )
    .unwrap();
    let db = dir.join("faceoff.db");
    let out = crate::common::faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", &dir)
        .env("FACEOFF_DB", &db)
        .args(["--suite", suite.to_str().unwrap(), "--only", "rust-axum"])
        .args(["--no-calibration"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ws-room") && stdout.contains("delivered"),
        "{stdout}"
    );

    let store = faceoff::store::Store::open(&db).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    for t in &run.trials {
        let m = &t.metrics;
        let ws = m.ws.as_ref().expect("a ws trial stores its ws figures");
        assert!(m.requests > 0 && m.latency_us[0] > 0, "{m:?}");
        assert!(ws.messages_sent > 0, "{m:?}");
        match t.workload.as_str() {
            "ws-echo" => assert!(ws.room.is_none()),
            _ => {
                let room = ws.room.unwrap();
                assert_eq!(room.subscribers, 16);
                assert_eq!(
                    room.lost + room.duplicated + room.out_of_order,
                    0,
                    "{room:?}"
                );
                assert_eq!(room.delivered + room.in_flight, room.expected, "{room:?}");
                assert_eq!(m.requests, room.delivered);
            }
        }
    }
    // Two rounds of two workloads; a trial disturbed by other work is stored and tried again.
    let kept = run.trials.iter().filter(|t| !t.metrics.quality.superseded);
    assert_eq!(kept.count(), 4);

    let report_dir = dir.join("report");
    let out = crate::common::faceoff()
        .args([
            "report",
            "--db",
            db.to_str().unwrap(),
            "--out",
            report_dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report_dir.join("results.json")).unwrap()).unwrap();
    let room = json["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "ws-room")
        .unwrap();
    let r = &room["results"][0]["ws"];
    assert!(r["delivery_ratio"].as_f64().unwrap() > 0.99, "{r}");
    assert_eq!(r["room"]["lost"], 0);
    let md = std::fs::read_to_string(report_dir.join("summary.md")).unwrap();
    assert!(
        md.contains("| contestant | delivered | expected | delivery |"),
        "{md}"
    );
    let html = std::fs::read_to_string(report_dir.join("report.html")).unwrap();
    assert!(html.contains("class=\"fanout\""));
}

/// Issue 10: a WebSocket worker that shares its CPU with busy threads records its run-queue
/// wait (from schedstat, as the HTTP workers do), and the one engine-limit rule flags the load
/// as held back by the engine. The echo server runs on other threads, free to use the other
/// CPU, so the worker always has messages to handle: it is limited by the CPU time it gets.
#[test]
fn a_ws_worker_held_back_by_busy_threads_on_its_cpu_is_engine_limited() {
    use faceoff::load::summary::Summary;
    use faceoff::load::ws::{WsMode, WsPlan};
    use faceoff::warnings::{engine_limit, EngineLimit};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    let _cpu = crate::common::server_cpu();
    let server = WsTestServer::start(WsBehavior::Echo(Duration::ZERO));
    let cpu = faceoff::sys::allowed_cpus()[0];
    let stop = Arc::new(AtomicBool::new(false));
    let spinners: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                faceoff::sys::pin_current_thread(&[cpu]).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let plan = WsPlan {
        addr: server.addr,
        host: server.addr.to_string(),
        path: "/ws".into(),
        mode: WsMode::Echo {
            connections: 16,
            pacing: faceoff::load::Pacing::ClosedLoop,
        },
        message_bytes: 32,
        duration: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
        threads: 1,
        cpus: vec![cpu],
    };
    // A few tries: on a shared machine one window may see the spinners moved off for a while.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let rec = faceoff::load::ws::run(&plan, Arc::new(AtomicBool::new(false)), |_| {}).unwrap();
        assert_eq!(rec.worker_waiting.len(), 1, "one figure per worker");
        assert!(rec.recorder.messages > 0, "the echo answered");
        let limit = engine_limit(&Summary::of(&rec));
        seen.push((rec.worker_busy[0], rec.worker_waiting[0], limit));
        if matches!(limit, Some(EngineLimit::Starved { .. })) {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for s in spinners {
        s.join().unwrap();
    }
    assert!(
        seen.iter().any(|(_, waiting, _)| *waiting > 0.1),
        "no run-queue wait recorded (on CPU, waiting, limit): {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(.., limit)| matches!(limit, Some(EngineLimit::Starved { .. }))),
        "never flagged as held back (on CPU, waiting, limit): {seen:?}"
    );
}
