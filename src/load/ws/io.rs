//! One WebSocket connection's I/O on a worker's local runtime: connect and upgrade, write
//! masked frames, read server messages in place.
//!
//! System calls per echoed message in the steady state are one `write` and one `read`, as for
//! HTTP (`load/conn.rs`). Reads go into a per-connection buffer allocated on the first read (a
//! held idle connection owns none) and reused; a message split across reads is only copied when
//! the buffer must be compacted. The read timeout costs no timer operation per message: each
//! reader has one timer that is moved only when it fires before the deadline.

use std::future::{poll_fn, Future as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::frame::{self, Opcode};
use crate::load::recorder::ErrorKind;

/// First size of a connection's read buffer; it grows for larger messages.
const FIRST_BUFFER: usize = 4096;

/// Why an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Nothing within the deadline.
    Timeout,
    /// Any other failure; the connection is unusable after it.
    Kind(ErrorKind),
}

/// A message read: its payload, or a ping to answer.
pub(crate) enum Incoming<'a> {
    /// A complete text or binary message.
    Data(&'a [u8]),
    /// A ping (its payload, at most 125 bytes).
    Ping(Vec<u8>),
}

/// The read side of a connection: buffer, partial message, timer.
pub(crate) struct Reader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    frag: Vec<u8>,
    in_frag: bool,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Reader {
    /// A reader that starts with the bytes already read after the upgrade answer.
    pub fn new(rest: Vec<u8>) -> Self {
        let end = rest.len();
        Self {
            buf: rest,
            start: 0,
            end,
            frag: Vec::new(),
            in_frag: false,
            timer: None,
        }
    }

    /// Reads the next message from `io`, or fails at `deadline` (none: wait for ever).
    pub async fn next<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        deadline: Option<Instant>,
    ) -> Result<Incoming<'_>, Failure> {
        loop {
            let frame = match frame::decode(&self.buf[self.start..self.end]) {
                Err(_) => return Err(Failure::Kind(ErrorKind::Protocol)),
                Ok(None) => {
                    self.fill(io, deadline).await?;
                    continue;
                }
                Ok(Some(frame)) => frame,
            };
            let payload = self.start + frame.payload_at..self.start + frame.total_len();
            self.start += frame.total_len();
            match frame.opcode {
                Opcode::Pong => {}
                Opcode::Ping => return Ok(Incoming::Ping(self.buf[payload].to_vec())),
                Opcode::Close => return Err(Failure::Kind(ErrorKind::Reset)),
                Opcode::Text | Opcode::Binary if !self.in_frag => {
                    if frame.fin {
                        return Ok(Incoming::Data(&self.buf[payload]));
                    }
                    self.frag.clear();
                    self.frag.extend_from_slice(&self.buf[payload]);
                    self.in_frag = true;
                }
                Opcode::Continuation if self.in_frag => {
                    self.frag.extend_from_slice(&self.buf[payload]);
                    if frame.fin {
                        self.in_frag = false;
                        return Ok(Incoming::Data(&self.frag));
                    }
                }
                _ => return Err(Failure::Kind(ErrorKind::Protocol)),
            }
        }
    }

    /// Reads more bytes into the buffer (compacting or growing it first when full).
    async fn fill<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
        deadline: Option<Instant>,
    ) -> Result<(), Failure> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = (self.buf.len() * 2).max(FIRST_BUFFER);
                if grown as u64 > frame::MAX_PAYLOAD * 2 {
                    return Err(Failure::Kind(ErrorKind::Protocol));
                }
                self.buf.resize(grown, 0);
            }
        }
        let (buf, end, timer) = (&mut self.buf, self.end, &mut self.timer);
        let n = poll_fn(|cx| {
            let mut read = ReadBuf::new(&mut buf[end..]);
            match Pin::new(&mut *io).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
                Poll::Ready(Err(_)) => Poll::Ready(Err(Failure::Kind(ErrorKind::Reset))),
                Poll::Pending => match deadline {
                    None => Poll::Pending,
                    Some(deadline) => poll_deadline(cx, timer, deadline),
                },
            }
        })
        .await?;
        if n == 0 {
            return Err(Failure::Kind(ErrorKind::Reset));
        }
        self.end += n;
        Ok(())
    }
}

/// Polls a reader's timer against `deadline`, creating it on first use and moving it only when
/// it fires early. `Ready` only with a timeout.
fn poll_deadline(
    cx: &mut Context<'_>,
    timer: &mut Option<Pin<Box<Sleep>>>,
    deadline: Instant,
) -> Poll<Result<usize, Failure>> {
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
    loop {
        match timer.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(()) => {
                if Instant::now() >= deadline {
                    return Poll::Ready(Err(Failure::Timeout));
                }
                timer.as_mut().reset(deadline.into());
            }
        }
    }
}

/// Writes one masked frame of `payload` to `io` through the reused buffer `out`, or fails at
/// `deadline`. A write that completes at once (the usual case) arms no timer.
pub(crate) async fn send<W: AsyncWrite + Unpin>(
    io: &mut W,
    out: &mut Vec<u8>,
    opcode: Opcode,
    payload: &[u8],
    deadline: Instant,
) -> Result<(), Failure> {
    out.clear();
    frame::encode(out, opcode, payload, frame::new_mask());
    match tokio::time::timeout_at(deadline.into(), io.write_all(out)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Failure::Kind(ErrorKind::Reset)),
        Err(_) => Err(Failure::Timeout),
    }
}

/// Opens a TCP connection to `addr` and upgrades it with `upgrade`, all by `deadline`.
/// Returns the stream, a reader holding any bytes that followed the answer, and the time the
/// TCP connect took.
pub(crate) async fn open(
    addr: SocketAddr,
    upgrade: &frame::Upgrade,
    deadline: Instant,
) -> Result<(TcpStream, Reader, Duration), ErrorKind> {
    let began = Instant::now();
    let mut stream = match tokio::time::timeout_at(deadline.into(), TcpStream::connect(addr)).await
    {
        Ok(Ok(stream)) => stream,
        _ => return Err(ErrorKind::Connect),
    };
    let connect = began.elapsed();
    let _ = stream.set_nodelay(true);
    let handshake = async {
        stream
            .write_all(&upgrade.request)
            .await
            .map_err(|_| ErrorKind::Reset)?;
        let mut head = Vec::with_capacity(256);
        let mut chunk = [0u8; 1024];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut stream, &mut chunk)
                .await
                .map_err(|_| ErrorKind::Reset)?;
            if n == 0 {
                return Err(ErrorKind::Reset);
            }
            head.extend_from_slice(&chunk[..n]);
            match frame::check_answer(&head, &upgrade.accept) {
                Ok(None) => continue,
                Ok(Some(used)) => return Ok(head.split_off(used)),
                Err(_) => return Err(ErrorKind::Protocol),
            }
        }
    };
    match tokio::time::timeout_at(deadline.into(), handshake).await {
        Ok(Ok(rest)) => Ok((stream, Reader::new(rest), connect)),
        Ok(Err(kind)) => Err(kind),
        Err(_) => Err(ErrorKind::Timeout),
    }
}
