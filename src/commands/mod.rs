//! One file per subcommand: glue between the CLI and the library modules.

pub mod audit;
pub mod bench;
pub mod bench_output;
pub mod bench_ws;
pub mod claims;
pub mod export;
pub mod report;
pub mod run;
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
/// the install cache, `<cache>/<command>` for datasets and logs, and the server CPUs.
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
        let work = std::path::absolute(cache.join(command))
            .with_context(|| format!("resolving '{}'", cache.display()))?;
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
