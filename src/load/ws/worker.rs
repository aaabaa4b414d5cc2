//! One WebSocket load worker: pins itself, builds its runtime, opens and upgrades its
//! connections, settles them (an echo each, or every publisher heard by every subscriber),
//! waits for the shared start, then drives each connection in its role through the window.

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::fanout::{Inbox, Receipt};
use super::frame::{self, Opcode};
use super::io::{self, Failure, Incoming, Reader};
use super::{WorkerResult, WsMode};
use crate::load::pace::{Pacing, Schedule};
use crate::load::progress::Padded;
use crate::load::recorder::{ErrorKind, Recorder};
use crate::load::{Error, Setup};

/// Pause after a failed connect, so a dead server is not hammered in a tight loop.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// What a connection does in the load.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// Echo connection `index` of the load.
    Echo { index: usize },
    /// Room publisher `id` (0..publishers).
    Publisher { id: usize },
    /// Room subscriber.
    Subscriber,
    /// Idle connection held open.
    Hold,
}

/// Everything a worker thread needs.
pub(crate) struct WorkerSetup {
    pub addr: SocketAddr,
    pub host: String,
    pub path: String,
    pub mode: WsMode,
    pub roles: Vec<Role>,
    pub payload: Arc<[u8]>,
    pub message_bytes: usize,
    pub duration: Duration,
    pub drain: Duration,
    pub timeout: Duration,
    pub max_seq: u64,
    pub cpu: Option<usize>,
    pub progress: Arc<Padded>,
    pub connected: Arc<Barrier>,
    pub ready: Arc<Barrier>,
    pub start: Arc<OnceLock<Instant>>,
    pub interrupt: Arc<AtomicBool>,
}

/// An open, upgraded connection.
struct Conn {
    stream: TcpStream,
    reader: Reader,
    /// Reused buffer for outgoing frames.
    out: Vec<u8>,
}

/// State a worker's connection tasks share.
struct Shared {
    addr: SocketAddr,
    host: String,
    path: String,
    payload: Rc<[u8]>,
    message_bytes: usize,
    timeout: Duration,
    publishers: usize,
    max_seq: u64,
    recorder: RefCell<Recorder>,
    start: Cell<Instant>,
    end: Cell<Instant>,
    /// Per echo slot, the intended send time of its message in flight.
    in_flight: Box<[Cell<Option<Instant>>]>,
    /// Per publisher of this worker: its id and the intended send times of its messages.
    sent_ns: RefCell<Vec<(usize, Vec<u64>)>>,
    /// This worker's subscribers' inboxes.
    inboxes: RefCell<Vec<Inbox>>,
    /// Held connections still open.
    held: Cell<u64>,
    progress: Arc<Padded>,
    done: Cell<u64>,
}

impl Shared {
    #[inline]
    fn second(&self, at: Instant) -> usize {
        at.saturating_duration_since(self.start.get()).as_secs() as usize
    }

    #[inline]
    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start.get()).as_nanos() as u64
    }

    #[inline]
    fn count_done(&self) {
        let n = self.done.get() + 1;
        self.done.set(n);
        self.progress.0.store(n, Ordering::Relaxed);
    }

    fn error(&self, kind: ErrorKind) {
        let second = self.second(Instant::now());
        self.recorder.borrow_mut().record_error(second, kind);
    }

    async fn open(&self, deadline: Instant) -> Result<(Conn, Duration), ErrorKind> {
        let upgrade = frame::upgrade(&self.path, &self.host);
        let (stream, reader, connect) = io::open(self.addr, &upgrade, deadline).await?;
        let conn = Conn {
            stream,
            reader,
            out: Vec::new(),
        };
        Ok((conn, connect))
    }
}

