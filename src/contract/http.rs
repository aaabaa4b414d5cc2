//! A small blocking HTTP/1.1 client for `verify`: one connection per request, raw headers
//! kept, Content-Length and chunked bodies, a deadline on every request. It records the
//! headers of every response so the `headers` and `date-changes` checks can look at all of them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest response body the client accepts.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Bodies at least this long are written from a second thread while the answer is read, so a
/// server that answers early (413) and closes is still heard.
const STREAM_BODY_BYTES: usize = 64 * 1024;

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("body is not JSON ({e}): {}", self.snippet()))
    }

    /// The start of the body, for messages.
    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut s: String = text.chars().take(120).collect();
        if text.chars().count() > 120 {
            s.push('…');
        }
        format!("{s:?}")
    }
}

/// What the client saw of one response's headers.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `METHOD /path`.
    pub request: String,
    /// When the response arrived.
    pub at: Instant,
    /// The Date header.
    pub date: Option<String>,
    /// Whether the body was framed by Content-Length or chunked encoding.
    pub framed: bool,
    /// The Content-Encoding header.
    pub encoding: Option<String>,
}

/// A client bound to one server address.
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    /// Default deadline of one request.
    pub timeout: Duration,
    seen: Mutex<Vec<Seen>>,
}

impl Client {
    /// A client for `addr` with a 5 s deadline per request.
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            timeout: Duration::from_secs(5),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The server address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Response, String> {
        self.request("GET", path, &[], &[], self.timeout)
    }

    /// Any request; errors are sentences for check reports.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<Response, String> {
        let what = format!("{method} {path}");
        let (response, framed) = self
            .exchange(method, path, headers, body, timeout)
            .map_err(|e| format!("{what}: {e}"))?;
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(Seen {
                request: what,
                at: Instant::now(),
                date: response.header("date").map(str::to_string),
                framed,
                encoding: response.header("content-encoding").map(str::to_string),
            });
        }
        Ok(response)
    }

    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<(Response, bool), String> {
        let deadline = Instant::now() + timeout;
        let mut stream = TcpStream::connect_timeout(&self.addr, timeout)
            .map_err(|e| format!("could not connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_write_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .map_err(|e| format!("could not send the request: {e}"))?;
        if body.len() >= STREAM_BODY_BYTES {
            let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
            let body = body.to_vec();
            std::thread::scope(|scope| {
                // Write errors are expected when the server answers early and closes.
                scope.spawn(move || {
                    let _ = writer.write_all(&body);
                });
                read_response(&mut stream, method, deadline)
            })
        } else {
            stream
                .write_all(body)
                .map_err(|e| format!("could not send the body: {e}"))?;
            read_response(&mut stream, method, deadline)
        }
    }
}

fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<usize, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("no complete answer before the deadline".into());
    }
    stream
        .set_read_timeout(Some(left))
        .map_err(|e| e.to_string())?;
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk) {
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > MAX_BODY_BYTES {
                return Err(format!("answer larger than {MAX_BODY_BYTES} bytes"));
            }
            Ok(n)
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err("no complete answer before the deadline".into())
        }
        Err(e) => Err(format!("connection failed while reading: {e}")),
    }
}

/// Reads one response; returns it and whether the body was framed.
fn read_response(
    stream: &mut TcpStream,
    method: &str,
    deadline: Instant,
) -> Result<(Response, bool), String> {
    let mut buf = Vec::new();
    let (status, headers, body_start) = loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let status = parsed.code.unwrap_or(0);
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).trim().to_string(),
                        )
                    })
                    .collect();
                if (100..200).contains(&status) {
                    // 100 Continue and friends: skip to the real answer.
                    buf.drain(..n);
                    continue;
                }
                break (status, headers, n);
            }
            Ok(httparse::Status::Partial) => {
                if read_more(stream, &mut buf, deadline)? == 0 {
                    return Err(if buf.is_empty() {
                        "the server closed the connection without answering".into()
                    } else {
                        "the server closed the connection in the middle of the headers".into()
                    });
                }
            }
            Err(e) => return Err(format!("malformed response head: {e}")),
        }
    };
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let chunked =
        find("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let length = find("content-length");
    let mut rest = buf.split_off(body_start);
    let no_body = method == "HEAD" || status == 204 || status == 304;
    let (body, framed) = if no_body {
        (Vec::new(), true)
    } else if chunked {
        loop {
            if let Some(body) = decode_chunked(&rest)? {
                break (body, true);
            }
            if read_more(stream, &mut rest, deadline)? == 0 {
                return Err("the server closed the connection inside a chunked body".into());
            }
        }
    } else if let Some(length) = length {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length '{length}'"))?;
        if length > MAX_BODY_BYTES {
            return Err(format!("Content-Length {length} is too large"));
        }
        while rest.len() < length {
            if read_more(stream, &mut rest, deadline)? == 0 {
                return Err(format!(
                    "the server closed the connection after {} of {length} body bytes",
                    rest.len()
                ));
            }
        }
        rest.truncate(length);
        (rest, true)
    } else {
        // Neither: the body runs to the end of the connection.
        while read_more(stream, &mut rest, deadline)? > 0 {}
        (rest, false)
    };
    Ok((
        Response {
            status,
            headers,
            body,
        },
        framed,
    ))
}

/// Decodes a complete chunked body, or `None` if more bytes are needed.
fn decode_chunked(mut buf: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(buf) {
            Ok(httparse::Status::Complete(v)) => v,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err("malformed chunk size".into()),
        };
        let size = usize::try_from(size).map_err(|_| "chunk too large".to_string())?;
        if size == 0 {
            // Trailers end with an empty line.
            let tail = &buf[start..];
            if tail.starts_with(b"\r\n") || tail.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(Some(body));
            }
            return Ok(None);
        }
        if buf.len() < start + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[start..start + size]);
        if &buf[start + size..start + size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        buf = &buf[start + size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            decode_chunked(b"5\r\nHello\r\n3\r\n, W\r\n0\r\n\r\n").unwrap(),
            Some(b"Hello, W".to_vec())
        );
        assert_eq!(decode_chunked(b"5\r\nHel").unwrap(), None);
        assert_eq!(decode_chunked(b"5\r\nHello\r\n0\r\n").unwrap(), None);
        assert!(decode_chunked(b"zz\r\n").is_err());
    }
}
