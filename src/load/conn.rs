//! The HTTP/1.1 connection driver: one task per connection on a worker's local runtime.
//!
//! System calls per request in the steady state are one `write` and one `read` (tokio clears
//! read readiness after a short read, so no read is tried before the answer can be there).
//! Reads go into a buffer shared by the worker's connections; only a head split across reads
//! is copied. The per-request timeout costs no timer operation: each connection has one timer
//! that is moved only when it fires early. Each request also marks its connection's in-flight
//! slot (a `Cell` write, no allocation, no system call) so that the window's close can count
//! the requests left unanswered.
//!
//! With warm connections ([`warm_up`]) each connection is opened and answers one request
//! before the window; its stream is handed to [`drive`], so the window opens no connection.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future as _};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::http1::{Complete, Progress, ResponseParser};
use super::pace::Schedule;
use super::progress::Padded;
use super::recorder::{ErrorKind, Recorder};
use super::Request;

/// Size of the read buffer each worker shares among its connections.
const SCRATCH_BYTES: usize = 64 * 1024;
/// Pause after a failed connect, so a dead server is not hammered in a tight loop.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// State one worker thread shares among its connection tasks.
pub(crate) struct Worker {
    pub addr: SocketAddr,
    pub requests: Rc<[Request]>,
    /// Request indices in weighted order; connection `i` walks it from offset `i`.
    pub mix: Rc<[usize]>,
    pub timeout: Duration,
    /// The window's start; set by [`Worker::open_window`] once any set-up is done.
    start: Cell<Instant>,
    /// No request is sent at or after this instant.
    end: Cell<Option<Instant>>,
    /// Requests this worker may still send, when the run is bounded by count.
    pub quota: Option<Cell<u64>>,
    pub recorder: RefCell<Recorder>,
    /// Per connection of this worker (by slot), the intended send time of its request in
    /// flight, if any: what is still set when the window closes was never answered.
    in_flight: Box<[Cell<Option<Instant>>]>,
    scratch: RefCell<Box<[u8]>>,
    /// Responses so far, read by the progress display.
    pub progress: std::sync::Arc<Padded>,
    done: Cell<u64>,
}

impl Worker {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        addr: SocketAddr,
        requests: Rc<[Request]>,
        mix: Rc<[usize]>,
        timeout: Duration,
        quota: Option<u64>,
        connections: usize,
        progress: std::sync::Arc<Padded>,
    ) -> Self {
        Self {
            addr,
            requests,
            mix,
            timeout,
            start: Cell::new(Instant::now()),
            end: Cell::new(None),
            quota: quota.map(Cell::new),
            recorder: RefCell::new(Recorder::new()),
            in_flight: (0..connections).map(|_| Cell::new(None)).collect(),
            scratch: RefCell::new(vec![0; SCRATCH_BYTES].into_boxed_slice()),
            progress,
            done: Cell::new(0),
        }
    }

    /// Opens the measured window: timeline seconds count from `start`, and (under a duration)
    /// no request is sent at or after `end`. Anything recorded before is dropped.
    pub fn open_window(&self, start: Instant, end: Option<Instant>) {
        self.start.set(start);
        self.end.set(end);
        *self.recorder.borrow_mut() = Recorder::new();
    }

    /// Closes the window at `closed_at`: every request still in flight is counted as
    /// unanswered, with the time since its intended send time as a lower bound of its latency.
    pub fn close_window(&self, closed_at: Instant) {
        let mut rec = self.recorder.borrow_mut();
        for slot in self.in_flight.iter() {
            if let Some(since) = slot.take() {
                rec.record_unanswered(closed_at.saturating_duration_since(since).as_micros() as u64);
            }
        }
    }

    #[inline]
    fn take_token(&self) -> bool {
        match &self.quota {
            None => true,
            Some(left) if left.get() > 0 => {
                left.set(left.get() - 1);
                true
            }
            Some(_) => false,
        }
    }

    #[inline]
    fn second(&self, at: Instant) -> usize {
        at.saturating_duration_since(self.start.get()).as_secs() as usize
    }

    #[inline]
    fn count_done(&self) {
        let n = self.done.get() + 1;
        self.done.set(n);
        self.progress.0.store(n, Ordering::Relaxed);
    }
}

