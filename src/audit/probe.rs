//! The hostile-input probes: raw bytes over one TCP connection to 127.0.0.1, each bounded in
//! bytes and time, each with the answer it expects. A probe never fails faceoff: whatever the
//! server does (answers, closes, resets, hangs) is what it did.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Longest a probe waits for an answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Most answer bytes a probe keeps.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// What the server did with one request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// It answered.
    Response {
        /// Status code.
        status: u16,
        /// Header names (lowercase) and values, in order.
        headers: Vec<(String, String)>,
        /// The start of the body as received (lossy UTF-8, at most 2 KiB; chunk sizes left in
        /// when chunked).
        body: String,
        /// Whether it closed the connection right after answering.
        closed_after: bool,
    },
    /// It closed the connection without an answer.
    Closed,
    /// It reset the connection.
    Reset,
    /// No answer within the time limit.
    Timeout,
    /// The connection could not be made.
    Refused,
}

impl Answer {
    /// The status code, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Answer::Response { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// One line for tables: `400`, `closed`, ...
    pub fn short(&self) -> String {
        match self {
            Answer::Response { status, .. } => status.to_string(),
            Answer::Closed => "closed".into(),
            Answer::Reset => "reset".into(),
            Answer::Timeout => "timeout".into(),
            Answer::Refused => "refused".into(),
        }
    }
}

/// Connects to `addr` with the probe timeout.
pub fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
    let _ = stream.set_nodelay(true);
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    Ok(stream)
}

/// Sends `request` and reads one answer within `timeout`. Large requests are written from a
/// second thread so a server that answers early (413) and closes is still heard.
pub fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> Answer {
    let Ok(mut stream) = connect(addr) else {
        return Answer::Refused;
    };
    let writer = if request.len() > 64 * 1024 {
        let Ok(mut w) = stream.try_clone() else {
            return Answer::Refused;
        };
        let bytes = request.to_vec();
        Some(std::thread::spawn(move || {
            let _ = w.write_all(&bytes);
        }))
    } else {
        if let Err(e) = stream.write_all(request) {
            if e.kind() == std::io::ErrorKind::ConnectionReset {
                return Answer::Reset;
            }
        }
        None
    };
    let answer = read_answer(&mut stream, Instant::now() + timeout);
    // Closing our end ends the writer thread's write (EPIPE) if the server stopped reading.
    let _ = stream.shutdown(std::net::Shutdown::Both);
    if let Some(w) = writer {
        let _ = w.join();
    }
    answer
}

/// Reads one answer from `stream` until `deadline`.
pub fn read_answer(stream: &mut TcpStream, deadline: Instant) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(answer) = parse(&buf, false) {
            return finish(stream, answer, deadline);
        }
        if Instant::now() >= deadline {
            return Answer::Timeout;
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                return parse(&buf, true).unwrap_or(if buf.is_empty() {
                    Answer::Closed
                } else {
                    Answer::Reset
                })
            }
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > MAX_ANSWER_BYTES {
                    return parse(&buf, true).unwrap_or(Answer::Reset);
                }
            }
            Err(e) if is_wait(&e) => {}
            Err(_) if buf.is_empty() => return Answer::Reset,
            Err(_) => return parse(&buf, true).unwrap_or(Answer::Reset),
        }
    }
}

fn is_wait(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted
    )
}

/// After a whole answer: does the server close the connection within a short while?
fn finish(stream: &mut TcpStream, mut answer: Answer, deadline: Instant) -> Answer {
    let until = (Instant::now() + Duration::from_millis(500)).min(deadline);
    let mut closed = false;
    let mut chunk = [0u8; 4096];
    while Instant::now() < until {
        match stream.read(&mut chunk) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {}
            Err(e) if is_wait(&e) => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    if let Answer::Response { closed_after, .. } = &mut answer {
        *closed_after = closed;
    }
    answer
}

/// Parses a whole answer from `buf`; with `eof`, a body cut short is what there is.
fn parse(buf: &[u8], eof: bool) -> Option<Answer> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let status = resp.code?;
    let headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let rest = &buf[head_len..];
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let body: &[u8] = if let Some(len) =
        find("content-length").and_then(|v| v.trim().parse::<usize>().ok())
    {
        if rest.len() < len && !eof {
            return None;
        }
        &rest[..len.min(rest.len())]
    } else if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        if !eof && !rest.ends_with(b"0\r\n\r\n") {
            return None;
        }
        rest
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        &[]
    } else {
        if !eof {
            return None;
        }
        rest
    };
    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned();
    Some(Answer::Response {
        status,
        headers,
        body: text,
        closed_after: eof,
    })
}

