//! The health probe (`GET /healthz` answering 200) and the wait for a starting contestant to
//! pass it, which ends early when the process exits or the command is interrupted.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;

/// Longest a single probe waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Pause between probes.
const PROBE_PAUSE: Duration = Duration::from_millis(50);

/// Read slices of a probe, so an interrupt is seen while a server is slow to answer.
const READ_SLICE: Duration = Duration::from_millis(100);

/// How a health wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// `/healthz` answered 200.
    Healthy,
    /// The process exited first (how it ended).
    Exited(String),
    /// It did not answer in time.
    TimedOut,
    /// The command was interrupted.
    Interrupted,
}

/// Probes `addr` until it is healthy, `exited` reports an exit, `timeout` passes or `cancel`
/// is set. An exit seen after the token is set counts as the interrupt, since the interrupt
/// stops every group only after it sets the token.
pub fn wait_healthy(
    addr: SocketAddr,
    timeout: Duration,
    cancel: &Cancel,
    exited: &mut dyn FnMut() -> Option<String>,
) -> Wait {
    let started = Instant::now();
    loop {
        if cancel.is_cancelled() {
            return Wait::Interrupted;
        }
        if let Some(status) = exited() {
            return if cancel.is_cancelled() {
                Wait::Interrupted
            } else {
                Wait::Exited(status)
            };
        }
        if probe(addr, PROBE_TIMEOUT, cancel) {
            return Wait::Healthy;
        }
        if started.elapsed() >= timeout {
            return Wait::TimedOut;
        }
        cancel.sleep(PROBE_PAUSE);
    }
}

/// True if `GET /healthz` on `addr` answers with status 200 within `timeout`.
pub fn probe_healthz(addr: SocketAddr, timeout: Duration) -> bool {
    probe(addr, timeout, &Cancel::new())
}

fn probe(addr: SocketAddr, timeout: Duration, cancel: &Cancel) -> bool {
    let deadline = Instant::now() + timeout;
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    );
    if stream.set_write_timeout(Some(timeout)).is_err()
        || stream.write_all(request.as_bytes()).is_err()
    {
        return false;
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero()
            || cancel.is_cancelled()
            || stream.set_read_timeout(Some(left.min(READ_SLICE))).is_err()
        {
            return false;
        }
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    matches!(
        (parts.next(), parts.next()),
        (Some(v), Some("200")) if v.starts_with("HTTP/1.")
    )
}
