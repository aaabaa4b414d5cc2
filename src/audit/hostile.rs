//! The hostile-input probes: what each sends, what it expects, and the verdict on what the
//! server did. Pass means a 4xx (or a closed connection where that is a right answer), no 5xx,
//! no answer that leaks a stack trace, file path or exception name, and a server that still
//! answers `/healthz` afterwards (checked by the caller).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::probe::{self, Answer, PROBE_TIMEOUT};
use crate::cancel::Cancel;

/// How long the slow client keeps sending before it judges the server.
pub const SLOW_WINDOW: Duration = Duration::from_secs(8);

/// Gap between two bytes of the slow client.
const SLOW_GAP: Duration = Duration::from_millis(200);

/// Name of the slow-client probe ([`slow_client`]).
pub const SLOW_CLIENT: &str = "slow-client";

/// Connections the half-open probe holds.
pub const HALF_OPEN_CONNECTIONS: usize = 200;

/// One hostile request and what it expects.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Short name, e.g. `large-body`.
    pub name: &'static str,
    /// What is sent, for people.
    pub sent: &'static str,
    /// What a good server does.
    pub expected: &'static str,
    /// Whether closing the connection without an answer is a right answer.
    closed_ok: bool,
    /// Whether a non-4xx answer is fine if the server closes the connection after it.
    answer_then_close_ok: bool,
    build: fn() -> Vec<u8>,
}

/// The result of one probe.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    /// Probe name.
    pub name: &'static str,
    /// What was sent.
    pub sent: String,
    /// What a good server does.
    pub expected: String,
    /// What the server did.
    pub answer: Answer,
    /// How long until it answered or gave up, in milliseconds.
    pub elapsed_ms: u64,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub reasons: Vec<String>,
}

const NESTING: usize = 50_000;
const LARGE_BODY_BYTES: usize = 10 * 1024 * 1024;
const LONG_BYTES: usize = 1024 * 1024;
const MANY_HEADERS: usize = 10_000;

