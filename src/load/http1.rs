//! HTTP/1.1 on the wire: requests serialized once to bytes, and an incremental response parser
//! that frames Content-Length, chunked and close-delimited bodies without copying them.

use std::fmt::Write as _;

/// Serializes one request to the exact bytes sent on every use.
///
/// `Host`, `Content-Length` (when there is a body) and `User-Agent` are added unless given in
/// `headers`.
pub fn serialize_request(
    method: &str,
    path_and_query: &str,
    host: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut head = String::with_capacity(128);
    let _ = write!(head, "{method} {path_and_query} HTTP/1.1\r\n");
    if !has("host") {
        let _ = write!(head, "Host: {host}\r\n");
    }
    if !has("user-agent") {
        head.push_str(concat!(
            "User-Agent: faceoff/",
            env!("CARGO_PKG_VERSION"),
            "\r\n"
        ));
    }
    if !body.is_empty() && !has("content-length") {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Why a response could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// The status line or headers were malformed or too large.
    BadHead,
    /// A chunk size line or chunk terminator was malformed.
    BadChunk,
    /// Bytes arrived that belong to no request.
    Unsolicited,
}

/// A response whose framing is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Complete {
    /// The status code.
    pub status: u16,
    /// The server asked to close the connection (or the body was close-delimited).
    pub close: bool,
}

/// What one call to [`ResponseParser::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// More bytes are needed.
    Partial,
    /// The response is complete; `consumed` bytes of the input belonged to it.
    Done(Complete, usize),
}

/// A parsed head: status, whether the connection closes after it, and the body framing.
type Head = (u16, bool, Body);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading hex digits of a chunk size.
    Size { size: u64, digits: u8 },
    /// Skipping a chunk extension up to the CR.
    Extension { size: u64 },
    /// Expecting the LF after the size line.
    SizeLf { size: u64 },
    /// Skipping chunk data.
    Data { left: u64 },
    /// Expecting CR after data.
    DataCr,
    /// Expecting LF after data.
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer line.
    TrailerLine,
    /// Expecting the LF that ends the trailer line.
    TrailerLf { empty: bool },
}

/// Most header bytes faceoff keeps while a head is split over reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

/// Incremental parser for one response at a time on one connection.
///
/// Header bytes are only copied when a head is split across reads; body bytes never are.
#[derive(Debug, Default)]
pub struct ResponseParser {
    /// Head bytes carried over from earlier reads (empty in the common case).
    carry: Vec<u8>,
    state: Option<Head>,
    /// The request was HEAD: the response has no body whatever its headers say.
    head_request: bool,
}

impl ResponseParser {
    /// A parser for responses to requests of the given method.
    pub fn new(head_request: bool) -> Self {
        Self {
            head_request,
            ..Self::default()
        }
    }

    /// Sets whether the next response answers a HEAD request (and so has no body).
    pub fn set_head_request(&mut self, head_request: bool) {
        self.head_request = head_request;
    }

    /// Forgets any partial response (after a reconnect).
    pub fn reset(&mut self) {
        self.carry.clear();
        self.state = None;
    }

    /// True when no byte of a response has been seen yet.
    pub fn is_idle(&self) -> bool {
        self.carry.is_empty() && self.state.is_none()
    }

    /// The peer closed the connection: completes a close-delimited body, else `None`.
    pub fn eof(&mut self) -> Option<Complete> {
        match self.state.take() {
            Some((status, _, Body::UntilClose)) => Some(Complete {
                status,
                close: true,
            }),
            _ => None,
        }
    }