enum Failure {
    Kind(ErrorKind),
    Timeout,
}

/// Drives connection `index` (the worker's `slot`-th) until the worker's quota or end time is
/// reached, starting on `stream` when the set-up left one open.
pub(crate) async fn drive(
    worker: Rc<Worker>,
    index: usize,
    slot: usize,
    mut schedule: Option<Schedule>,
    mut stream: Option<TcpStream>,
) {
    let mut reused = stream.is_some();
    let mut parser = ResponseParser::new(false);
    let mut timer: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep(worker.timeout));
    let mut mix_pos = index % worker.mix.len();
    let mut first = true;
    loop {
        if !worker.take_token() {
            return;
        }
        let intended = match schedule.as_mut() {
            Some(schedule) => {
                let due = schedule.next_send();
                if worker.end.get().is_some_and(|end| due >= end) {
                    return;
                }
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                } else if !first {
                    // Due while this connection was still busy: the request goes out late
                    // and its latency counts from `due`.
                    worker.recorder.borrow_mut().late_sends += 1;
                }
                first = false;
                Some(due)
            }
            None => None,
        };
        let request = &worker.requests[worker.mix[mix_pos]];
        mix_pos = (mix_pos + 1) % worker.mix.len();
        parser.set_head_request(request.head);

        if reused && stream.as_ref().is_some_and(peer_closed) {
            // The server dropped this idle keep-alive connection: reconnect before sending,
            // as any HTTP client would, instead of counting a reset that no request caused.
            stream = None;
        }
        let in_flight = &worker.in_flight[slot];
        // Under a schedule the request is due now, connected or not.
        in_flight.set(intended);
        let (sent_at, outcome) = 'attempt: {
            if stream.is_none() {
                match connect(&worker).await {
                    Ok(s) => {
                        stream = Some(s);
                        reused = false;
                    }
                    Err(kind) => {
                        let now = Instant::now();
                        worker
                            .recorder
                            .borrow_mut()
                            .record_error(worker.second(now), kind);
                        tokio::time::sleep(CONNECT_BACKOFF).await;
                        break 'attempt (now, None);
                    }
                }
            }
            let s = stream.as_mut().expect("connected above");
            let sent_at = Instant::now();
            in_flight.set(Some(intended.unwrap_or(sent_at)));
            let deadline = sent_at + worker.timeout;
            let outcome = exchange(
                &worker,
                s,
                &request.bytes,
                &mut parser,
                &mut timer,
                deadline,
            )
            .await;
            (sent_at, Some(outcome))
        };
        in_flight.set(None);
        let Some(outcome) = outcome else { continue };
        let now = Instant::now();
        let second = worker.second(now);
        let corrected_us = (now - intended.unwrap_or(sent_at)).as_micros() as u64;
        let uncorrected_us = (now - sent_at).as_micros() as u64;
        let mut rec = worker.recorder.borrow_mut();
        rec.sent += 1;
        rec.bytes_written += request.bytes.len() as u64;
        match outcome {
            Ok(Complete { status, close }) => {
                rec.record_response(second, status, corrected_us, uncorrected_us);
                drop(rec);
                worker.count_done();
                if close {
                    stream = None;
                } else {
                    reused = true;
                }
            }
            Err(failure) => {
                match failure {
                    Failure::Timeout => rec.record_timeout(second, corrected_us, uncorrected_us),
                    Failure::Kind(kind) => rec.record_error(second, kind),
                }
                drop(rec);
                worker.count_done();
                stream = None;
                parser.reset();
            }
        }
    }
}

