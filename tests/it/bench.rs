//! `faceoff bench` against servers written for the tests, on 127.0.0.1: the engine's counts are
//! checked against the servers' own.

use std::time::Duration;

use crate::common::{bench_json, run_faceoff, Behavior, TestServer};

/// The count at `path` in a JSON value (panics, with the value, when it is not one).
pub fn u(v: &serde_json::Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    cur.as_u64()
        .unwrap_or_else(|| panic!("{path:?} is not a count in {v}"))
}

#[test]
fn exact_request_count_matches_the_server() {
    let server = TestServer::start(Behavior::Hello);
    let out = bench_json(&[&server.url("/"), "-n", "10000", "-c", "32"]);
    assert_eq!(u(&out, &["requests"]), 10_000);
    assert_eq!(u(&out, &["status", "200"]), 10_000);
    assert_eq!(server.count(), 10_000);
    assert_eq!(
        out["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        0
    );
    assert_eq!(u(&out, &["connects"]), 32);
}

#[test]
fn constant_rate_is_exact_and_even() {
    let _cpu = crate::common::server_cpu();
    let server = TestServer::start(Behavior::Hello);
    let out = bench_json(&[&server.url("/"), "--rate", "2000", "-d", "5s", "-c", "16"]);
    let served = server.count() as f64;
    assert!(
        (served - 10_000.0).abs() <= 100.0,
        "server counted {served}"
    );
    let timeline = out["timeline"].as_array().unwrap();
    assert!(timeline.len() >= 5, "{timeline:?}");
    for (i, second) in timeline.iter().take(5).enumerate() {
        let n = second["requests"].as_u64().unwrap() as f64;
        assert!(
            (n - 2000.0).abs() <= 100.0,
            "second {i} had {n} requests: {timeline:?}"
        );
    }
    // A stall of the shared machine makes sends late; 5% leaves room for it.
    assert!(u(&out, &["late_sends"]) <= 500, "{out}");
}

#[test]
fn latency_of_a_20ms_server() {
    let server = TestServer::start(Behavior::Delay(Duration::from_millis(20)));
    let out = bench_json(&[&server.url("/"), "-c", "8", "-d", "2s"]);
    let p50 = u(&out, &["latency_us", "p50"]);
    assert!((20_000..=22_000).contains(&p50), "p50 {p50}µs");
}

#[test]
fn stalls_show_in_corrected_latency() {
    // Every second the server holds all answers for 300 ms.
    let server = TestServer::start(Behavior::Stall {
        period: Duration::from_secs(1),
        stall: Duration::from_millis(300),
    });
    let out = run_faceoff(&[
        "bench",
        &server.url("/"),
        "--rate",
        "500",
        "-d",
        "4s",
        "-c",
        "20",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("uncorrected"), "{text}");
    assert!(text.contains("late sends"), "{text}");

    let out = bench_json(&[&server.url("/"), "--rate", "500", "-d", "4s", "-c", "20"]);
    let corrected = u(&out, &["latency_us", "p99"]);
    let uncorrected = u(&out, &["latency_uncorrected_us", "p99"]);
    assert!(corrected >= 250_000, "corrected p99 {corrected}µs");
    assert!(
        uncorrected < corrected,
        "uncorrected p99 {uncorrected}µs vs corrected {corrected}µs"
    );
    assert!(u(&out, &["late_sends"]) > 0);
}

#[test]
fn chunked_bodies_are_framed() {
    let server = TestServer::start(Behavior::Chunked);
    let out = bench_json(&[&server.url("/"), "-n", "2000", "-c", "4"]);
    assert_eq!(u(&out, &["status", "200"]), 2000);
    assert_eq!(
        u(&out, &["connects"]),
        4,
        "chunked answers must keep connections alive"
    );
}

#[test]
fn connection_close_reconnects() {
    let server = TestServer::start(Behavior::Close);
    let out = bench_json(&[&server.url("/"), "-n", "500", "-c", "4"]);
    assert_eq!(u(&out, &["status", "200"]), 500);
    assert_eq!(u(&out, &["errors", "reset"]), 0);
    assert_eq!(u(&out, &["connects"]), 500);
    assert_eq!(
        server.accepted.load(std::sync::atomic::Ordering::SeqCst),
        500 + 1,
        "plus the preflight"
    );
}

#[test]
fn server_errors_are_counted_as_status() {
    let server = TestServer::start(Behavior::Status(503));
    let out = bench_json(&[&server.url("/"), "-n", "300", "-c", "3"]);
    assert_eq!(u(&out, &["requests"]), 300);
    assert_eq!(u(&out, &["status", "503"]), 300);
    assert_eq!(u(&out, &["errors", "status"]), 300);
}

#[test]
fn timeouts_are_errors_and_enter_the_histogram() {
    let server = TestServer::start(Behavior::Hang);
    let out = bench_json(&[&server.url("/"), "-n", "6", "-c", "3", "--timeout", "300ms"]);
    assert_eq!(u(&out, &["errors", "timeout"]), 6);
    assert_eq!(u(&out, &["requests"]), 0);
    let p50 = u(&out, &["latency_us", "p50"]);
    assert!(
        (300_000..400_000).contains(&p50),
        "timed-out requests enter at the timeout: {p50}"
    );
}

#[test]
fn resets_are_counted_and_the_run_finishes() {
    let server = TestServer::start(Behavior::ResetEvery(5));
    let out = bench_json(&[&server.url("/"), "-n", "1000", "-c", "4"]);
    let ok = u(&out, &["status", "200"]);
    let resets = u(&out, &["errors", "reset"]);
    assert_eq!(ok + resets, 1000, "{out}");
    assert!(resets >= 150, "{resets} resets");
}

#[test]
fn bad_input_is_one_line_and_non_zero() {
    let server = TestServer::start(Behavior::Hello);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let closed_url = format!("http://{closed}/");
    let cases: [(&[&str], &str); 7] = [
        (&["not a url"], "not a valid URL"),
        (&["http://10.0.0.1/"], "--allow-remote"),
        (&[closed_url.as_str()], "could not connect"),
        (&[&server.url("/"), "-d", "0s"], "duration"),
        (&[&server.url("/"), "-c", "0"], "connections"),
        (&[&server.url("/"), "-H", "NoColon"], "header"),
        (&[&server.url("/"), "--rate", "0"], "rate"),
    ];
    for (args, needle) in cases {
        let mut all = vec!["bench"];
        all.extend_from_slice(args);
        let out = run_faceoff(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} succeeded");
        assert!(stderr.contains(needle), "{all:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{all:?}: {stderr}");
        assert!(
            stderr.lines().next().unwrap().starts_with("error: "),
            "{all:?}: {stderr}"
        );
    }
}

#[test]
fn idle_keep_alive_timeouts_are_not_errors() {
    // Each connection sends every 200 ms; the server closes connections idle for 100 ms.
    let server = TestServer::start(Behavior::IdleClose(Duration::from_millis(100)));
    let out = bench_json(&[&server.url("/"), "--rate", "20", "-c", "4", "-d", "2s"]);
    assert_eq!(u(&out, &["status", "200"]), 40, "{out}");
    assert_eq!(
        out["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        0,
        "{out}"
    );
    assert!(u(&out, &["connects"]) >= 30, "{out}");
}

#[test]
fn warm_connections_open_before_the_window() {
    // A keep-alive server: with --warm every connection is opened and answered once before the
    // window, so the window itself opens none and its counts leave the set-up out.
    let server = TestServer::start(Behavior::Hello);
    let out = bench_json(&[
        &server.url("/"),
        "--warm",
        "-n",
        "2000",
        "-c",
        "16",
        "-t",
        "2",
    ]);
    let setup = &out["setup"];
    assert_eq!(u(setup, &["opened"]), 16, "{out}");
    assert_eq!(u(setup, &["failed"]), 0, "{out}");
    assert!(u(setup, &["slowest_connect_us"]) > 0, "{out}");
    assert!(setup["wall_s"].as_f64().unwrap() > 0.0, "{out}");
    assert_eq!(
        u(&out, &["connects"]),
        0,
        "no connect inside the window: {out}"
    );
    assert_eq!(u(&out, &["requests"]), 2000, "{out}");
    assert_eq!(
        server.count(),
        2000 + 16,
        "the window's requests plus one per connection"
    );
    assert_eq!(
        server.accepted.load(std::sync::atomic::Ordering::SeqCst),
        16 + 1,
        "the set-up's connections plus the preflight, none in the window"
    );

    // Without --warm nothing changes: the connects are in the window and -n is exact.
    let server = TestServer::start(Behavior::Hello);
    let out = bench_json(&[&server.url("/"), "-n", "2000", "-c", "16", "-t", "2"]);
    assert!(out["setup"].is_null(), "{out}");
    assert_eq!(u(&out, &["connects"]), 16);
    assert_eq!(server.count(), 2000);
}

#[test]
fn warm_constant_rate_starts_after_the_set_up() {
    // Connections that take long to answer their first request: the schedule must start at the
    // window, so the first second is not a burst of late sends.
    let server = TestServer::start(Behavior::Delay(Duration::from_millis(200)));
    let out = bench_json(&[
        &server.url("/"),
        "--warm",
        "--rate",
        "100",
        "-c",
        "40",
        "-d",
        "2s",
    ]);
    assert!(out["setup"]["wall_s"].as_f64().unwrap() >= 0.2, "{out}");
    assert_eq!(u(&out, &["late_sends"]), 0, "{out}");
    assert_eq!(u(&out, &["connects"]), 0, "{out}");
}

#[test]
fn a_server_that_stops_answering_leaves_unanswered_requests() {
    // After 300 answers the server reads every request and never answers: each of the 4
    // connections is left waiting when the window closes.
    let server = TestServer::start(Behavior::StopAfter(300));
    let out = bench_json(&[&server.url("/"), "-c", "4", "-d", "1500ms", "-t", "1"]);
    assert_eq!(u(&out, &["requests"]), 300, "{out}");
    assert_eq!(u(&out, &["unanswered"]), 4, "{out}");
    assert_eq!(
        server.count(),
        300 + 4,
        "the server read the answered requests and the 4 left waiting"
    );
    // The 300 answers come fast, so the unanswered waited most of the window.
    let waited_min = u(&out, &["unanswered_elapsed_us", "min"]);
    let waited_max = u(&out, &["unanswered_elapsed_us", "max"]);
    assert!(waited_min >= 500_000, "{out}");
    assert!(waited_max <= 1_600_000 && waited_min <= waited_max, "{out}");
    assert!(out["latency_us"].is_object(), "{out}");
}

#[test]
fn no_answer_at_all_is_missing_not_zero() {
    let server = TestServer::start(Behavior::StopAfter(0));
    let out = bench_json(&[&server.url("/"), "-c", "3", "-d", "1s", "-t", "1"]);
    assert_eq!(u(&out, &["requests"]), 0, "{out}");
    assert_eq!(u(&out, &["unanswered"]), 3, "{out}");
    assert!(
        u(&out, &["unanswered_elapsed_us", "min"]) >= 500_000,
        "{out}"
    );
    assert!(out["latency_us"].is_null(), "{out}");
    assert!(out["latency_uncorrected_us"].is_null(), "{out}");
    assert!(out["engine_cpu_us_per_request"].is_null(), "{out}");

    let out = run_faceoff(&["bench", &server.url("/"), "-c", "3", "-d", "1s"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    let latency = text
        .lines()
        .find(|l| l.trim_start().starts_with("latency"))
        .unwrap_or_else(|| panic!("no latency line: {text}"));
    assert!(latency.contains("missing"), "{text}");
    assert!(
        !latency.contains("0µs") && !latency.contains("0 µs"),
        "{text}"
    );
    let unanswered = text
        .lines()
        .find(|l| l.trim_start().starts_with("unanswered"))
        .unwrap_or_else(|| panic!("no unanswered line: {text}"));
    assert!(unanswered.contains("3 still waiting"), "{text}");
    assert!(unanswered.contains("incomplete"), "{text}");
}

#[test]
fn a_server_bound_load_is_not_engine_limited() {
    // 8 connections on a server that answers after 20 ms: by Little's law all 8 are busy, so
    // the engine-limited rule must not fire.
    let server = TestServer::start(Behavior::Delay(Duration::from_millis(20)));
    let out = run_faceoff(&[
        "bench",
        &server.url("/"),
        "--warm",
        "-c",
        "8",
        "-d",
        "2s",
        "-t",
        "1",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let busy = json["busy_connections"].as_f64().unwrap();
    assert!((6.4..=8.5).contains(&busy), "busy {busy}: {json}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let requests = u(&json, &["requests"]) as f64;
    // 8 connections x 2 s / ~20 ms, with room for a slow shared machine.
    assert!((500.0..=820.0).contains(&requests), "{json}");
}

#[test]
fn connections_that_fail_set_up_still_take_part() {
    // Every request is answered by a reset: all set-up requests fail, and the connections
    // still carry the window's requests, connecting again each time.
    let server = TestServer::start(Behavior::ResetEvery(1));
    let out = bench_json(&[
        &server.url("/"),
        "--warm",
        "-n",
        "100",
        "-c",
        "4",
        "-t",
        "1",
    ]);
    assert_eq!(u(&out, &["setup", "opened"]), 0, "{out}");
    assert_eq!(u(&out, &["setup", "failed"]), 4, "{out}");
    assert_eq!(u(&out, &["errors", "reset"]), 100, "{out}");
    assert_eq!(u(&out, &["connects"]), 100, "{out}");
    assert_eq!(server.count(), 100 + 4, "{out}");
}