/// The request/answer probes, in the order they run (the slow and half-open probes are
/// [`slow_client`] and [`half_open`]).
pub const PROBES: &[Probe] = &[
    Probe {
        name: "malformed-json",
        sent: "POST /users with the body {\"name\": (cut short)",
        expected: "400",
        closed_ok: false,
        answer_then_close_ok: false,
        build: || probe::post_json("/users", br#"{"name":"#),
    },
    Probe {
        name: "deep-json",
        sent: "POST /users with arrays nested 50,000 deep",
        expected: "400 or 413",
        closed_ok: false,
        answer_then_close_ok: false,
        build: || {
            let mut body = vec![b'['; NESTING];
            body.extend(std::iter::repeat_n(b']', NESTING));
            probe::post_json("/users", &body)
        },
    },
    Probe {
        name: "wrong-types",
        sent: "POST /users {\"name\":123,\"email\":[],\"age\":\"old\"}",
        expected: "400",
        closed_ok: false,
        answer_then_close_ok: false,
        build: || probe::post_json("/users", br#"{"name":123,"email":[],"age":"old"}"#),
    },
    Probe {
        name: "large-body",
        sent: "POST /users with a 10 MiB JSON body",
        expected: "413 (or the connection closed)",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || {
            let mut body = b"{\"name\":\"".to_vec();
            body.extend(std::iter::repeat_n(b'a', LARGE_BODY_BYTES));
            body.extend_from_slice(b"\",\"email\":\"a@b\",\"age\":1}");
            probe::post_json("/users", &body)
        },
    },
    Probe {
        name: "long-url",
        sent: "GET /plaintext?pad=<1 MiB>",
        expected: "414, 431 or 400 (or the connection closed)",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || {
            let mut target = b"/plaintext?pad=".to_vec();
            target.extend(std::iter::repeat_n(b'a', LONG_BYTES));
            probe::head("GET", &target, &[])
        },
    },
    Probe {
        name: "large-header",
        sent: "GET /plaintext with one 1 MiB header",
        expected: "431 or 400 (or the connection closed)",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || {
            let line = format!("X-Pad: {}", "a".repeat(LONG_BYTES));
            probe::head("GET", b"/plaintext", &[line])
        },
    },
    Probe {
        name: "many-headers",
        sent: "GET /plaintext with 10,000 headers",
        expected: "431 or 400 (or the connection closed)",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || {
            let lines: Vec<String> = (0..MANY_HEADERS).map(|i| format!("X-H{i}: v")).collect();
            probe::head("GET", b"/plaintext", &lines)
        },
    },
    Probe {
        name: "invalid-utf8-path",
        sent: "GET /\\xff\\xfe/plaintext (raw bytes that are not UTF-8)",
        expected: "400 or 404 (or the connection closed)",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || probe::head("GET", b"/\xff\xfe/plaintext", &[]),
    },
    Probe {
        name: "dot-dot-path",
        sent: "GET /../../../../etc/passwd and GET /%2e%2e/%2e%2e/etc/passwd",
        expected: "400 or 404, never the file",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || probe::head("GET", b"/../../../../etc/passwd", &[]),
    },
    Probe {
        name: "unknown-method",
        sent: "BREW /plaintext",
        expected: "400, 404 or 405 (or the connection closed)",
        closed_ok: true,
        answer_then_close_ok: false,
        build: || probe::head("BREW", b"/plaintext", &[]),
    },
    Probe {
        name: "cl-te-conflict",
        sent: "POST /users with both Content-Length: 4 and Transfer-Encoding: chunked",
        expected: "400 (or an answer followed by closing the connection, RFC 9112 section 6.1)",
        closed_ok: true,
        answer_then_close_ok: true,
        build: || {
            let body = br#"{"name":"a","email":"a@b","age":1}"#;
            let mut out = format!(
                "POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n0\r\n\r\n");
            out
        },
    },
];

/// Runs one probe (the server's health afterwards is the caller's).
pub fn run(p: &Probe, addr: SocketAddr) -> ProbeResult {
    let request = (p.build)();
    let started = Instant::now();
    let mut answer = probe::exchange(addr, &request, PROBE_TIMEOUT);
    if p.name == "dot-dot-path" && judge(p, &answer).is_empty() {
        // The encoded form reaches routers that decode before they resolve.
        let encoded = probe::head("GET", b"/%2e%2e/%2e%2e/etc/passwd", &[]);
        let second = probe::exchange(addr, &encoded, PROBE_TIMEOUT);
        if !judge(p, &second).is_empty() {
            answer = second;
        }
    }
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let reasons = judge(p, &answer);
    ProbeResult {
        name: p.name,
        sent: p.sent.into(),
        expected: p.expected.into(),
        passed: reasons.is_empty(),
        answer,
        elapsed_ms,
        reasons,
    }
}

/// Why `answer` is wrong for `p` (empty: it is right).
fn judge(p: &Probe, answer: &Answer) -> Vec<String> {
    let mut reasons = Vec::new();
    match answer {
        Answer::Response {
            status,
            body,
            closed_after,
            ..
        } => {
            let status = *status;
            if status >= 500 {
                reasons.push(format!("answered {status}, a server error"));
            } else if !((400..500).contains(&status) || (p.answer_then_close_ok && *closed_after)) {
                reasons.push(format!("answered {status}: it accepted the request"));
            }
            let leaked = probe::leaks(body);
            if !leaked.is_empty() {
                reasons.push(format!("the answer shows {}", leaked.join(", ")));
            }
            if body.contains("root:x:0:0") {
                reasons.push("the answer holds /etc/passwd".into());
            }
        }
        Answer::Closed | Answer::Reset if p.closed_ok => {}
        Answer::Closed => reasons.push("closed the connection without an answer".into()),
        Answer::Reset => reasons.push("reset the connection without an answer".into()),
        Answer::Timeout => reasons.push(format!("no answer within {PROBE_TIMEOUT:?}")),
        Answer::Refused => reasons.push("refused the connection (is it down?)".into()),
    }
    reasons
}

/// Sends a request one byte every 200 ms and never finishes its headers, for at most
/// [`SLOW_WINDOW`]: passes if the server cuts the client off (closes, resets or answers 408)
/// within the window. `None` when interrupted.
pub fn slow_client(addr: SocketAddr, cancel: &Cancel) -> Option<ProbeResult> {
    let sent = format!(
        "GET /plaintext, one header byte every {} ms, never finished, for up to {} s",
        SLOW_GAP.as_millis(),
        SLOW_WINDOW.as_secs()
    );
    let expected = format!(
        "the server cuts the client off within {} s",
        SLOW_WINDOW.as_secs()
    );
    let started = Instant::now();
    let answer = match probe::connect(addr) {
        Err(_) => Answer::Refused,
        Ok(mut stream) => {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(1)));
            let bytes = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
            let mut answer = Answer::Timeout;
            let mut i = 0usize;
            while started.elapsed() < SLOW_WINDOW {
                if cancel.is_cancelled() {
                    return None;
                }
                let byte = bytes.get(i).copied().unwrap_or(b'a');
                i += 1;
                if stream.write_all(&[byte]).is_err() {
                    answer = Answer::Reset;
                    break;
                }
                if let Some(a) = peek_answer(&mut stream) {
                    answer = a;
                    break;
                }
                std::thread::sleep(SLOW_GAP);
            }
            let _ = stream.shutdown(std::net::Shutdown::Both);
            answer
        }
    };
    let elapsed = started.elapsed();
    let reasons = match &answer {
        Answer::Timeout => vec![format!(
            "kept the connection open for the whole {} s window",
            SLOW_WINDOW.as_secs()
        )],
        Answer::Refused => vec!["refused the connection (is it down?)".into()],
        Answer::Response { status, .. } if *status >= 500 => {
            vec![format!("answered {status}, a server error")]
        }
        _ => Vec::new(),
    };
    Some(ProbeResult {
        name: SLOW_CLIENT,
        sent,
        expected,
        passed: reasons.is_empty(),
        answer,
        elapsed_ms: elapsed.as_millis() as u64,
        reasons,
    })
}