    /// Feeds bytes just read; returns whether the response is complete and how much was used.
    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ProtocolError> {
        let mut used = 0;
        if self.state.is_none() {
            let head_len = if self.carry.is_empty() {
                match parse_head(input, self.head_request)? {
                    Some((len, state)) => {
                        self.state = Some(state);
                        len
                    }
                    None => {
                        if input.len() > MAX_HEAD_BYTES {
                            return Err(ProtocolError::BadHead);
                        }
                        self.carry.extend_from_slice(input);
                        return Ok(Progress::Partial);
                    }
                }
            } else {
                let before = self.carry.len();
                self.carry.extend_from_slice(input);
                match parse_head(&self.carry, self.head_request)? {
                    Some((len, state)) => {
                        self.state = Some(state);
                        self.carry.clear();
                        len - before
                    }
                    None => {
                        if self.carry.len() > MAX_HEAD_BYTES {
                            return Err(ProtocolError::BadHead);
                        }
                        return Ok(Progress::Partial);
                    }
                }
            };
            used = head_len;
        }
        let (status, close, body) = self.state.as_mut().expect("state set above");
        let (done, n) = frame_body(body, &input[used..])?;
        used += n;
        if done {
            let complete = Complete {
                status: *status,
                close: *close,
            };
            self.state = None;
            return Ok(Progress::Done(complete, used));
        }
        Ok(Progress::Partial)
    }
}

/// Parses a complete head, if `buf` holds one: returns its length and the body framing.
fn parse_head(buf: &[u8], head_request: bool) -> Result<Option<(usize, Head)>, ProtocolError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ProtocolError::BadHead),
    };
    let status = response.code.ok_or(ProtocolError::BadHead)?;
    let http10 = response.version == Some(0);
    let mut close = http10;
    let mut length = None;
    let mut chunked = false;
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(h.value).map_err(|_| ProtocolError::BadHead)?;
            length = Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| ProtocolError::BadHead)?,
            );
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .split(|&b| b == b',')
                .next_back()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    close = false;
                }
            }
        }
    }
    // 1xx answers are followed by the real response; faceoff never sends `Expect`, so treat
    // them as malformed rather than loop on them.
    if (100..200).contains(&status) {
        return Err(ProtocolError::BadHead);
    }
    let body = if head_request || status == 204 || status == 304 {
        Body::Length(0)
    } else if chunked {
        Body::Chunked(Chunk::Size { size: 0, digits: 0 })
    } else if let Some(n) = length {
        Body::Length(n)
    } else {
        close = true;
        Body::UntilClose
    };
    Ok(Some((len, (status, close, body))))
}

/// Advances body framing over `input`; returns (complete, bytes used).
fn frame_body(body: &mut Body, input: &[u8]) -> Result<(bool, usize), ProtocolError> {
    match body {
        Body::Length(left) => {
            let take = (*left).min(input.len() as u64);
            *left -= take;
            Ok((*left == 0, take as usize))
        }
        Body::UntilClose => Ok((false, input.len())),
        Body::Chunked(state) => frame_chunked(state, input),
    }
}

