//! Connection scale and capacity (issue 10) against real servers on 127.0.0.1: 10,000 idle
//! keep-alive connections, and 10,000 idle WebSocket connections to the rust-axum reference
//! contestant, held and released without a leaked descriptor on either side; a short
//! `faceoff run` of an idle WebSocket workload; and a capacity search that finds the known
//! limit of a token-bucket server.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faceoff::load::idle::{IdleHold, IdlePlan, IdleProtocol};
use faceoff::load::{http1, LoadPlan, Pacing, Request, Stop};
use faceoff::runner::capacity::{find_capacity, CapacityTrial};
use faceoff::runner::trial::{record, Isolation};
use faceoff::stats::{CapacitySearch, Slo};
use faceoff::store::TrialPoint;
use faceoff::suite::CapacityTarget;

use crate::common::{server_cpu, LimitedServer};

/// A Node.js server that keeps idle keep-alive connections open for as long as the client
/// does, and counts the connections it has open (`GET /count`).
const HOLDING_SERVER_JS: &str = r#"
const http = require('node:http');
let open = 0;
const server = http.createServer((req, res) => {
  res.end(req.url === '/count' ? String(open) : 'ok');
});
server.keepAliveTimeout = 0;
server.on('connection', (s) => { open++; s.on('close', () => open--); });
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  console.log(server.address().port);
});
"#;

struct NodeServer {
    child: Child,
    addr: SocketAddr,
}