/// A request head: `METHOD target HTTP/1.1`, Host, the extra lines, Connection: close.
pub fn head(method: &str, target: &[u8], extra: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for line in extra {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `POST path` with a JSON body.
pub fn post_json(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = head(
        "POST",
        path.as_bytes(),
        &[
            "Content-Type: application/json".into(),
            format!("Content-Length: {}", body.len()),
        ],
    );
    out.extend_from_slice(body);
    out
}

/// Signs in an answer body that it leaks internals: a stack trace, a source file path or an
/// exception name. Returns what was found.
pub fn leaks(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    if body.contains("Traceback (most recent call last)") {
        found.push("a Python traceback".to_string());
    }
    // Node/V8 frames: "    at fn (/path/file.js:12:5)".
    if body.lines().any(|l| {
        let t = l.trim_start();
        t.starts_with("at ")
            && (t.contains(".js:")
                || t.contains(".mjs:")
                || t.contains(".cjs:")
                || t.contains("node:"))
    }) {
        found.push("a JavaScript stack trace".to_string());
    }
    if body.contains("stack backtrace:") || body.contains("panicked at") {
        found.push("a Rust panic message".to_string());
    }
    if let Some(path) = source_path(body) {
        found.push(format!("a file path ({path})"));
    }
    if let Some(name) = exception_name(body) {
        found.push(format!("an exception name ({name})"));
    }
    found
}

fn source_path(body: &str) -> Option<String> {
    for word in body.split(|c: char| c.is_whitespace() || "\"'()<>,[]{}".contains(c)) {
        let w = word.trim_end_matches(|c: char| c == ':' || c.is_ascii_digit());
        let is_source = [".js", ".mjs", ".cjs", ".py", ".rs", ".ts"]
            .iter()
            .any(|ext| w.ends_with(ext));
        if w.starts_with('/') && w[1..].contains('/') && is_source {
            return Some(w.to_string());
        }
        if w.contains("node_modules/") || w.contains("site-packages/") {
            return Some(w.to_string());
        }
    }
    None
}

fn exception_name(body: &str) -> Option<String> {
    for word in body.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        let is_name = word.len() > 5
            && word.starts_with(|c: char| c.is_ascii_uppercase())
            && (word.ends_with("Error") || word.ends_with("Exception"))
            && word != "Error"
            && word[..word.len() - 5]
                .chars()
                .any(|c| c.is_ascii_lowercase());
        if is_name {
            return Some(word.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_signs() {
        let node = "SyntaxError: Unexpected end of JSON input\n    at JSON.parse (<anonymous>)\n    at IncomingMessage.<anonymous> (/srv/app/server.js:20:24)";
        let found = leaks(node);
        assert!(
            found.iter().any(|f| f.contains("JavaScript stack trace")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|f| f.contains("/srv/app/server.js")),
            "{found:?}"
        );
        assert!(found.iter().any(|f| f.contains("SyntaxError")), "{found:?}");
        let py = "Traceback (most recent call last):\n  File \"/app/.venv/lib/python3.12/site-packages/x.py\", line 3\nKeyError: 'a'";
        assert_eq!(leaks(py).len(), 3, "{:?}", leaks(py));
        for clean in [
            r#"{"error":"invalid JSON"}"#,
            "Bad Request",
            r#"{"error":"name must be 1..64 characters"}"#,
            "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",
            "Error: too large",
        ] {
            assert!(leaks(clean).is_empty(), "{clean}: {:?}", leaks(clean));
        }
    }

    #[test]
    fn parses_answers() {
        let a = parse(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad",
            false,
        )
        .unwrap();
        assert_eq!(a.status(), Some(400));
        assert!(parse(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\n\r\nbad",
            false
        )
        .is_none());
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert!(parse(chunked, false).is_some());
        assert_eq!(
            parse(b"HTTP/1.1 200 OK\r\n\r\nrest", true)
                .unwrap()
                .status(),
            Some(200)
        );
    }
}
