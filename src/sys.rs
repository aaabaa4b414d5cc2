//! Thin, safe wrappers over the few Linux system calls faceoff needs: CPU affinity, the
//! open-files limit, per-thread CPU time, and the per-CPU counters of `/proc/stat`.

use std::time::Duration;

/// CPUs this process may run on, in ascending order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            return (0..n).collect();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// Pins the calling thread to `cpus`.
pub fn pin_current_thread(cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: as above; pid 0 is the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            if cpu >= libc::CPU_SETSIZE as usize {
                return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
            }
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Raises the soft limit on open files to the hard limit and returns the new soft limit.
pub fn raise_nofile_limit() -> u64 {
    // SAFETY: rlimit is plain data filled by the kernel.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        lim.rlim_cur
    }
}

/// The soft and hard limits on open descriptors of this process, after
/// [`raise_nofile_limit`] (`(1024, 1024)` when they cannot be read).
pub fn nofile_limits() -> (u64, u64) {
    let soft = raise_nofile_limit();
    // SAFETY: rlimit is plain data filled by the kernel.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (soft, soft);
        }
        (lim.rlim_cur, lim.rlim_max)
    }
}

/// CPU time (user + system) used so far by the calling thread.
pub fn thread_cpu_time() -> Duration {
    rusage(libc::RUSAGE_THREAD)
}

/// Time the calling thread has spent runnable but waiting on a run queue for a CPU, from
/// `/proc/thread-self/schedstat` (its second field, in ns); zero where the kernel keeps no
/// schedstats. A load thread that waits there was held back by other work on its CPU.
pub fn thread_run_queue_wait() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// CPU time (user + system) used so far by the whole process.
pub fn process_cpu_time() -> Duration {
    rusage(libc::RUSAGE_SELF)
}

fn rusage(who: libc::c_int) -> Duration {
    // SAFETY: rusage is plain data filled by the kernel.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut usage) != 0 {
            return Duration::ZERO;
        }
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(usage.ru_utime) + tv(usage.ru_stime)
    }
}

/// Clock ticks per second (`USER_HZ`), the unit of `/proc/stat` and `/proc/<pid>/stat`.
pub fn ticks_per_s() -> f64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64 }
}

/// Time some CPUs spent busy, and in all, in clock ticks, from `/proc/stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// Ticks running anything: user, nice, system, irq and softirq (guest time is inside
    /// user). Steal is left out: it is time the hypervisor gave to another machine, which no
    /// process here can have used.
    pub busy: u64,
    /// Ticks busy or idle (idle and iowait added), steal left out as above.
    pub total: u64,
}

impl CpuTicks {
    /// The ticks counted between `earlier` and `self` (zero where a counter went back).
    pub fn since(self, earlier: CpuTicks) -> CpuTicks {
        CpuTicks {
            busy: self.busy.saturating_sub(earlier.busy),
            total: self.total.saturating_sub(earlier.total),
        }
    }

    /// Busy share of the time counted (0 when nothing was counted).
    pub fn busy_share(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.busy as f64 / self.total as f64
        }
    }
}

/// Parses one per-CPU line of `/proc/stat` (`cpuN user nice system idle iowait irq softirq
/// steal ...`); the all-CPU `cpu` line and other lines give `None`.
pub fn parse_cpu_line(line: &str) -> Option<(usize, CpuTicks)> {
    let mut fields = line.split_whitespace();
    let cpu: usize = fields.next()?.strip_prefix("cpu")?.parse().ok()?;
    let v: Vec<u64> = fields.map_while(|f| f.parse().ok()).collect();
    let field = |i: usize| v.get(i).copied().unwrap_or(0);
    if v.len() < 4 {
        return None;
    }
    let busy = field(0) + field(1) + field(2) + field(5) + field(6);
    let idle = field(3) + field(4);
    Some((
        cpu,
        CpuTicks {
            busy,
            total: busy + idle,
        },
    ))
}

/// The summed ticks of `cpus` in the text of `/proc/stat`; `None` if one of them is missing.
pub fn cpu_ticks_of(stat: &str, cpus: &[usize]) -> Option<CpuTicks> {
    let lines: Vec<(usize, CpuTicks)> = stat.lines().filter_map(parse_cpu_line).collect();
    cpus.iter().try_fold(CpuTicks::default(), |sum, cpu| {
        let (_, t) = lines.iter().find(|(c, _)| c == cpu)?;
        Some(CpuTicks {
            busy: sum.busy + t.busy,
            total: sum.total + t.total,
        })
    })
}

/// The summed ticks of `cpus` now; `None` without `/proc/stat` or if a CPU is missing there.
pub fn read_cpu_ticks(cpus: &[usize]) -> Option<CpuTicks> {
    cpu_ticks_of(&std::fs::read_to_string("/proc/stat").ok()?, cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_per_cpu_lines() {
        let stat = "cpu  69416 0 7892 25995 414 0 58 191 0 0\n\
                    cpu0 34372 0 3703 13631 166 0 5 91 0 0\n\
                    cpu1 35043 2 4188 12363 248 7 53 100 0 0\n\
                    intr 378191 0 0\n";
        assert_eq!(
            parse_cpu_line("cpu  69416 0 7892 25995 414 0 58 191 0 0"),
            None
        );
        assert_eq!(parse_cpu_line("intr 1 2 3 4 5"), None);
        let one = cpu_ticks_of(stat, &[1]).unwrap();
        assert_eq!(one.busy, 35043 + 2 + 4188 + 7 + 53);
        assert_eq!(one.total, one.busy + 12363 + 248);
        let both = cpu_ticks_of(stat, &[0, 1]).unwrap();
        assert_eq!(both.busy, one.busy + 34372 + 3703 + 5);
        assert_eq!(cpu_ticks_of(stat, &[2]), None);
        let later = CpuTicks {
            busy: one.busy + 3,
            total: one.total + 10,
        };
        assert_eq!(later.since(one), CpuTicks { busy: 3, total: 10 });
        assert!((later.since(one).busy_share() - 0.3).abs() < 1e-9);
        assert_eq!(one.since(later), CpuTicks::default());
        assert_eq!(CpuTicks::default().busy_share(), 0.0);
    }

    #[test]
    fn reads_this_machine() {
        let cpus = allowed_cpus();
        let t = read_cpu_ticks(&cpus).unwrap();
        assert!(t.total > 0 && t.busy <= t.total);
    }

    #[test]
    fn affinity_round_trip() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        std::thread::spawn(move || {
            pin_current_thread(&cpus[..1]).unwrap();
            assert_eq!(allowed_cpus(), vec![cpus[0]]);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn cpu_time_moves() {
        let before = thread_cpu_time();
        let wall = std::time::Instant::now();
        let mut x = 0u64;
        while wall.elapsed() < Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        assert!(thread_cpu_time() > before);
    }
}