/// The worker thread's body.
pub(crate) fn spawn_worker(setup: WorkerSetup) -> Result<WorkerResult, Error> {
    let pinned = setup
        .cpu
        .map(|cpu| crate::sys::pin_current_thread(&[cpu]).map_err(|e| (cpu, e)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime);
    let publishers = match setup.mode {
        WsMode::Room { publishers, .. } => publishers,
        _ => 0,
    };
    let shared = Rc::new(Shared {
        addr: setup.addr,
        host: setup.host,
        path: setup.path,
        payload: setup.payload.iter().copied().collect::<Vec<_>>().into(),
        message_bytes: setup.message_bytes,
        timeout: setup.timeout,
        publishers,
        max_seq: setup.max_seq,
        recorder: RefCell::new(Recorder::new()),
        start: Cell::new(Instant::now()),
        end: Cell::new(Instant::now()),
        in_flight: setup.roles.iter().map(|_| Cell::new(None)).collect(),
        sent_ns: RefCell::new(Vec::new()),
        inboxes: RefCell::new(Vec::new()),
        held: Cell::new(0),
        progress: setup.progress,
        done: Cell::new(0),
    });
    let local = tokio::task::LocalSet::new();
    let usable = matches!(pinned, None | Some(Ok(()))) && runtime.is_ok();
    let roles = setup.roles;
    let mut conns: Vec<Option<Conn>> = roles.iter().map(|_| None).collect();
    let mut part = Setup {
        opened: 0,
        failed: 0,
        wall_s: 0.0,
        slowest_connect_us: None,
    };
    let mut settled = vec![false; roles.len()];
    if let (true, Ok(rt)) = (usable, &runtime) {
        let deadline = Instant::now() + setup.timeout;
        let opened = local.block_on(rt, open_all(&shared, roles.len(), deadline));
        for (slot, o) in opened.into_iter().enumerate() {
            if let Some((conn, connect)) = o {
                let us = connect.as_micros() as u64;
                part.slowest_connect_us = part.slowest_connect_us.max(Some(us));
                conns[slot] = Some(conn);
            }
        }
    }
    setup.connected.wait();
    if let (true, Ok(rt)) = (usable, &runtime) {
        let deadline = Instant::now() + setup.timeout;
        let interrupt = &setup.interrupt;
        settled = local.block_on(rt, async {
            tokio::select! {
                s = settle_all(&shared, &roles, &mut conns, deadline) => s,
                _ = interrupted(interrupt) => vec![false; roles.len()],
            }
        });
    }
    for &ok in &settled {
        if ok {
            part.opened += 1;
        } else {
            part.failed += 1;
        }
    }
    setup.ready.wait();
    if let Some(Err((cpu, source))) = pinned {
        return Err(Error::Pin { cpu, cause: source });
    }
    let runtime = runtime?;

    let start = *setup.start.get_or_init(Instant::now);
    let end = start + setup.duration;
    shared.start.set(start);
    shared.end.set(end);
    *shared.recorder.borrow_mut() = Recorder::new();
    let cpu_before = crate::sys::thread_cpu_time();
    let wait_before = crate::sys::thread_run_queue_wait();
    let close = end + setup.drain;
    let finished_at = local.block_on(&runtime, async {
        let mut tasks = Vec::with_capacity(roles.len());
        for (slot, (&role, conn)) in roles.iter().zip(conns).enumerate() {
            let shared = shared.clone();
            tasks.push(match role {
                Role::Echo { index } => {
                    let schedule = match setup.mode {
                        WsMode::Echo {
                            connections,
                            pacing: Pacing::ConstantRate { rate_per_s },
                        } => Some(Schedule::new(start, rate_per_s, connections, index)),
                        _ => None,
                    };
                    tokio::task::spawn_local(drive_echo(shared, slot, conn, schedule))
                }
                Role::Publisher { id } => {
                    let WsMode::Room { rate_per_s, .. } = setup.mode else {
                        unreachable!("publishers exist in rooms only")
                    };
                    let schedule = Schedule::new(start, rate_per_s, shared.publishers, id);
                    tokio::task::spawn_local(drive_publisher(shared, id, conn, schedule))
                }
                Role::Subscriber => {
                    let inbox = Inbox::new(shared.publishers, shared.max_seq);
                    let at = {
                        let mut inboxes = shared.inboxes.borrow_mut();
                        inboxes.push(inbox);
                        inboxes.len() - 1
                    };
                    tokio::task::spawn_local(drive_subscriber(shared, at, conn))
                }
                Role::Hold => tokio::task::spawn_local(drive_hold(shared, conn)),
            });
        }
        let all_done = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        tokio::select! {
            _ = all_done => {}
            _ = interrupted(&setup.interrupt) => {}
            _ = tokio::time::sleep_until(close.into()) => {}
        }
        Instant::now().min(close)
    });
    {
        let mut rec = shared.recorder.borrow_mut();
        for slot in shared.in_flight.iter() {
            if let Some(since) = slot.take() {
                rec.record_unanswered(
                    finished_at.saturating_duration_since(since).as_micros() as u64
                );
            }
        }
    }
    let held = shared.held.get();
    drop(local);
    let cpu = crate::sys::thread_cpu_time().saturating_sub(cpu_before);
    let waited = crate::sys::thread_run_queue_wait().saturating_sub(wait_before);
    let recorder = shared.recorder.take();
    let sent_ns = shared.sent_ns.take();
    let inboxes = shared.inboxes.take();
    Ok(WorkerResult {
        messages_sent: recorder.sent,
        recorder,
        finished_at,
        cpu,
        waited,
        setup: part,
        sent_ns,
        inboxes,
        held,
    })
}

/// Opens and upgrades every connection of the worker at once, by `deadline`.
async fn open_all(
    shared: &Rc<Shared>,
    count: usize,
    deadline: Instant,
) -> Vec<Option<(Conn, Duration)>> {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let shared = shared.clone();
            tokio::task::spawn_local(async move { shared.open(deadline).await.ok() })
        })
        .collect();
    let mut out = Vec::with_capacity(count);
    for task in tasks {
        out.push(task.await.ok().flatten());
    }
    out
}

