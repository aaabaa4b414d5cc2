//! `faceoff bench URL`: the load engine on its own, pointed at one local server.

use std::process::ExitCode;

use crate::cli::BenchArgs;

/// Runs the benchmark described by `args` and prints its summary.
pub fn run(_args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