/// Whether the server has said or done something on `stream`: an answer, or a close.
fn peek_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => Some(Answer::Closed),
        Ok(n) => {
            // An answer to a request it never finished (408 or 400): only the status matters.
            let text = String::from_utf8_lossy(&buf[..n]);
            let status = text.get(9..12).and_then(|s| s.parse().ok());
            Some(match status {
                Some(status) if text.starts_with("HTTP/1.") => Answer::Response {
                    status,
                    headers: Vec::new(),
                    body: String::new(),
                    closed_after: false,
                },
                _ => Answer::Closed,
            })
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(_) => Some(Answer::Reset),
    }
}

/// Opens [`HALF_OPEN_CONNECTIONS`] connections that each send half a request head and wait,
/// then asks `GET /healthz` on a fresh one: passes if it answers 200 while they are open.
/// Every connection is closed before it returns.
pub fn half_open(addr: SocketAddr) -> ProbeResult {
    let started = Instant::now();
    let mut held = Vec::new();
    // A server whose accept queue is full makes each connect wait: bound them all together.
    let opening_deadline = started + PROBE_TIMEOUT;
    while held.len() < HALF_OPEN_CONNECTIONS && Instant::now() < opening_deadline {
        match probe::connect(addr) {
            Ok(mut s) => {
                let _ = s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n");
                held.push(s);
            }
            Err(_) => break,
        }
    }
    let opened = held.len();
    let answer = probe::exchange(addr, &probe::head("GET", b"/healthz", &[]), PROBE_TIMEOUT);
    for s in &held {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
    drop(held);
    let mut reasons = Vec::new();
    if opened < HALF_OPEN_CONNECTIONS {
        reasons.push(format!(
            "accepted only {opened} of {HALF_OPEN_CONNECTIONS} connections"
        ));
    }
    if answer.status() != Some(200) {
        reasons.push(format!(
            "GET /healthz got {} while they were open",
            answer.short()
        ));
    }
    ProbeResult {
        name: "half-open",
        sent: format!(
            "{HALF_OPEN_CONNECTIONS} connections with half a request head each, then GET /healthz"
        ),
        expected: "GET /healthz answers 200 while they are open".into(),
        passed: reasons.is_empty(),
        answer,
        elapsed_ms: started.elapsed().as_millis() as u64,
        reasons,
    }
}
