//! One file per subcommand: glue between the CLI and the library modules.

pub mod audit;
pub mod bench;
pub mod bench_output;
pub mod bench_ws;
pub mod claims;
pub mod export;
pub mod new_contestant;
pub mod report;
pub mod run;
pub mod select;
pub mod show;
pub mod verdict;
pub mod verify;

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cancel::Cancel;
use crate::cli::CpuList;
pub use crate::contestant::signals::EXIT_INTERRUPTED;
use crate::runner::prepare::BringUpOptions;

/// The command's cancellation token, set by the first Ctrl-C (or SIGTERM, SIGHUP), which also
/// stops every contestant and install faceoff started; a second one kills them and exits 130.
pub fn cancel_on_interrupt() -> anyhow::Result<Cancel> {
    crate::contestant::signals::cancel_on_interrupt()
        .context("could not install the Ctrl-C handler")
}

/// Where a command that brings contestants up one at a time (`verify`, `audit`) keeps things:
/// the install cache, `<cache>/<command>/<pid>` for datasets and logs, and the server CPUs.
///
/// The folder is this process's own: two commands running at once (two terminals, or tests in
/// parallel) would otherwise recreate each other's dataset under a live contestant, which then
/// answers with database errors. Folders of processes that have ended are removed when the next
/// command starts, so the last run's logs stay readable until then.
pub struct OneAtATime {
    cache: PathBuf,
    work: PathBuf,
    server_cpus: Vec<usize>,
}

impl OneAtATime {
    /// The folder of this command's datasets and logs.
    pub fn work_dir(&self) -> &std::path::Path {
        &self.work
    }

    /// The CPUs contestants run on.
    pub fn server_cpus(&self) -> &[usize] {
        &self.server_cpus
    }

    /// The places for `command`, with the server CPUs given or the default split.
    pub fn new(command: &str, server_cpus: Option<&CpuList>) -> anyhow::Result<OneAtATime> {
        let server_cpus = match server_cpus {
            Some(list) => list.0.clone(),
            None => crate::runner::environment::default_cpu_split(&crate::sys::allowed_cpus()).0,
        };
        let cache = crate::contestant::cache_dir();
        let parent = std::path::absolute(cache.join(command))
            .with_context(|| format!("resolving '{}'", cache.display()))?;
        remove_ended_work_dirs(&parent);
        let work = parent.join(std::process::id().to_string());
        Ok(OneAtATime {
            cache,
            work,
            server_cpus,
        })
    }

    /// Bring-up options for one worker per contestant, running `checks`.
    pub fn options<'a>(
        &'a self,
        checks: Vec<&'static str>,
        cancel: Cancel,
        postgres: Option<&'a crate::database::Postgres>,
    ) -> BringUpOptions<'a> {
        BringUpOptions {
            cache: &self.cache,
            data_dir: self.work.clone(),
            log_dir: self.work.clone(),
            server_cpus: &self.server_cpus,
            workers: 1,
            checks,
            cancel,
            postgres,
        }
    }
}

/// Removes the per-process folders under `parent` whose process has ended (best effort: a
/// folder that cannot be removed is left for the next command). Entries that are not a process
/// id, such as the datasets and logs older versions kept directly in `parent`, are removed too.
fn remove_ended_work_dirs(parent: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let alive = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
            .is_some_and(process_exists);
        if alive {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// Whether a process with this id exists (signal 0 checks without sending anything).
fn process_exists(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks the process; no signal is delivered.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_ended_processes_are_removed_and_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("faceoff-work-{}", std::process::id()));
        let live = dir.join(std::process::id().to_string());
        // Process ids are below 2^22 on Linux, so this one cannot exist.
        let ended = dir.join("99999999");
        let loose = dir.join("rust-axum.log");
        std::fs::create_dir_all(&live).unwrap();
        std::fs::create_dir_all(&ended).unwrap();
        std::fs::write(&loose, "old").unwrap();
        remove_ended_work_dirs(&dir);
        assert!(live.exists());
        assert!(!ended.exists());
        assert!(!loose.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