fn frame_chunked(state: &mut Chunk, input: &[u8]) -> Result<(bool, usize), ProtocolError> {
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        *state = match *state {
            Chunk::Size { size, digits } => match b {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits >= 15 {
                        return Err(ProtocolError::BadChunk);
                    }
                    let v = (b as char).to_digit(16).expect("hex digit") as u64;
                    Chunk::Size {
                        size: size * 16 + v,
                        digits: digits + 1,
                    }
                }
                b';' | b' ' | b'\t' if digits > 0 => Chunk::Extension { size },
                b'\r' if digits > 0 => Chunk::SizeLf { size },
                _ => return Err(ProtocolError::BadChunk),
            },
            Chunk::Extension { size } => match b {
                b'\r' => Chunk::SizeLf { size },
                b'\n' => return Err(ProtocolError::BadChunk),
                _ => Chunk::Extension { size },
            },
            Chunk::SizeLf { size } => match b {
                b'\n' if size == 0 => Chunk::TrailerStart,
                b'\n' => Chunk::Data { left: size },
                _ => return Err(ProtocolError::BadChunk),
            },
            Chunk::Data { left } => {
                let take = left.min((input.len() - i) as u64);
                i += take as usize;
                *state = if left == take {
                    Chunk::DataCr
                } else {
                    Chunk::Data { left: left - take }
                };
                continue;
            }
            Chunk::DataCr => match b {
                b'\r' => Chunk::DataLf,
                _ => return Err(ProtocolError::BadChunk),
            },
            Chunk::DataLf => match b {
                b'\n' => Chunk::Size { size: 0, digits: 0 },
                _ => return Err(ProtocolError::BadChunk),
            },
            Chunk::TrailerStart => match b {
                b'\r' => Chunk::TrailerLf { empty: true },
                _ => Chunk::TrailerLine,
            },
            Chunk::TrailerLine => match b {
                b'\r' => Chunk::TrailerLf { empty: false },
                _ => Chunk::TrailerLine,
            },
            Chunk::TrailerLf { empty } => match b {
                b'\n' if empty => {
                    *state = Chunk::Size { size: 0, digits: 0 };
                    return Ok((true, i + 1));
                }
                b'\n' => Chunk::TrailerStart,
                _ => return Err(ProtocolError::BadChunk),
            },
        };
        i += 1;
    }
    Ok((false, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(p: &mut ResponseParser, parts: &[&[u8]]) -> Result<Vec<Progress>, ProtocolError> {
        parts.iter().map(|part| p.feed(part)).collect()
    }

    #[test]
    fn serializes_with_host_and_length() {
        let bytes = serialize_request(
            "POST",
            "/users",
            "127.0.0.1:8080",
            &[("Content-Type".into(), "application/json".into())],
            b"{}",
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("POST /users HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.ends_with("Content-Type: application/json\r\n\r\n{}"));
    }

    #[test]
    fn content_length_in_one_read() {
        let mut p = ResponseParser::new(false);
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(
            p.feed(msg).unwrap(),
            Progress::Done(
                Complete {
                    status: 200,
                    close: false
                },
                msg.len()
            )
        );
        assert!(p.is_idle());
    }

    #[test]
    fn split_anywhere_gives_the_same_answer() {
        let msgs: [&[u8]; 3] = [
            b"HTTP/1.1 201 Created\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n",
        ];
        for msg in msgs {
            for cut in 1..msg.len() {
                let mut p = ResponseParser::new(false);
                let first = p.feed(&msg[..cut]).unwrap();
                let result = match first {
                    Progress::Done(c, n) => (c, n),
                    Progress::Partial => match p.feed(&msg[cut..]).unwrap() {
                        Progress::Done(c, n) => (c, cut + n),
                        Progress::Partial => panic!("incomplete at cut {cut}"),
                    },
                };
                assert_eq!(result.1, msg.len(), "cut {cut}");
                assert!(p.is_idle());
            }
        }
    }

    #[test]
    fn chunked_byte_by_byte() {
        let msg =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n";
        let mut p = ResponseParser::new(false);
        let parts: Vec<&[u8]> = msg.chunks(1).collect();
        let out = feed_all(&mut p, &parts).unwrap();
        assert!(matches!(
            out.last(),
            Some(Progress::Done(
                Complete {
                    status: 200,
                    close: false
                },
                1
            ))
        ));
        assert!(out[..out.len() - 1].iter().all(|p| *p == Progress::Partial));
    }

    #[test]
    fn close_delimited_and_head() {
        let mut p = ResponseParser::new(false);
        assert_eq!(
            p.feed(b"HTTP/1.0 200 OK\r\n\r\nabc").unwrap(),
            Progress::Partial
        );
        assert_eq!(
            p.eof(),
            Some(Complete {
                status: 200,
                close: true
            })
        );

        let mut p = ResponseParser::new(true);
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        assert!(matches!(p.feed(msg).unwrap(), Progress::Done(_, n) if n == msg.len()));
    }

    #[test]
    fn malformed_input_is_an_error() {
        let mut p = ResponseParser::new(false);
        assert_eq!(p.feed(b"NOT HTTP\r\n\r\n"), Err(ProtocolError::BadHead));
        let mut p = ResponseParser::new(false);
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(p.feed(bad), Err(ProtocolError::BadChunk));
        let mut p = ResponseParser::new(false);
        assert_eq!(
            p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
            Err(ProtocolError::BadHead)
        );
    }

    #[test]
    fn keep_alive_override_on_http10() {
        let mut p = ResponseParser::new(false);
        let msg = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            p.feed(msg).unwrap(),
            Progress::Done(
                Complete {
                    status: 200,
                    close: false
                },
                msg.len()
            )
        );
    }
}