impl NodeServer {
    fn start() -> NodeServer {
        let mut child = Command::new("node")
            .args(["-e", HOLDING_SERVER_JS])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node is on PATH");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().expect("the server prints its port");
        NodeServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// Connections the server has open (the one asking included).
    fn open_connections(&self) -> u64 {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.write_all(b"GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
            .rsplit("\r\n\r\n")
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Descriptors of this process that are TCP sockets connected to `port` on 127.0.0.1 (from
/// /proc/self/fd and /proc/net/tcp), so other tests running beside this one do not count.
fn sockets_to(port: u16) -> usize {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let inodes: BTreeSet<String> = tcp
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let remote_port = u16::from_str_radix(f.get(2)?.rsplit(':').next()?, 16).ok()?;
            (remote_port == port).then(|| f.get(9).map(|s| s.to_string()))?
        })
        .collect();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .filter(|inode| inodes.contains(inode))
        .count()
}

#[test]
fn ten_thousand_idle_connections_are_held_and_released_without_a_leak() {
    // The server inherits the raised limit.
    faceoff::sys::raise_nofile_limit();
    let server = NodeServer::start();
    let port = server.addr.port();
    let fds_before = faceoff::load::idle::open_descriptors();
    assert_eq!(sockets_to(port), 0);

    let hold = IdleHold::open(&IdlePlan {
        addr: server.addr,
        count: 10_000,
        protocol: IdleProtocol::Http,
        open_timeout: Duration::from_secs(30),
        cpus: Vec::new(),
    })
    .expect("the limits allow 10,000 connections");
    let counts = hold.counts();
    assert_eq!(counts.target, 10_000);
    assert_eq!((counts.opened, counts.refused), (10_000, 0), "{counts:?}");
    assert_eq!(sockets_to(port), 10_000, "every connection is one socket");
    // The server agrees (plus the connection that asks).
    assert_eq!(server.open_connections(), 10_001);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hold.counts().held(), 10_000, "none dropped while idle");

    let released = hold.release();
    assert_eq!(released.held(), 10_000);
    assert_eq!(sockets_to(port), 0, "no socket left open");
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.open_connections() > 1 {
        assert!(
            Instant::now() < deadline,
            "the server still sees connections"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Other tests in this process open descriptors too; a leak would be thousands.
    let fds_after = faceoff::load::idle::open_descriptors();
    assert!(
        fds_after < fds_before + 100,
        "{fds_before} descriptors before, {fds_after} after"
    );
}

/// Descriptors the process `pid` has open.
fn descriptors_of(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or_else(|e| panic!("/proc/{pid}/fd: {e}"))
}

#[test]
fn ten_thousand_idle_websocket_connections_are_held_and_released_without_a_leak() {
    let _cpu = server_cpu();
    // The contestant inherits the raised limit.
    faceoff::sys::raise_nofile_limit();
    let dir = tempfile::tempdir().unwrap();
    let guard = crate::ws::start_rust_axum(dir.path());
    let (addr, pid) = (guard.addr(), guard.pgid());
    let port = addr.port();
    let fds_before = faceoff::load::idle::open_descriptors();
    let server_before = descriptors_of(pid);
    assert_eq!(sockets_to(port), 0);

    let hold = IdleHold::open(&IdlePlan {
        addr,
        count: 10_000,
        protocol: IdleProtocol::Ws,
        open_timeout: Duration::from_secs(30),
        cpus: Vec::new(),
    })
    .expect("the limits allow 10,000 connections");
    let counts = hold.counts();
    assert_eq!(counts.target, 10_000);
    assert_eq!(
        (counts.opened, counts.refused, counts.untried),
        (10_000, 0, 0),
        "{counts:?}"
    );
    assert_eq!(sockets_to(port), 10_000, "every connection is one socket");
    // The server holds one descriptor per upgraded connection.
    let server_holding = descriptors_of(pid);
    assert!(
        server_holding >= server_before + 10_000,
        "the server has {server_holding} descriptors open, {server_before} before"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hold.counts().held(), 10_000, "none dropped while idle");

    let released = hold.release();
    assert_eq!(released.held(), 10_000);
    assert_eq!(sockets_to(port), 0, "no socket left open");
    // The server notices every reset and closes its end.
    let deadline = Instant::now() + Duration::from_secs(20);
    while descriptors_of(pid) > server_before + 16 {
        assert!(
            Instant::now() < deadline,
            "the server still holds {} descriptors, {server_before} before",
            descriptors_of(pid)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Other tests in this process open descriptors too; a leak would be thousands.
    let fds_after = faceoff::load::idle::open_descriptors();
    assert!(
        fds_after < fds_before + 100,
        "{fds_before} descriptors before, {fds_after} after"
    );
    drop(guard);
}

#[test]
fn a_server_that_upgrades_nothing_is_refused_and_opening_gives_up() {
    // A plain HTTP server answers the upgrade with 200: every connection is refused, and after
    // a round of failures in a row the rest are not tried.
    let server = crate::common::TestServer::start(crate::common::Behavior::Hello);
    let counts = IdleHold::open(&IdlePlan {
        addr: server.addr,
        count: 2_000,
        protocol: IdleProtocol::Ws,
        open_timeout: Duration::from_secs(10),
        cpus: Vec::new(),
    })
    .unwrap()
    .release();
    assert_eq!((counts.opened, counts.refused), (0, 2_000), "{counts:?}");
    let tried = 2_000 - counts.untried;
    assert!(
        (u64::from(faceoff::load::idle::GIVE_UP_AFTER)..2_000).contains(&tried),
        "{counts:?}"
    );
    // Every connection tried reached the server; none of the others did.
    let accepted = server.accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(accepted, tried, "{counts:?}");
}

#[test]
fn a_step_beyond_the_descriptor_limit_says_so_with_the_fix() {
    let (limit, _) = faceoff::sys::nofile_limits();
    let err = IdleHold::open(&IdlePlan {
        addr: SocketAddr::from(([127, 0, 0, 1], 9)),
        count: u32::try_from(limit).unwrap_or(u32::MAX - 1000),
        protocol: IdleProtocol::Http,
        open_timeout: Duration::from_secs(1),
        cpus: Vec::new(),
    })
    .err()
    .expect("more connections than descriptors");
    let text = err.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(text.contains("ulimit -n"), "{text}");
}

/// One constant-rate trial of `GET /` against `addr`, turned into the figures the runner
/// stores, then into what the capacity search reads.
fn trial_at(addr: SocketAddr, rate: f64) -> CapacityTrial {
    let plan = LoadPlan {
        addr,
        requests: vec![Request {
            bytes: http1::serialize_request("GET", "/", &addr.to_string(), &[], b""),
            head: false,
            weight: 1,
        }],
        connections: 8,
        pacing: Pacing::ConstantRate { rate_per_s: rate },
        stop: Stop::After(Duration::from_millis(800)),
        timeout: Duration::from_secs(2),
        threads: 1,
        cpus: Vec::new(),
        warm: true,
    };
    let recording = faceoff::load::run(&plan, Arc::new(AtomicBool::new(false)), |_| {}).unwrap();
    let isolation = Isolation {
        quiet: None,
        server_cpus: 1,
        retry: 0,
        speed_ns_per_step: None,
    };
    let out = record(
        "capacity",
        "limited",
        1,
        String::new(),
        &recording,
        &Default::default(),
        None,
        false,
        isolation,
    );
    CapacityTrial::of(&out.record.metrics)
}

#[test]
fn the_capacity_search_finds_the_limit_of_a_token_bucket_server() {
    let _cpu = server_cpu();
    const LIMIT: f64 = 1_500.0;
    // 30 tokens: 20 ms of the limit, so pacing jitter below it does not empty the bucket.
    let server = LimitedServer::start(LIMIT, 30.0);
    // A 1% budget: far above a stray 503 from jitter, far below the 9% failing at 1.1x.
    let target = CapacityTarget {
        slo: Slo {
            p99_us: 200_000.0,
            max_error_rate: 0.01,
        },
        search: CapacitySearch {
            start_per_s: 200.0,
            min_per_s: 1.0,
            max_per_s: 20_000.0,
            max_probes: 14,
            resolution_rel: 0.1,
        },
        confirm: 3,
    };
    let mut rates = Vec::new();
    let found = find_capacity(&target, |rate, _| {
        rates.push(rate);
        Ok::<_, ()>(trial_at(server.addr, rate))
    })
    .unwrap();
    eprintln!(
        "rates tried {rates:?}; found {:?} .. {:?}",
        found.rate_per_s, found.high_per_s
    );
    let cap = found.rate_per_s.expect("a capacity");
    assert!(
        (0.5 * LIMIT..=1.1 * LIMIT).contains(&cap),
        "capacity {cap} for a limit of {LIMIT} (rates tried: {rates:?})"
    );
    let high = found.high_per_s.expect("rates above the limit fail");
    assert!(high > cap && high <= 2.2 * LIMIT, "[{cap}, {high})");
    assert_eq!(found.confirmations.len(), 3);
    assert!(found
        .confirmations
        .iter()
        .all(|t| target.slo.is_met(&t.outcome)));
    assert!(
        server.refused.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the search went past the limit"
    );
}

/// A short `faceoff run` of an idle WebSocket workload on rust-axum: every step is stored with
/// its protocol and counts, and the terminal, Markdown and JSON reports name the protocol and
/// show the figures.
#[test]
fn an_idle_websocket_run_stores_and_reports_its_figures() {
    let _cpu = server_cpu();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let suite = dir.join("idle-ws.toml");
    std::fs::write(
        &suite,
        "name = 'idle-ws'\n[defaults]\nwarmup = '200ms'\ntrial = '500ms'\nmin_rounds = 1\n\
         max_rounds = 1\ntimeout = '10s'\n\
         [[workload]]\nname = 'idle-ws'\nkind = 'idle-ws'\nidle = [200, 2000]\nrate = 50\n\
         connections = 2\n[[workload.request]]\npath = '/json'\n",
    )
    .unwrap();
    let db = dir.join("faceoff.db");
    let out = crate::common::faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", dir)
        .env("FACEOFF_DB", &db)
        .args(["--suite", suite.to_str().unwrap(), "--only", "rust-axum"])
        .args(["--no-calibration", "--audit", "off"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = faceoff::store::Store::open(&db).unwrap();
    let run_id = store.latest_run().unwrap().unwrap();
    let run = store.run(run_id).unwrap();
    let steps: Vec<_> = run
        .trials
        .iter()
        .filter(|t| t.workload == "idle-ws" && !t.metrics.quality.superseded)
        .filter_map(|t| match &t.metrics.point {
            Some(TrialPoint::Idle(f)) => Some((t, f)),
            _ => None,
        })
        .collect();
    let targets: Vec<u32> = steps.iter().map(|(_, f)| f.target).collect();
    assert_eq!(targets, [200, 2000], "one trial per step");
    for (t, f) in &steps {
        assert_eq!(f.protocol, IdleProtocol::Ws, "{f:?}");
        assert_eq!(f.held, Some(u64::from(f.target)), "{f:?}");
        assert_eq!((f.refused, f.dropped), (Some(0), Some(0)), "{f:?}");
        assert!(
            f.not_reached.is_none() && f.baseline_pss_bytes.is_some(),
            "{f:?}"
        );
        // The probe was answered beside the idle connections.
        assert!(
            t.metrics.requests > 0 && t.metrics.latency_us[2] > 0,
            "{:?}",
            t.metrics
        );
    }
    // 2,000 upgraded connections cost axum memory well above the noise of its baseline.
    let per_1k = steps[1].1.pss_per_1k_bytes.expect("PSS sampled");
    assert!(per_1k > 0.0, "{per_1k} bytes per 1,000");
    // Every try of a step starts from a fresh process (memory the previous step freed would
    // otherwise hide the cost of these connections): one restart stored per try, disturbed
    // ones included, and none of them shown as a warning.
    let tries = run
        .trials
        .iter()
        .filter(|t| t.workload == "idle-ws")
        .count();
    let restarts = run
        .events
        .iter()
        .filter(|e| e.kind == faceoff::store::RESTART_EVENT)
        .count();
    assert_eq!(restarts, tries, "{:?}", run.events);
    assert!(!stdout.contains("started afresh"), "{stdout}");

    // The terminal, the Markdown and the JSON name the protocol and show the figures.
    assert!(
        stdout.contains("idle-ws: idle WebSocket connections"),
        "{stdout}"
    );
    assert!(stdout.contains("held 2,000 of 2,000"), "{stdout}");
    let run_dir = dir.join(run_id.to_string());
    let md = std::fs::read_to_string(run_dir.join("summary.md")).unwrap();
    assert!(
        md.contains("## Idle WebSocket connections: idle-ws"),
        "{md}"
    );
    let row = md
        .lines()
        .find(|l| l.starts_with("| axum") && l.contains("| 2,000 |"))
        .unwrap_or_else(|| panic!("no 2,000 row in {md}"));
    assert!(row.contains("2,000 of 2,000 | 0 | 0 |"), "{row}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("results.json")).unwrap())
            .unwrap();
    let idle = &json["scale"]["idle"][0];
    assert_eq!(idle["workload"], "idle-ws");
    assert_eq!(idle["protocol"], "ws");
    let rows = idle["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{idle}");
    assert_eq!(rows[1]["held"], 2000, "{idle}");
    assert!(
        rows[1]["pss_per_1k_bytes"].as_f64().unwrap() > 0.0,
        "{idle}"
    );
    assert!(rows[1]["probe_p99_us"].as_f64().unwrap() > 0.0, "{idle}");
    let errors: Vec<String> = crate::report::schema()
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(html.contains("Idle WebSocket connections: idle-ws"));
}