/// Settles every open connection before the window: an echo answers one message; a publisher
/// announces itself; a subscriber waits until it has heard every publisher (so the server has
/// registered it). Returns, per slot, whether it settled.
async fn settle_all(
    shared: &Rc<Shared>,
    roles: &[Role],
    conns: &mut [Option<Conn>],
    deadline: Instant,
) -> Vec<bool> {
    let futures = roles.iter().zip(conns.iter_mut()).map(|(role, conn)| {
        let shared = shared.clone();
        async move {
            let Some(c) = conn.as_mut() else {
                return false;
            };
            let ok = match role {
                Role::Echo { .. } => exchange(c, &shared.payload, deadline).await.is_ok(),
                Role::Publisher { id } => {
                    let marker = format!("w {id}");
                    io::send(
                        &mut c.stream,
                        &mut c.out,
                        Opcode::Text,
                        marker.as_bytes(),
                        deadline,
                    )
                    .await
                    .is_ok()
                }
                Role::Subscriber => hear_every_publisher(c, shared.publishers, deadline).await,
                Role::Hold => true,
            };
            // A connection that failed its set-up is closed, except a subscriber that missed a
            // marker: it stays in the room, and its deliveries still count.
            if !ok && !matches!(role, Role::Subscriber) {
                *conn = None;
            }
            ok
        }
    });
    futures_join_all(futures).await
}

/// Runs futures concurrently on the local set and collects their outputs in order.
async fn futures_join_all<F: std::future::Future<Output = bool>>(
    futures: impl Iterator<Item = F>,
) -> Vec<bool> {
    // The connections are borrowed, so the futures cannot be spawned; poll them together.
    let mut futures: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<bool>> = vec![None; futures.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap_or(false)).collect()
}

