//! WebSocket load (`faceoff bench ws://...`) against servers written for the tests on
//! 127.0.0.1: latency of an echo with a known delay, and fan-out counts checked exactly against
//! a room server that drops and duplicates broadcasts on purpose.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::{bench_json, run_faceoff, WsBehavior, WsTestServer};

fn u(v: &serde_json::Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    cur.as_u64()
        .unwrap_or_else(|| panic!("{path:?} is not a count in {v}"))
}

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
