//! The environment every figure carries: machine, kernel, runtimes, faceoff itself, which
//! CPUs served and which loaded, and how noisy this machine was when the run started.

use std::process::Command;

use serde::{Deserialize, Serialize};

/// Where and with what a run was measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cpus_online: usize,
    /// CPUs faceoff may use (its affinity set).
    pub cpus_allowed: Vec<usize>,
    /// CPUs the contestants were pinned to.
    pub server_cpus: Vec<usize>,
    /// CPUs the load engine was pinned to.
    pub load_cpus: Vec<usize>,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// Kernel release (uname -r).
    pub kernel: String,
    /// `node --version`, `python3 --version`, `rustc --version` (absent when missing).
    pub runtimes: std::collections::BTreeMap<String, String>,
    /// faceoff's own version.
    pub faceoff_version: String,
    /// This machine's trial-to-trial spread, measured at the start of the run (absent when
    /// skipped with `--no-calibration`, or in runs stored before it existed).
    #[serde(default)]
    pub noise: Option<Noise>,
}

/// This machine's own trial-to-trial noise: back-to-back short trials of one contestant on one
/// workload, with nothing changed between them. Differences between contestants smaller than
/// this spread are within what the machine does to a figure on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// Contestant measured.
    pub contestant: String,
    /// Workload measured.
    pub workload: String,
    /// Length of each trial in seconds.
    pub trial_s: f64,
    /// Throughput of each trial, in order (responses per second).
    pub rps: Vec<f64>,
    /// Median of `rps`.
    pub median_rps: f64,
    /// Half the range of `rps` relative to its median: the trials lay within +/- this share.
    pub rel_spread: f64,
}

impl Noise {
    /// The noise of some trials' throughputs; `None` with fewer than two, or a median of zero.
    pub fn of(contestant: &str, workload: &str, trial_s: f64, rps: Vec<f64>) -> Option<Noise> {
        if rps.len() < 2 {
            return None;
        }
        let median_rps = crate::stats::median(&rps)?;
        if median_rps <= 0.0 {
            return None;
        }
        let (lo, hi) = rps
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                (lo.min(r), hi.max(r))
            });
        Some(Noise {
            contestant: contestant.to_string(),
            workload: workload.to_string(),
            trial_s,
            rel_spread: (hi - lo) / 2.0 / median_rps,
            rps,
            median_rps,
        })
    }
}

impl std::fmt::Display for Noise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "machine noise: {} trials of {:.1} s of {} on {}, median {:.0} req/s, spread +/-{:.1}% \
             (differences smaller than this are within this machine's noise)",
            self.rps.len(),
            self.trial_s,
            self.workload,
            self.contestant,
            self.median_rps,
            self.rel_spread * 100.0
        )
    }
}

impl Environment {
    /// Reads the environment of this machine.
    pub fn capture(server_cpus: &[usize], load_cpus: &[usize]) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim())
            })
            .unwrap_or("unknown")
            .to_string();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_bytes = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let mut runtimes = std::collections::BTreeMap::new();
        for (name, program, arg) in [
            ("node", "node", "--version"),
            ("python", "python3", "--version"),
            ("rustc", "rustc", "--version"),
        ] {
            if let Some(v) = version_of(program, arg) {
                runtimes.insert(name.to_string(), v);
            }
        }
        Self {
            cpu_model,
            cpus_online: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .max(crate::sys::allowed_cpus().len()),
            cpus_allowed: crate::sys::allowed_cpus(),
            server_cpus: server_cpus.to_vec(),
            load_cpus: load_cpus.to_vec(),
            memory_bytes,
            kernel,
            runtimes,
            faceoff_version: env!("CARGO_PKG_VERSION").to_string(),
            noise: None,
        }
    }
}

fn version_of(program: &str, arg: &str) -> Option<String> {
    let out = Command::new(program).arg(arg).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    Some(String::from_utf8_lossy(&text).trim().to_string())
}

/// Default split of CPUs between contestants and the load engine: on two CPUs the server gets
/// the second and the engine the first; on more, the upper half serves and the lower half loads.
/// On one CPU both share it (and the run says so).
pub fn default_cpu_split(allowed: &[usize]) -> (Vec<usize>, Vec<usize>) {
    match allowed.len() {
        0 => (vec![0], vec![0]),
        1 => (allowed.to_vec(), allowed.to_vec()),
        n => {
            let half = n / 2;
            (allowed[half..].to_vec(), allowed[..half].to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_split() {
        assert_eq!(default_cpu_split(&[0, 1]), (vec![1], vec![0]));
        assert_eq!(default_cpu_split(&[0, 1, 2, 3]), (vec![2, 3], vec![0, 1]));
        assert_eq!(default_cpu_split(&[4]), (vec![4], vec![4]));
    }

    #[test]
    fn noise_is_half_the_range_over_the_median() {
        let n = Noise::of("a", "json", 1.0, vec![90.0, 100.0, 110.0, 100.0, 95.0]).unwrap();
        assert_eq!(n.median_rps, 100.0);
        assert!((n.rel_spread - 0.10).abs() < 1e-9);
        assert!(n.to_string().contains("+/-10.0%"), "{n}");
        assert_eq!(Noise::of("a", "json", 1.0, vec![100.0]), None);
        assert_eq!(Noise::of("a", "json", 1.0, vec![0.0, 0.0]), None);
    }

    #[test]
    fn captures_this_machine() {
        let env = Environment::capture(&[1], &[0]);
        assert!(!env.cpus_allowed.is_empty());
        assert!(env.memory_bytes > 0);
        assert_ne!(env.kernel, "unknown");
        let back: Environment =
            serde_json::from_value(serde_json::to_value(&env).unwrap()).unwrap();
        assert_eq!(back.noise, None);
        assert_eq!(back.server_cpus, vec![1]);
    }
}
