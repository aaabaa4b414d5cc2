//! CPU time and memory of a contestant's whole process group, sampled from `/proc` on a
//! background thread: CPU is utime+stime of every process in the group (new ones included),
//! memory is the sum of RSS and PSS (`/proc/<pid>/smaps_rollup`) over the group. It can also
//! read the busy time of the server CPUs (`/proc/stat`) at its first and last sample, so the
//! CPU that anything else used there over the same span is their difference (issue 8).
//!
//! A load's set-up (opening and warming its connections) comes before its measured window:
//! [`Sampler::open_window`] starts the count afresh there, so CPU time, the server CPUs' busy
//! time, wall time and mean memory cover the window (and the short drain after it) alone, as
//! the requests they are divided by do. Peaks still cover the whole span.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::group::{member_pids, parse_stat};

/// Default time between samples.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// What a process group used while it was sampled.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    /// CPU time (user + system) used by the group between start (or the window's opening, see
    /// [`Sampler::open_window`]) and stop, in seconds.
    pub cpu_s: f64,
    /// Wall time between start (or the window's opening) and stop, in seconds.
    pub wall_s: f64,
    /// Number of samples taken.
    pub samples: u32,
    /// Mean of the group's summed RSS over the samples, in bytes.
    pub rss_mean_bytes: u64,
    /// Highest summed RSS seen, in bytes.
    pub rss_peak_bytes: u64,
    /// Mean of the group's summed PSS over the samples, in bytes.
    pub pss_mean_bytes: u64,
    /// Highest summed PSS seen, in bytes.
    pub pss_peak_bytes: u64,
    /// Most processes seen in the group at once.
    pub processes_peak: u32,
    /// CPU seconds the watched server CPUs were busy (anything on them) over the same span as
    /// `cpu_s`; `None` when no CPUs were watched or `/proc/stat` could not be read.
    pub server_busy_s: Option<f64>,
}

/// CPUs a [`Sampler`] watches besides the group, and where its own thread runs.
#[derive(Debug, Clone, Default)]
pub struct CpuWatch {
    /// CPUs whose busy time (from `/proc/stat`) is read at the first and last sample.
    pub server_cpus: Vec<usize>,
    /// CPUs the sampler's own thread is pinned to (empty: not pinned), so its reads of `/proc`
    /// do not count as load on the server CPUs.
    pub sampler_cpus: Vec<usize>,
}

/// A running sampler; [`Sampler::stop`] ends it and returns the totals.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    window: Arc<AtomicBool>,
    handle: Option<JoinHandle<Usage>>,
}

impl Sampler {
    /// Starts sampling process group `pgid` every `interval`.
    pub fn start(pgid: i32, interval: Duration) -> Sampler {
        Self::start_watching(pgid, interval, CpuWatch::default())
    }

    /// Starts sampling process group `pgid` every `interval`, and the CPUs of `watch`.
    pub fn start_watching(pgid: i32, interval: Duration, watch: CpuWatch) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let window = Arc::new(AtomicBool::new(false));
        let flags = (stop.clone(), window.clone());
        let handle = std::thread::Builder::new()
            .name("faceoff-sampler".into())
            .spawn(move || {
                if !watch.sampler_cpus.is_empty() {
                    // Best effort: unpinned, the sampler still works, only less quietly.
                    let _ = crate::sys::pin_current_thread(&watch.sampler_cpus);
                }
                sample_loop(pgid, interval, &watch.server_cpus, &flags.0, &flags.1)
            })
            .ok();
        Sampler {
            stop,
            window,
            handle,
        }
    }

    /// Starts the count afresh now, as the measured window opens: what the group and the
    /// server CPUs used before (connection set-up) is left out of the totals. Only the first
    /// call counts.
    pub fn open_window(&self) {
        if !self.window.swap(true, Ordering::Relaxed) {
            if let Some(h) = &self.handle {
                h.thread().unpark();
            }
        }
    }

    /// Stops sampling (after one last sample) and returns what the group used.
    pub fn stop(mut self) -> Usage {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| {
                h.thread().unpark();
                h.join().ok()
            })
            .unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Totals {
    /// pid → (CPU ticks at first sight, latest CPU ticks).
    cpu_ticks: HashMap<i32, (u64, u64)>,
    samples: u32,
    rss_sum: u128,
    pss_sum: u128,
    usage: Usage,
}

