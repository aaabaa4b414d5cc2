//! The environment every figure carries: machine, kernel, runtimes, faceoff itself, and which
//! CPUs served and which loaded: captures the store's [`Environment`] record.

use std::process::Command;

pub use crate::store::Environment;

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
        Environment {
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
    fn captures_this_machine() {
        let env = Environment::capture(&[1], &[0]);
        assert!(!env.cpus_allowed.is_empty());
        assert!(env.memory_bytes > 0);
        assert_ne!(env.kernel, "unknown");
        let back: Environment =
            serde_json::from_value(serde_json::to_value(&env).unwrap()).unwrap();
        assert_eq!(back.server_cpus, vec![1]);
    }
}
