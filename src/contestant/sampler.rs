//! CPU time and memory of a contestant's whole process group, sampled from `/proc` on a
//! background thread: CPU is utime+stime of every process in the group (new ones included),
//! memory is the sum of RSS and PSS (`/proc/<pid>/smaps_rollup`) over the group.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::group::{group_pids, parse_stat};

/// Default time between samples.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// What a process group used while it was sampled.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    /// CPU time (user + system) used by the group between start and stop, in seconds.
    pub cpu_s: f64,
    /// Wall time between start and stop, in seconds.
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
}

/// A running sampler; [`Sampler::stop`] ends it and returns the totals.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Usage>>,
}

impl Sampler {
    /// Starts sampling process group `pgid` every `interval`.
    pub fn start(pgid: i32, interval: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("faceoff-sampler".into())
            .spawn(move || sample_loop(pgid, interval, &flag))
            .ok();
        Sampler { stop, handle }
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
    fn sample(&mut self, pgid: i32, first: bool, page_bytes: u64) {
        let pids = group_pids(pgid);
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

fn sample_loop(pgid: i32, interval: Duration, stop: &AtomicBool) -> Usage {
    // SAFETY: sysconf has no preconditions.
    let (ticks_per_s, page_bytes) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64,
            libc::sysconf(libc::_SC_PAGESIZE).max(1) as u64,
        )
    };
    let started = Instant::now();
    let mut totals = Totals::default();
    totals.sample(pgid, true, page_bytes);
    let mut next = started + interval;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now < next {
            std::thread::park_timeout(next - now);
            continue;
        }
        next += interval;
        totals.sample(pgid, false, page_bytes);
    }
    totals.sample(pgid, false, page_bytes);
    let ticks: u64 = totals.cpu_ticks.values().map(|(a, b)| b - a).sum();
    let n = u128::from(totals.samples.max(1));
    Usage {
        cpu_s: ticks as f64 / ticks_per_s,
        wall_s: started.elapsed().as_secs_f64(),
        samples: totals.samples,
        rss_mean_bytes: (totals.rss_sum / n) as u64,
        pss_mean_bytes: (totals.pss_sum / n) as u64,
        ..totals.usage
    }
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
    fn own_memory_is_readable() {
        let (rss, pss) = smaps_rollup(std::process::id() as i32).unwrap();
        assert!(rss > 0 && pss > 0);
    }
}