impl Totals {
    /// Forgets the CPU counted and the memory averaged so far (the peaks stay): the next
    /// sample, taken as a first one, starts the count again.
    fn restart(&mut self) {
        self.cpu_ticks.clear();
        self.samples = 0;
        self.rss_sum = 0;
        self.pss_sum = 0;
    }

    fn sample(&mut self, pgid: i32, first: bool, page_bytes: u64) {
        let pids = member_pids(pgid);
        let (mut rss, mut pss) = (0u64, 0u64);
        for &pid in &pids {
            let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parse_stat(&s))
            else {
                continue;
            };
            let ticks = stat.utime_ticks + stat.stime_ticks;
            // A process already running at the first sample counts from there; one born later
            // counts from its birth.
            let entry = self
                .cpu_ticks
                .entry(pid)
                .or_insert((if first { ticks } else { 0 }, ticks));
            entry.1 = entry.1.max(ticks);
            match smaps_rollup(pid) {
                Some((r, p)) => {
                    rss += r;
                    pss += p;
                }
                None => {
                    rss += stat.rss_pages * page_bytes;
                    pss += stat.rss_pages * page_bytes;
                }
            }
        }
        self.samples += 1;
        self.rss_sum += u128::from(rss);
        self.pss_sum += u128::from(pss);
        let u = &mut self.usage;
        u.rss_peak_bytes = u.rss_peak_bytes.max(rss);
        u.pss_peak_bytes = u.pss_peak_bytes.max(pss);
        u.processes_peak = u.processes_peak.max(pids.len() as u32);
    }
}

fn sample_loop(
    pgid: i32,
    interval: Duration,
    server_cpus: &[usize],
    stop: &AtomicBool,
    window: &AtomicBool,
) -> Usage {
    let ticks_per_s = crate::sys::ticks_per_s();
    // SAFETY: sysconf has no preconditions.
    let page_bytes = unsafe { libc::sysconf(libc::_SC_PAGESIZE).max(1) as u64 };
    let watched = || (!server_cpus.is_empty()).then(|| crate::sys::read_cpu_ticks(server_cpus));
    let mut started = Instant::now();
    let mut totals = Totals::default();
    let mut server_before = watched();
    let mut window_open = false;
    totals.sample(pgid, true, page_bytes);
    let mut next = started + interval;
    while !stop.load(Ordering::Relaxed) {
        if !window_open && window.load(Ordering::Relaxed) {
            window_open = true;
            started = Instant::now();
            server_before = watched();
            totals.restart();
            totals.sample(pgid, true, page_bytes);
            next = started + interval;
            continue;
        }
        let now = Instant::now();
        if now < next {
            std::thread::park_timeout(next - now);
            continue;
        }
        next += interval;
        totals.sample(pgid, false, page_bytes);
    }
    totals.sample(pgid, false, page_bytes);
    let server_busy_s = match (server_before, watched()) {
        (Some(Some(before)), Some(Some(after))) => {
            Some(after.since(before).busy as f64 / ticks_per_s)
        }
        _ => None,
    };
    let ticks: u64 = totals.cpu_ticks.values().map(|(a, b)| b - a).sum();
    let n = u128::from(totals.samples.max(1));
    Usage {
        cpu_s: ticks as f64 / ticks_per_s,
        wall_s: started.elapsed().as_secs_f64(),
        samples: totals.samples,
        rss_mean_bytes: (totals.rss_sum / n) as u64,
        pss_mean_bytes: (totals.pss_sum / n) as u64,
        server_busy_s,
        ..totals.usage
    }
}