/// Reads until a marker (`w ID`) of every publisher arrived, by `deadline`.
async fn hear_every_publisher(c: &mut Conn, publishers: usize, deadline: Instant) -> bool {
    let mut heard = vec![false; publishers];
    let mut left = publishers;
    while left > 0 {
        match c.reader.next(&mut c.stream, Some(deadline)).await {
            Ok(Incoming::Data(d)) => {
                let id = d
                    .strip_prefix(b"w ")
                    .and_then(parse_u64)
                    .map(|id| id as usize);
                if let Some(id) = id.filter(|&id| id < publishers) {
                    if !heard[id] {
                        heard[id] = true;
                        left -= 1;
                    }
                }
            }
            Ok(Incoming::Ping(p)) => {
                if io::send(&mut c.stream, &mut c.out, Opcode::Pong, &p, deadline)
                    .await
                    .is_err()
                {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// Sends `payload` and waits for it to come back, answering pings meanwhile.
async fn exchange(c: &mut Conn, payload: &[u8], deadline: Instant) -> Result<usize, Failure> {
    io::send(&mut c.stream, &mut c.out, Opcode::Text, payload, deadline).await?;
    loop {
        match c.reader.next(&mut c.stream, Some(deadline)).await? {
            Incoming::Data(d) if d == payload => return Ok(d.len()),
            Incoming::Data(_) => return Err(Failure::Kind(ErrorKind::Protocol)),
            Incoming::Ping(p) => {
                io::send(&mut c.stream, &mut c.out, Opcode::Pong, &p, deadline).await?
            }
        }
    }
}

/// Drives echo connection `slot`: closed loop, or on its constant-rate `schedule`.
async fn drive_echo(
    shared: Rc<Shared>,
    slot: usize,
    mut conn: Option<Conn>,
    mut schedule: Option<Schedule>,
) {
    let end = shared.end.get();
    let mut first = true;
    loop {
        let intended = match schedule.as_mut() {
            Some(schedule) => {
                let due = schedule.next_send();
                if due >= end {
                    return;
                }
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                } else if !first {
                    shared.recorder.borrow_mut().late_sends += 1;
                }
                first = false;
                Some(due)
            }
            None if Instant::now() >= end => return,
            None => None,
        };
        let in_flight = &shared.in_flight[slot];
        in_flight.set(intended);
        if conn.is_none() {
            match shared.open(Instant::now() + shared.timeout).await {
                Ok((c, _)) => {
                    shared.recorder.borrow_mut().connects += 1;
                    conn = Some(c);
                }
                Err(kind) => {
                    in_flight.set(None);
                    shared.error(kind);
                    tokio::time::sleep(CONNECT_BACKOFF).await;
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        let sent_at = Instant::now();
        in_flight.set(Some(intended.unwrap_or(sent_at)));
        let outcome = exchange(c, &shared.payload, sent_at + shared.timeout).await;
        in_flight.set(None);
        let now = Instant::now();
        let second = shared.second(now);
        let corrected_us = (now - intended.unwrap_or(sent_at)).as_micros() as u64;
        let uncorrected_us = (now - sent_at).as_micros() as u64;
        let mut rec = shared.recorder.borrow_mut();
        rec.sent += 1;
        rec.bytes_written += shared.payload.len() as u64;
        match outcome {
            Ok(read) => {
                rec.bytes_read += read as u64;
                rec.record_message(second, corrected_us, uncorrected_us);
            }
            Err(Failure::Timeout) => {
                rec.record_timeout(second, corrected_us, uncorrected_us);
                conn = None;
            }
            Err(Failure::Kind(kind)) => {
                rec.record_error(second, kind);
                conn = None;
            }
        }
        drop(rec);
        shared.count_done();
    }
}

/// Drives room publisher `id` on its schedule until the window closes. Its own copies of the
/// broadcasts are read and discarded by a second task, so the server never blocks on it. A
/// publisher whose connection fails stops (its messages so far still count).
async fn drive_publisher(
    shared: Rc<Shared>,
    id: usize,
    conn: Option<Conn>,
    mut schedule: Schedule,
) {
    let at = {
        let mut logs = shared.sent_ns.borrow_mut();
        logs.push((id, Vec::new()));
        logs.len() - 1
    };
    let Some(Conn {
        stream,
        mut reader,
        mut out,
    }) = conn
    else {
        return;
    };
    let (mut read_half, mut write_half) = stream.into_split();
    let discard = tokio::task::spawn_local(async move {
        while reader.next(&mut read_half, None).await.is_ok() {}
    });
    let end = shared.end.get();
    let mut text = Vec::with_capacity(shared.message_bytes);
    let mut first = true;
    loop {
        let due = schedule.next_send();
        if due >= end {
            break;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        } else if !first {
            shared.recorder.borrow_mut().late_sends += 1;
        }
        first = false;
        let seq = shared.sent_ns.borrow()[at].1.len();
        let sent_at = Instant::now();
        let (intended_ns, sent_ns) = (shared.ns(due), shared.ns(sent_at));
        text.clear();
        let _ = write!(text, "{id} {seq} {intended_ns} {sent_ns} ");
        text.resize(text.len().max(shared.message_bytes), b'.');
        let result = io::send(
            &mut write_half,
            &mut out,
            Opcode::Text,
            &text,
            sent_at + shared.timeout,
        )
        .await;
        match result {
            Ok(()) => {
                shared.sent_ns.borrow_mut()[at].1.push(intended_ns);
                let mut rec = shared.recorder.borrow_mut();
                rec.sent += 1;
                rec.bytes_written += text.len() as u64;
            }
            Err(Failure::Timeout) => {
                shared.error(ErrorKind::Timeout);
                break;
            }
            Err(Failure::Kind(kind)) => {
                shared.error(kind);
                break;
            }
        }
    }
    discard.abort();
}

/// Drives a room subscriber: records the delivery latency of every broadcast into the
/// recorder and its receipt into inbox `at`, until the drain ends.
async fn drive_subscriber(shared: Rc<Shared>, at: usize, conn: Option<Conn>) {
    let Some(mut c) = conn else {
        shared.inboxes.borrow_mut()[at].dropped = true;
        return;
    };
    loop {
        let message = c.reader.next(&mut c.stream, None).await;
        let now = Instant::now();
        match message {
            Ok(Incoming::Data(d)) => {
                let Some((publisher, seq, intended_ns, sent_ns)) = parse_delivery(d) else {
                    if !d.starts_with(b"w ") {
                        shared.error(ErrorKind::Protocol);
                    }
                    continue;
                };
                let len = d.len() as u64;
                let receipt = shared.inboxes.borrow_mut()[at].receive(publisher as usize, seq);
                let mut rec = shared.recorder.borrow_mut();
                rec.bytes_read += len;
                match receipt {
                    Receipt::New | Receipt::OutOfOrder => {
                        let now_ns = shared.ns(now);
                        rec.record_message(
                            shared.second(now),
                            now_ns.saturating_sub(intended_ns) / 1000,
                            now_ns.saturating_sub(sent_ns) / 1000,
                        );
                        drop(rec);
                        shared.count_done();
                    }
                    Receipt::Duplicate => {}
                    Receipt::Unknown => rec.record_error(shared.second(now), ErrorKind::Protocol),
                }
            }
            Ok(Incoming::Ping(p)) => {
                let deadline = now + shared.timeout;
                let _ = io::send(&mut c.stream, &mut c.out, Opcode::Pong, &p, deadline).await;
            }
            Err(failure) => {
                shared.inboxes.borrow_mut()[at].dropped = true;
                shared.error(match failure {
                    Failure::Timeout => ErrorKind::Timeout,
                    Failure::Kind(kind) => kind,
                });
                return;
            }
        }
    }
}

/// Holds an idle connection open until the window closes; counts it while it is open.
async fn drive_hold(shared: Rc<Shared>, conn: Option<Conn>) {
    let Some(mut c) = conn else { return };
    shared.held.set(shared.held.get() + 1);
    loop {
        match c.reader.next(&mut c.stream, None).await {
            Ok(Incoming::Data(_)) => {}
            Ok(Incoming::Ping(p)) => {
                let deadline = Instant::now() + shared.timeout;
                let _ = io::send(&mut c.stream, &mut c.out, Opcode::Pong, &p, deadline).await;
            }
            Err(_) => break,
        }
    }
    shared.held.set(shared.held.get() - 1);
    shared.error(ErrorKind::Reset);
}

/// Parses a room message's header `publisher seq intended_ns sent_ns`.
fn parse_delivery(d: &[u8]) -> Option<(u64, u64, u64, u64)> {
    let mut fields = d.split(|&b| b == b' ');
    let mut next = || fields.next().and_then(parse_u64);
    Some((next()?, next()?, next()?, next()?))
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// Resolves once `interrupt` is set (polled every 50 ms).
async fn interrupted(interrupt: &AtomicBool) {
    while !interrupt.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_headers_parse() {
        assert_eq!(
            parse_delivery(b"3 17 1000 1200 ...."),
            Some((3, 17, 1000, 1200))
        );
        assert_eq!(parse_delivery(b"3 17 1000"), None);
        assert_eq!(parse_delivery(b"w 3"), None);
        assert_eq!(parse_delivery(b"<script> 1 2 3"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
    }
}