/// True when an idle connection was closed by the peer (or has stray bytes).
///
/// Costs no system call in the common case: read readiness is clear after the last answer,
/// so `try_read` returns `WouldBlock` without reading.
fn peer_closed(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    !matches!(stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

async fn connect(worker: &Worker) -> Result<TcpStream, ErrorKind> {
    let stream = open(worker).await?;
    worker.recorder.borrow_mut().connects += 1;
    Ok(stream)
}

/// Opens a connection to the worker's target within its timeout, counting nothing.
async fn open(worker: &Worker) -> Result<TcpStream, ErrorKind> {
    match tokio::time::timeout(worker.timeout, TcpStream::connect(worker.addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(_)) | Err(_) => Err(ErrorKind::Connect),
    }
}

/// What the set-up of one connection gave.
pub(crate) struct Warmed {
    /// The connection, still open after its set-up request (`None` when it failed, or when
    /// the server closed it after answering).
    pub stream: Option<TcpStream>,
    /// How long the connect took, when it succeeded.
    pub connect: Option<Duration>,
    /// The connection opened and its set-up request was answered.
    pub answered: bool,
}

impl Warmed {
    /// A connection whose set-up did not finish.
    pub fn failed() -> Self {
        Self {
            stream: None,
            connect: None,
            answered: false,
        }
    }
}

/// Opens connection `index` and completes one request of its mix on it before the window
/// opens (a warm start, issue 8), all by `deadline`. Counts into the worker's recorder are
/// dropped when the window opens.
pub(crate) async fn warm_up(worker: Rc<Worker>, index: usize, deadline: Instant) -> Warmed {
    let mut warmed = Warmed::failed();
    let began = Instant::now();
    let attempt = async {
        let mut stream = open(&worker).await.ok()?;
        warmed.connect = Some(began.elapsed());
        let request = &worker.requests[worker.mix[index % worker.mix.len()]];
        let mut parser = ResponseParser::new(request.head);
        let mut timer: Pin<Box<Sleep>> = Box::pin(tokio::time::sleep_until(deadline.into()));
        let complete = exchange(
            &worker,
            &mut stream,
            &request.bytes,
            &mut parser,
            &mut timer,
            deadline,
        )
        .await
        .ok()?;
        warmed.answered = true;
        (!complete.close).then_some(stream)
    };
    let stream = tokio::time::timeout_at(deadline.into(), attempt).await;
    warmed.stream = stream.ok().flatten();
    warmed
}

/// Writes one request and reads its answer, or gives up at `deadline`.
async fn exchange(
    worker: &Worker,
    stream: &mut TcpStream,
    bytes: &[u8],
    parser: &mut ResponseParser,
    timer: &mut Pin<Box<Sleep>>,
    deadline: Instant,
) -> Result<Complete, Failure> {
    let mut written = 0;
    poll_fn(|cx| {
        while written < bytes.len() {
            match Pin::new(&mut *stream).poll_write(cx, &bytes[written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(Failure::Kind(ErrorKind::Reset))),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(_)) => return Poll::Ready(Err(Failure::Kind(ErrorKind::Reset))),
                Poll::Pending => return poll_deadline(cx, timer, deadline),
            }
        }
        Poll::Ready(Ok(()))
    })
    .await?;

    poll_fn(|cx| loop {
        let mut scratch = worker.scratch.borrow_mut();
        let mut buf = ReadBuf::new(&mut scratch[..]);
        match Pin::new(&mut *stream).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    return Poll::Ready(match parser.eof() {
                        Some(complete) => Ok(complete),
                        None => Err(Failure::Kind(ErrorKind::Reset)),
                    });
                }
                worker.recorder.borrow_mut().bytes_read += n as u64;
                match parser.feed(&scratch[..n]) {
                    Ok(Progress::Partial) => continue,
                    Ok(Progress::Done(complete, used)) if used == n => {
                        return Poll::Ready(Ok(complete))
                    }
                    Ok(Progress::Done(..)) | Err(_) => {
                        return Poll::Ready(Err(Failure::Kind(ErrorKind::Protocol)))
                    }
                }
            }
            Poll::Ready(Err(_)) => return Poll::Ready(Err(Failure::Kind(ErrorKind::Reset))),
            Poll::Pending => {
                drop(scratch);
                return match poll_deadline(cx, timer, deadline) {
                    Poll::Ready(Err(failure)) => Poll::Ready(Err(failure)),
                    _ => Poll::Pending,
                };
            }
        }
    })
    .await
}

/// Polls the connection's timer against the current request's deadline.
///
/// The timer is only moved when it fires before the deadline, so a steady stream of fast
/// answers costs no timer operation per request.
fn poll_deadline(
    cx: &mut Context<'_>,
    timer: &mut Pin<Box<Sleep>>,
    deadline: Instant,
) -> Poll<Result<(), Failure>> {
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
