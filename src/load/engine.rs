//! Thread-per-core workers: each OS thread has its own single-threaded runtime, connections
//! and recorder; the recorders merge once at the end.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use super::conn::{drive, warm_up, Warmed, Worker};
use super::pace::{Pacing, Schedule};
use super::progress::{Padded, Snapshot};
use super::recorder::Recorder;
use super::{Error, LoadPlan, Recording, Setup, Stop};

struct WorkerResult {
    recorder: Recorder,
    finished_at: Instant,
    cpu: Duration,
    /// Time runnable but waiting for its CPU during the window.
    waited: Duration,
    setup: Option<Setup>,
}

/// Runs `plan` to completion (or until `interrupt` is set) and returns what was recorded.
///
/// `on_progress` is called from the calling thread once as the measured window opens (elapsed
/// zero: every connection is open, and warm when the plan asks), then about twenty times a
/// second.
pub fn run(
    plan: &LoadPlan,
    interrupt: Arc<AtomicBool>,
    mut on_progress: impl FnMut(Snapshot),
) -> Result<Recording, Error> {
    plan.validate()?;
    preflight(plan.addr, plan.timeout.min(Duration::from_secs(3)))?;
    crate::sys::raise_nofile_limit();

    let began = Instant::now();
    let threads = plan.threads.clamp(1, plan.connections);
    let mix: Arc<[usize]> = weighted_mix(plan).into();
    let counters: Vec<Arc<Padded>> = (0..threads).map(|_| Arc::new(Padded::default())).collect();
    let ready = Arc::new(Barrier::new(threads + 1));
    let start_cell = Arc::new(OnceLock::<Instant>::new());

    let conns_of = |id: usize| (id..plan.connections).step_by(threads);
    let quotas = match plan.stop {
        Stop::Requests(n) => split_count(n, (0..threads).map(|id| conns_of(id).count()).collect()),
        Stop::After(_) => Vec::new(),
    };
    let mut handles = Vec::with_capacity(threads);
    for (id, counter) in counters.iter().enumerate() {
        let conns: Vec<usize> = conns_of(id).collect();
        let quota = quotas.get(id).copied();
        let setup = WorkerSetup {
            addr: plan.addr,
            requests: plan.requests.clone(),
            mix: mix.clone(),
            timeout: plan.timeout,
            duration: match plan.stop {
                Stop::After(d) => Some(d),
                Stop::Requests(_) => None,
            },
            quota,
            conns,
            pacing: plan.pacing,
            total_connections: plan.connections,
            cpu: (!plan.cpus.is_empty()).then(|| plan.cpus[id % plan.cpus.len()]),
            progress: counter.clone(),
            ready: ready.clone(),
            start: start_cell.clone(),
            interrupt: interrupt.clone(),
            warm: plan.warm,
        };
        let handle = std::thread::Builder::new()
            .name(format!("faceoff-load-{id}"))
            .spawn(move || spawn_worker(setup))
            .map_err(Error::Thread)?;
        handles.push(handle);
    }
    ready.wait();
    let start = *start_cell.get_or_init(Instant::now);
    // The engine's CPU counts from the window's opening, as the server's does: the set-up of
    // the connections is not the window's work.
    let cpu_before = crate::sys::process_cpu_time();
    // The first call marks the window's opening: every connection is open (and warm) now.
    on_progress(Snapshot {
        elapsed: Duration::ZERO,
        finished: 0,
    });

    while !handles.iter().all(|h| h.is_finished()) {
        std::thread::sleep(Duration::from_millis(50));
        let finished = counters.iter().map(|c| c.0.load(Ordering::Relaxed)).sum();
        on_progress(Snapshot {
            elapsed: start.elapsed(),
            finished,
        });
    }
    let mut recorder = Recorder::new();
    let mut finished_at = start;
    let mut worker_busy = Vec::with_capacity(threads);
    let mut worker_waiting = Vec::with_capacity(threads);
    let mut results = Vec::with_capacity(threads);
    for handle in handles {
        let result = handle.join().map_err(|_| Error::WorkerPanicked)??;
        results.push(result);
    }
    for result in &results {
        recorder.merge(&result.recorder);
        finished_at = finished_at.max(result.finished_at);
    }
    let duration = finished_at - start;
    let setup = plan.warm.then(|| {
        let mut setup = Setup {
            opened: 0,
            failed: 0,
            wall_s: (start - began).as_secs_f64(),
            slowest_connect_us: None,
        };
        for part in results.iter().filter_map(|r| r.setup.as_ref()) {
            setup.merge(part);
        }
        setup
    });
    for result in &results {
        worker_busy.push(result.cpu.as_secs_f64() / duration.as_secs_f64().max(1e-9));
        worker_waiting.push(result.waited.as_secs_f64() / duration.as_secs_f64().max(1e-9));
    }
    Ok(Recording {
        recorder,
        duration,
        engine_cpu: crate::sys::process_cpu_time().saturating_sub(cpu_before),
        worker_busy,
        worker_waiting,
        connections: plan.connections,
        threads,
        pacing: plan.pacing,
        interrupted: interrupt.load(Ordering::Relaxed),
        setup,
        ws: None,
    })
}