/// CPU ticks (user + system) used so far by the live processes of each group in `pgids`, in
/// the same order, from one pass over `/proc`.
pub fn groups_cpu_ticks(pgids: &[i32]) -> Vec<u64> {
    let mut ticks = vec![0u64; pgids.len()];
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return ticks;
    };
    for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
        let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        else {
            continue;
        };
        if let Some(i) = pgids.iter().position(|&g| stat.works_for(g)) {
            ticks[i] += stat.utime_ticks + stat.stime_ticks;
        }
    }
    ticks
}

/// (RSS, PSS) in bytes from `/proc/<pid>/smaps_rollup`.
fn smaps_rollup(pid: i32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    Some((field("Rss:")?, field("Pss:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_the_server_cpus_and_the_group() {
        let cpus = crate::sys::allowed_cpus();
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() };
        let sampler = Sampler::start_watching(
            pgid,
            Duration::from_millis(20),
            CpuWatch {
                server_cpus: cpus.clone(),
                sampler_cpus: cpus[..1].to_vec(),
            },
        );
        // Spin until this process has used 0.2 CPU-s (not 200 ms of wall time: on a busy
        // machine the spinning thread may get a small share of its CPU).
        let cpu_before = crate::sys::process_cpu_time();
        let wall = Instant::now();
        let mut x = 0u64;
        while crate::sys::process_cpu_time().saturating_sub(cpu_before) < Duration::from_millis(200)
            && wall.elapsed() < Duration::from_secs(30)
        {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
            }
        }
        let usage = sampler.stop();
        // This process spun for 0.2 CPU-s on those CPUs: both counters saw some of it.
        assert!(usage.server_busy_s.unwrap() > 0.05, "{usage:?}");
        assert!(usage.cpu_s > 0.05, "{usage:?}");
        assert!(groups_cpu_ticks(&[pgid, -5])[0] > 0);
        assert_eq!(groups_cpu_ticks(&[pgid, -5])[1], 0);
        assert_eq!(
            Sampler::start(pgid, DEFAULT_INTERVAL).stop().server_busy_s,
            None
        );
    }

    /// Spins the calling thread until it has used `cpu` of CPU time (bounded by 30 s of wall
    /// time, for a machine that gives it almost nothing).
    fn spin_for(cpu: Duration) {
        let before = crate::sys::thread_cpu_time();
        let wall = Instant::now();
        let mut x = 0u64;
        while crate::sys::thread_cpu_time().saturating_sub(before) < cpu
            && wall.elapsed() < Duration::from_secs(30)
        {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
            }
        }
    }

    #[test]
    fn counts_from_the_opening_of_the_window() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() };
        let began = Instant::now();
        let sampler = Sampler::start(pgid, Duration::from_millis(20));
        // The set-up: 1 CPU-s before the window, which must not count.
        spin_for(Duration::from_secs(1));
        let before_window = began.elapsed();
        sampler.open_window();
        sampler.open_window(); // a second opening changes nothing
        spin_for(Duration::from_millis(100));
        let whole = began.elapsed();
        let usage = sampler.stop();
        // The window saw this thread's 0.1 CPU-s (and whatever the tests beside it used in
        // that short span), not the second spent before it.
        assert!(usage.cpu_s >= 0.05, "{usage:?}");
        assert!(usage.cpu_s < 0.8, "{usage:?}");
        assert!(
            usage.wall_s < (whole - before_window).as_secs_f64() + 0.5,
            "{usage:?}"
        );
        assert!(usage.samples >= 2, "{usage:?}");
    }

    #[test]
    fn own_memory_is_readable() {
        let (rss, pss) = smaps_rollup(std::process::id() as i32).unwrap();
        assert!(rss > 0 && pss > 0);
    }
}
