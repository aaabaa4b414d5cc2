//! Connection scale and capacity (issue 10) against real servers on 127.0.0.1: 10,000 idle
//! keep-alive connections held and released without a leaked descriptor, and a capacity search
//! that finds the known limit of a token-bucket server.

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