struct WorkerSetup {
    addr: SocketAddr,
    requests: Vec<super::Request>,
    mix: Arc<[usize]>,
    timeout: Duration,
    duration: Option<Duration>,
    quota: Option<u64>,
    conns: Vec<usize>,
    pacing: Pacing,
    total_connections: usize,
    cpu: Option<usize>,
    progress: Arc<Padded>,
    ready: Arc<Barrier>,
    start: Arc<OnceLock<Instant>>,
    interrupt: Arc<AtomicBool>,
    warm: bool,
}

/// One load worker: pins itself, builds its runtime, warms its connections when asked, waits
/// for the shared start, drives its connections through the window, returns its record.
fn spawn_worker(setup: WorkerSetup) -> Result<WorkerResult, Error> {
    let pinned = setup
        .cpu
        .map(|cpu| crate::sys::pin_current_thread(&[cpu]).map_err(|e| (cpu, e)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime);
    let worker = Rc::new(Worker::new(
        setup.addr,
        setup.requests.into(),
        setup.mix.iter().copied().collect::<Vec<_>>().into(),
        setup.timeout,
        setup.quota,
        setup.conns.len(),
        setup.progress,
    ));
    let local = tokio::task::LocalSet::new();
    let interrupt = setup.interrupt;
    let mut streams: Vec<Option<tokio::net::TcpStream>> =
        setup.conns.iter().map(|_| None).collect();
    let mut warm_setup = None;
    if let (true, None | Some(Ok(())), Ok(runtime)) = (setup.warm, &pinned, &runtime) {
        let (part, warmed) = local.block_on(
            runtime,
            warm_all(&worker, &setup.conns, setup.timeout, &interrupt),
        );
        warm_setup = Some(part);
        streams = warmed;
    }
    setup.ready.wait();
    if let Some(Err((cpu, cause))) = pinned {
        return Err(Error::Pin { cpu, cause });
    }
    let runtime = runtime?;
    let start = *setup.start.get_or_init(Instant::now);
    let end = setup.duration.map(|d| start + d);
    worker.open_window(start, end);
    let cpu_before = crate::sys::thread_cpu_time();
    let wait_before = crate::sys::thread_run_queue_wait();
    let finished_at = local.block_on(&runtime, async {
        let mut tasks = Vec::with_capacity(setup.conns.len());
        for (slot, (&index, stream)) in setup.conns.iter().zip(streams).enumerate() {
            let schedule = match setup.pacing {
                Pacing::ClosedLoop => None,
                Pacing::ConstantRate { rate_per_s } => Some(Schedule::new(
                    start,
                    rate_per_s,
                    setup.total_connections,
                    index,
                )),
            };
            tasks.push(tokio::task::spawn_local(drive(
                worker.clone(),
                index,
                slot,
                schedule,
                stream,
            )));
        }
        let all_done = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        let ended = async {
            match end {
                Some(end) => tokio::time::sleep_until(end.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = all_done => {}
            _ = interrupted(&interrupt) => {}
            _ = ended => {}
        }
        let now = Instant::now();
        end.map_or(now, |end| now.min(end))
    });
    worker.close_window(finished_at);
    drop(local);
    let cpu = crate::sys::thread_cpu_time().saturating_sub(cpu_before);
    let waited = crate::sys::thread_run_queue_wait().saturating_sub(wait_before);
    let recorder = std::mem::take(&mut *worker.recorder.borrow_mut());
    Ok(WorkerResult {
        recorder,
        finished_at,
        cpu,
        waited,
        setup: warm_setup,
    })
}

/// Warms every connection of a worker at once, all bounded by one `timeout`; an interrupt
/// ends the set-up early (connections not yet warm count as failed).
async fn warm_all(
    worker: &Rc<Worker>,
    conns: &[usize],
    timeout: Duration,
    interrupt: &AtomicBool,
) -> (Setup, Vec<Option<tokio::net::TcpStream>>) {
    let deadline = Instant::now() + timeout;
    let mut tasks: Vec<_> = conns
        .iter()
        .map(|&index| tokio::task::spawn_local(warm_up(worker.clone(), index, deadline)))
        .collect();
    let mut warmed: Vec<Warmed> = Vec::with_capacity(conns.len());
    let collect = async {
        for task in tasks.iter_mut() {
            if let Ok(w) = task.await {
                warmed.push(w);
            } else {
                warmed.push(Warmed::failed());
            }
        }
    };
    tokio::select! {
        _ = collect => {}
        _ = interrupted(interrupt) => {}
    }
    for task in &tasks {
        task.abort();
    }
    warmed.resize_with(conns.len(), Warmed::failed);
    let mut part = Setup {
        opened: 0,
        failed: 0,
        wall_s: 0.0,
        slowest_connect_us: None,
    };
    let mut streams = Vec::with_capacity(conns.len());
    for w in warmed {
        if w.answered {
            part.opened += 1;
        } else {
            part.failed += 1;
        }
        let connect_us = w.connect.map(|d| d.as_micros() as u64);
        part.slowest_connect_us = part.slowest_connect_us.max(connect_us);
        streams.push(w.stream);
    }
    (part, streams)
}

/// Resolves once `interrupt` is set (polled every 50 ms).
async fn interrupted(interrupt: &AtomicBool) {
    while !interrupt.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Splits `n` requests over workers in proportion to their connections, exactly: the
/// remainder of the integer shares goes to the first workers.
fn split_count(n: u64, conns: Vec<usize>) -> Vec<u64> {
    let total: u64 = conns.iter().map(|&c| c as u64).sum();
    let mut shares: Vec<u64> = conns.iter().map(|&c| n * c as u64 / total.max(1)).collect();
    let mut left = n - shares.iter().sum::<u64>();
    for share in shares.iter_mut() {
        if left == 0 {
            break;
        }
        *share += 1;
        left -= 1;
    }
    shares
}

/// Request indices in weighted order, weights reduced by their greatest common divisor.
fn weighted_mix(plan: &LoadPlan) -> Vec<usize> {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = plan.requests.iter().fold(0, |g, r| gcd(g, r.weight.max(1)));
    let mut mix = Vec::new();
    for (i, r) in plan.requests.iter().enumerate() {
        mix.extend(std::iter::repeat_n(
            i,
            (r.weight.max(1) / g.max(1)) as usize,
        ));
    }
    mix
}

/// Fails fast, with a clear message, when nothing listens at the target.
pub(crate) fn preflight(addr: SocketAddr, timeout: Duration) -> Result<(), Error> {
    std::net::TcpStream::connect_timeout(&addr, timeout)
        .map(drop)
        .map_err(|source| Error::Unreachable { addr, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_counts_split_exactly() {
        assert_eq!(split_count(10_000, vec![32, 32]), vec![5000, 5000]);
        assert_eq!(split_count(10, vec![2, 1]), vec![7, 3]);
        assert_eq!(split_count(7, vec![1, 1, 1]).iter().sum::<u64>(), 7);
    }
}
